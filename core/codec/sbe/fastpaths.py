"""What the per-message fast paths share: the header as one raw value, the view layout, argument lists.

Both directions read and write the whole header as ONE raw value (an unsigned int of the header's
size, or bytes for odd sizes): an encoder's struct is "header as one value + block (+ groups and var
data)", so the header costs one value to pack; decode reads it alone and validates it with one
dictionary lookup (or reads it with the message, see decodepaths). A message view has a header slot
at `_v[0]` (the raw header on the fast path; MESSAGE_VIEW_BASE: its block's values start at index 1).

The fast paths handle the common case only (exact header, values already in wire form, simple
groups); anything else raises inside them and the generated code falls back to the generic path of
the runtime, which produces the same bytes and reports errors precisely. Encode: `encodepaths`;
decode: `decodepaths`.
"""

from __future__ import annotations

import struct

from core.codec.sbe.plan import ModulePlan
from core.codec.sbe.runtime import CHUNK_VALUES

__all__ = [
    "ARGS_CHUNK",
    "CHUNK_VALUES",
    "MESSAGE_VIEW_BASE",
    "STRUCT_CACHE_MAX_COUNT",
    "call_expr",
    "header_key",
    "header_key_code",
    "tuple_expr",
]

MESSAGE_VIEW_BASE = 1  # index of a message view's first block value: _v[0] is the header slot
STRUCT_CACHE_MAX_COUNT = 256  # shapes with larger groups are not cached (nor unrolled)
# CPython compiles a call or tuple display of more than 30 stack values through a list, one append per
# value: longer argument lists are passed as a concatenation of tuple displays of at most this many.
ARGS_CHUNK = 26


def tuple_expr(values: list[str]) -> str:
    """A tuple display of `values` that compiles to BUILD_TUPLE (chunked and concatenated when long)."""
    chunks = [values[i : i + ARGS_CHUNK] for i in range(0, len(values), ARGS_CHUNK)] or [[]]
    return " + ".join(f"({', '.join(c)},)" if c else "()" for c in chunks)


def call_expr(fn: str, args: list[str]) -> str:
    """`fn(*args)` in the cheapest form: direct up to 30 arguments, else one prebuilt tuple."""
    if len(args) <= 30:
        return f"{fn}({', '.join(args)})"
    return f"{fn}(*({tuple_expr(args)}))"


def header_key_code(plan: ModulePlan) -> str:
    """struct code reading the whole header as one value."""
    assert plan.header is not None
    size = plan.header.block.size
    return {1: "B", 2: "H", 4: "I", 8: "Q"}.get(size, f"{size}s")


def header_key(plan: ModulePlan, block_length: int, template_id: int) -> int | bytes:
    """The raw header of a message of this schema as the one value header_key_code() reads."""
    assert plan.header is not None
    hb = plan.header.block
    names = [f.name for f in hb.fields]
    vals = [0] * hb.nvals
    for member, value in (
        ("blockLength", block_length),
        ("templateId", template_id),
        ("schemaId", plan.schema.id),
        ("version", plan.schema.version),
    ):
        vals[hb.fields[names.index(member)].index] = value
    raw = struct.pack(plan.order + hb.fmt, *vals)
    return struct.unpack(plan.order + header_key_code(plan), raw)[0]
