"""Hypothesis strategies for any generated message: random field values, and the to_dict() result
those values must decode to (computed here from the values and the schema metadata, not by the codec).
"""

from __future__ import annotations

import enum
import math
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

MAX_ENTRIES = 3
MAX_DATA = 40
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def _int_range(f: Any) -> st.SearchStrategy[int]:
    ints = st.integers(f.lo, f.hi)
    if f.optional:
        return ints.filter(lambda v, null=f.null: v != null)
    return ints


def _enum_member_or_raw(f: Any) -> st.SearchStrategy[Any]:
    members = list(f.cls)
    raw = _int_range(f)
    choices = [raw]
    if members:
        choices.insert(0, st.sampled_from(members))
        choices.insert(0, st.sampled_from([m.name for m in members]))
    return st.one_of(*choices)


def _text(f: Any, max_bytes: int, codec: str | None) -> st.SearchStrategy[Any]:
    if codec in (None,):
        return st.binary(max_size=max_bytes)
    alphabet = PRINTABLE if codec == "ascii" else st.characters(codec=codec, exclude_characters="\0")
    return st.text(alphabet=alphabet, max_size=max_bytes).filter(
        lambda s: len(s.encode(codec, "surrogateescape")) <= max_bytes and not s.endswith("\0")
    )


def field_value(mod: ModuleType, f: Any) -> st.SearchStrategy[Any]:
    """User-level values the encoder must accept for field `f` (an `_F` of the generated module)."""
    kind = f.kind
    none = [st.none()] if f.optional else []
    if kind == "int":
        return st.one_of(*none, _int_range(f))
    if kind == "float":
        if f.prim == "float":
            vals = st.floats(width=32, allow_nan=False)
        else:
            vals = st.floats(allow_nan=False)
        return st.one_of(*none, vals)
    if kind == "enum":
        return st.one_of(*none, _enum_member_or_raw(f))
    if kind == "set":
        return st.integers(0, f.hi)
    if kind == "chars":
        return st.one_of(*none, _text(f, f.length, f.codec))
    if kind == "bytes":
        return st.binary(max_size=f.length)
    if kind == "array":
        conv = st.floats(width=32 if f.prim == "float" else 64, allow_nan=False)
        item = conv if f.prim in ("float", "double") else st.integers(f.lo, f.hi)
        return st.lists(item, min_size=f.nvals, max_size=f.nvals)
    if kind in ("flat", "opaque"):
        meta = f.cls._META
        members = {m.name: field_value(mod, m) for m in meta.fields if m.kind != "const"}
        as_dict = st.fixed_dictionaries(members)
        return (
            as_dict if kind == "opaque" else st.one_of(as_dict, as_dict.map(lambda d, c=f.cls: _flat(c, d)))
        )
    if kind == "const":
        return st.none()
    raise AssertionError(kind)


def _flat(cls: type, d: dict) -> Any:
    return cls(**d)


def block_values(mod: ModuleType, meta: Any, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for f in meta.fields:
        if f.kind != "const":
            parts[f.name] = field_value(mod, f)
    for g in meta.groups:
        parts[g.name] = st.lists(
            block_values(mod, g.block, depth + 1), max_size=MAX_ENTRIES - depth if depth < 2 else 1
        )
    for d in meta.data:
        parts[d.name] = _text(d, min(d.max_len, MAX_DATA), d.codec)
    return st.fixed_dictionaries(parts)


_CACHE: dict[type, st.SearchStrategy[dict[str, Any]]] = {}


def message_values(mod: ModuleType, cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """Encoder arguments by field name for message class `cls` (built once per class: strategy
    construction and validation dominate otherwise)."""
    strategy = _CACHE.get(cls)
    if strategy is None:
        strategy = _CACHE[cls] = block_values(mod, cls._META)
        strategy.validate()
    return strategy


# ---- what decoding must give back ---------------------------------------------------------------------


def _plain_const(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    return value


def expected_field(mod: ModuleType, f: Any, value: Any) -> Any:
    kind = f.kind
    if kind == "const":
        return _plain_const(f.const)
    if value is None and kind not in ("set", "bytes"):
        if kind in ("flat", "opaque"):
            return {m.name: expected_field(mod, m, None) for m in f.cls._META.fields}
        return None
    if kind == "int":
        return value
    if kind == "float":
        if f.prim == "float":
            import struct

            return struct.unpack("<f", struct.pack("<f", value))[0]
        return value
    if kind == "enum":
        if isinstance(value, str):
            return f.cls[value].name
        known = f.cls._value2member_map_.get(int(value))
        return known.name if known is not None else int(value)
    if kind == "set":
        value = int(value)
        names = f.cls._member_names_
        out = {n: bool(value & f.cls[n].value) for n in names}
        known = 0
        for n in names:
            known |= f.cls[n].value
        if value & ~known:
            out["_unknownBits"] = value & ~known
        return out
    if kind == "chars":
        raw = value.encode(f.codec, "surrogateescape") if isinstance(value, str) else value
        text = raw.rstrip(b"\0").decode(f.codec, "surrogateescape")
        return None if (f.optional and not text) else text
    if kind == "bytes":
        raw = value or b""
        return raw + bytes(f.length - len(raw))
    if kind == "array":
        if f.prim == "float":
            import struct

            return [struct.unpack("<f", struct.pack("<f", v))[0] for v in value]
        return list(value)
    if kind in ("flat", "opaque"):
        meta = f.cls._META
        if not isinstance(value, dict):
            value = dict(zip([m.name for m in meta.fields], value, strict=True))
        return {m.name: expected_field(mod, m, value.get(m.name)) for m in meta.fields}
    raise AssertionError(kind)


def expected_block(mod: ModuleType, meta: Any, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in meta.fields:
        out[f.name] = expected_field(mod, f, values.get(f.name))
    for g in meta.groups:
        out[g.name] = [expected_block(mod, g.block, e) for e in values.get(g.name, [])]
    for d in meta.data:
        v = values.get(d.name)
        if v is None:
            v = "" if d.codec else b""
        if d.codec and isinstance(v, bytes):
            v = v.decode(d.codec, "surrogateescape")
        out[d.name] = v
    return out


def same(a: Any, b: Any) -> bool:
    """Equality that treats floats by value (-0.0 == 0.0) and recurses through dicts and lists."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
