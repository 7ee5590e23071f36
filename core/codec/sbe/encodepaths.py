"""Source of each message's fast `encode`: the checks and conversions of the caller's values, then
direct pack_into calls of the header (one raw value) and the whole message.

What keeps it cheap (measured with `uv run aerodesk bench codec`):

- CPython passes up to 30 call arguments directly but compiles a longer call through a list, one
  append per value, which costs more than a second call: a message is packed with direct calls of
  at most CHUNK_VALUES values each (module structs `_P_<Message>_<i>`), the end of the message first,
  so a buffer too short fails before a byte is written.
- Var data: the last call also packs the data with the struct of their lengths (cached per shape);
  empty data needs neither encoding nor a lookup.
- Groups of entries given as their wire values: one encoder per shape (group counts, data lengths),
  made by the runtime (`_unrolled_encoder`) and cached, unpacks every entry into its own names
  (checking each entry's length) and packs them with direct calls: several times cheaper than a loop.
  Entries whose values need converting go through a loop and one pack_into of the shape's struct.
- Flat composites of their own class are read by index or one concatenation, not unpacked (a tuple
  subclass unpacks through an iterator).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from core.codec.sbe.fastpaths import (
    ARGS_CHUNK,
    CHUNK_VALUES,
    STRUCT_CACHE_MAX_COUNT,
    call_expr,
    header_key,
    header_key_code,
    tuple_expr,
)
from core.codec.sbe.plan import BlockPlan, FieldPlan, ModulePlan, literal

ENCODE_DOC = [
    '        """Writes header + message at the offset; returns the bytes written (header included).',
    "",
    "        Fields in schema order, positional or by name: enums as members, ints or names; sets as",
    "        ints, members or names; composites as instances, tuples or dicts; char arrays and var data",
    "        as str or bytes; groups as sequences of entry tuples (fields in order), dicts or entries.",
    '        """',
]
Segment = tuple[str, list[str]]  # (struct codes, value expressions) of a run of the message, in order


def fast_encode_method(
    b: BlockPlan, order: str, plan: ModulePlan, template_id: int
) -> tuple[list[str], list[str]]:
    """(class-body lines of the message's `encode`, module-level support lines)."""
    return _EncodeWriter(b, order, plan, template_id).write()


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _defaults(f: FieldPlan) -> str:
    if f.kind == "const" or f.optional:
        return "None"
    if f.kind == "set":
        return "0"
    if f.kind == "bytes":
        return 'b""'
    return "MISSING"


def _str_encode(p: str, codec: str) -> str:
    """`p.encode(...)` in its cheapest strict form (UTF-8 is str.encode's default). Strict: the rare
    text it refuses (surrogate escapes) takes the generic path, which writes the same bytes."""
    if codec.lower().replace("-", "").replace("_", "") == "utf8":
        return f"{p}.encode()"
    return f"{p}.encode({codec!r})"


def _data_bytes(p: str, dv: str, codec: str | None) -> str:
    """`dv` = the bytes of var data `p`: an empty str needs no encoding; values other than str go on
    as they are (bytes; anything else fails in len() or in the struct: generic path)."""
    enc = _str_encode(p, codec or "utf-8")
    return f'if {p}.__class__ is str:\n    {dv} = {enc} if {p} else b""\nelse:\n    {dv} = {p}'


def _dim_values(b: BlockPlan, k: int, n: str) -> list[str]:
    """Value expressions of group k's dimension: its blockLength, count `n`, other members 0."""
    g = b.groups[k]
    dim = ["0"] * g.dim.nvals
    dim[g.dim.bl_index] = str(g.block.size)
    dim[g.dim.n_index] = n
    return dim


def _chunks(segments: list[Segment]) -> list[Segment]:
    """Consecutive segments merged into runs of at most CHUNK_VALUES values (one pack_into each)."""
    out: list[Segment] = []
    count = CHUNK_VALUES + 1
    for fmt, vals in segments:
        if count + len(vals) > CHUNK_VALUES:
            out.append(("", []))
            count = 0
        out[-1] = (out[-1][0] + fmt, out[-1][1] + vals)
        count += len(vals)
    return out


@dataclass
class _EncodeWriter:
    b: BlockPlan
    order: str
    plan: ModulePlan
    template_id: int
    pre: list[str] = field(default_factory=list)  # checks and conversions (raise to fall back)
    taken: set[str] = field(default_factory=set)  # names in use in the method

    def __post_init__(self) -> None:
        b = self.b
        self.params = [f.param for f in b.fields] + [g.param for g in b.groups] + [d.param for d in b.data]
        self.taken = set(self.params)
        self.buf, self.off = _unique("_b", self.taken), _unique("_o", self.taken)
        self.s_, self.k_ = _unique("_S", self.taken), _unique("_k", self.taken)
        assert self.plan.header is not None
        self.fixed = self.plan.header.block.size + b.size  # bytes of header + block

    def write(self) -> tuple[list[str], list[str]]:
        b = self.b
        sig = [f"{f.param}={_defaults(f)}" for f in b.fields]
        sig += [f"{g.param}=()" for g in b.groups] + [f'{d.param}=b""' for d in b.data]
        generic = f"return _encode_generic({b.cls}, {self.buf}, {self.off}, {tuple_expr(self.params)})"
        params = f"{self.buf}, {self.off}, /, {', '.join(sig)}" if sig else f"{self.buf}, {self.off}, /"
        head = ["", "    @staticmethod", f"    def encode({params}) -> int:", *ENCODE_DOC]
        if not b.simple_entries:  # nested groups or entries with var data: the generic path only
            return [*head, f"        {generic}"], []
        self.pre.append(f"if {self.off} < 0:\n    raise _Fallback")  # pack_into counts those from the end
        segments = [(header_key_code(self.plan), [repr(header_key(self.plan, b.size, self.template_id))])]
        segments += self.block_segments()
        if b.groups and not all(g.block.passthrough for g in b.groups):
            body, module = self.looped(segments)
        else:
            body, module = self.chunked(segments)
        lines = [*head, "        try:"]
        for stmt in self.pre + body:
            lines += ["            " + ln for ln in stmt.split("\n")]
        lines += [
            "        except Exception:  # not the common case: the generic path converts or explains",
            "            pass",
            f"        {generic}",
        ]
        return lines, module

    # ---- the caller's values to wire values -------------------------------------------------------

    def block_segments(self) -> list[Segment]:
        """The block as one segment per field (padding before it included), converting the values."""
        b = self.b
        flats: list[tuple[str, str, list[str]]] = []
        segments: list[Segment] = []
        pos = 0
        for f in b.fields:
            values = self.field_values(f, f.param, self.pre, flats)
            if not f.nvals:
                continue
            pad = f"{f.offset - pos}x" if f.offset > pos else ""
            segments.append((pad + f.fmt, values))
            pos = f.offset + f.size
        if b.size > pos:
            segments.append((f"{b.size - pos}x", []))
        assert "".join(fmt for fmt, _ in segments) == b.fmt, (b.cls, b.fmt)
        self.pre += self.flatten(flats)
        return segments

    def field_values(self, f: FieldPlan, p: str, pre: list[str], flats: list | None = None) -> list[str]:
        """Wire-value expressions of field `f` given as `p`; checks go to `pre` (they raise to fall
        back). Flat composites of single-valued members go to `flats` when given (see flatten)."""
        k = f.kind
        if k == "const":
            pre.append(f"if {p} is not None:\n    raise _Fallback")
            return []
        if k in ("int", "float", "enum"):
            return [f"{literal(f.null)} if {p} is None else {p}"] if f.optional else [p]
        if k == "set":
            return [p]
        if k == "chars":
            pre.append(f"if {p}.__class__ is str:\n    {p} = {_str_encode(p, f.codec or 'ascii')}")
        if k in ("chars", "bytes"):  # the struct would pad or cut silently
            pre.append(f"if len({p}) > {f.length}:\n    raise _Fallback")
            return [p]
        if k in ("array", "flat"):  # unpacking checks the length (ValueError) faster than len()
            names = [_unique(f"_{p.lstrip('_')}_{j}", self.taken) for j in range(f.nvals)]
            if flats is not None and k == "flat" and f.nvals == len(getattr(f.type_obj, "members", ())):
                flats.append((p, f.cls, names))
            else:
                pre.append(f"{', '.join(names)}, = {p}")
            return names
        if k == "opaque":  # packed once at construction
            return [f"{p}._w"]
        raise AssertionError(k)

    @staticmethod
    def flatten(flats: list[tuple[str, str, list[str]]]) -> list[str]:
        """Statements reading flat composites' values. An instance of the composite's own class holds
        exactly one value per member, so it is read without a length check: by index for one
        composite, with one concatenation for several (unpacking a tuple subclass goes through an
        iterator, the costliest way). Anything else is unpacked, which checks its length."""
        if not flats:
            return []
        checks = " and ".join(f"{p}.__class__ is {cls}" for p, cls, _ in flats)
        unpack = "\n".join(f"    {', '.join(names)}, = {p}" for p, _, names in flats)
        if len(flats) == 1:
            p, _, names = flats[0]
            fast = "\n".join(f"    {n} = {p}[{j}]" for j, n in enumerate(names))
        else:
            targets = ", ".join(n for _, _, names in flats for n in names)
            fast = f"    {targets}, = {' + '.join(p for p, _, _ in flats)}"
        return [f"if {checks}:\n{fast}\nelse:\n{unpack}"]

    # ---- shapes: group counts and var data lengths --------------------------------------------------

    def shape(self, data_pre: bool = True) -> tuple[list[str], list[str], list[str], list[str]]:
        """(names holding the shape: each group's count then each var data's length; the limits a new
        shape is checked against; the conditions for caching it; the names of each var data's bytes).
        Their statements go to `pre` (the var data's only if `data_pre`)."""
        b = self.b
        keys: list[str] = []
        limits: list[str] = []
        cacheable: list[str] = []
        data: list[str] = []
        for i, g in enumerate(b.groups):
            n = _unique(f"_n{i}", self.taken)
            keys.append(n)
            self.pre.append(f"{n} = len({g.param})")
            limits.append(f"{n} > {g.dim.max_count}")
            cacheable.append(f"{n} <= {STRUCT_CACHE_MAX_COUNT}")
        for j, d in enumerate(b.data):
            dv, ln = _unique(f"_d{j}", self.taken), _unique(f"_l{j}", self.taken)
            keys.append(ln)
            data.append(dv)
            if data_pre:
                self.pre += [_data_bytes(d.param, dv, d.codec), f"{ln} = len({dv})"]
            limits.append(f"{ln} > {d.max_len}")
        return keys, limits, cacheable, data

    def lookup(self, keys: list[str], limits: list[str]) -> tuple[list[str], list[str]]:
        """(body lines leaving the shape's cached packer in `_S`, head of the module's `_mk_<cls>(key)`
        that builds it for a new shape)."""
        cls, s_, k_ = self.b.cls, self.s_, self.k_
        if len(keys) == 1:
            body, ref = [], keys[0]
        else:
            body, ref = [f"{k_} = ({', '.join(keys)})"], k_
        body.append(f"try:\n    {s_} = _SC_{cls}[{ref}]\nexcept KeyError:\n    {s_} = _mk_{cls}({ref})")
        module = [f"_SC_{cls}: dict = {{}}", "", "", f"def _mk_{cls}({k_}):"]
        module.append(f"    {keys[0]} = {k_}" if len(keys) == 1 else f"    {', '.join(keys)} = {k_}")
        module += [f"    if {' or '.join(limits)}:", "        raise _Fallback"]
        return body, module

    # ---- the encoders ---------------------------------------------------------------------------------

    def chunked(self, segments: list[Segment]) -> tuple[list[str], list[str]]:
        """Header and block with direct pack_into calls; var data with the last of them; groups of
        entries given as wire values with the shape's encoder; the end of the message first."""
        b, cls, buf, off = self.b, self.b.cls, self.buf, self.off
        chunks = _chunks(segments)
        offsets = [0]
        for fmt, _ in chunks:
            offsets.append(offsets[-1] + struct.calcsize(self.order + fmt))
        assert offsets[-1] == self.fixed, (cls, offsets, self.fixed)
        body: list[str] = []
        module: list[str] = []
        size = str(self.fixed)
        if b.groups:
            body, module, size = self.groups_tail()
        elif b.data:
            body, module, size = self.data_tail(chunks, offsets)
        structs = [
            f"_P_{cls}_{i} = _Struct({(self.order + fmt)!r}).pack_into" for i, (fmt, _) in enumerate(chunks)
        ]
        for i in range(len(chunks) - 1, -1, -1):
            at = off if offsets[i] == 0 else f"{off} + {offsets[i]}"
            body.append(call_expr(f"_P_{cls}_{i}", [buf, at, *chunks[i][1]]))
        return [*body, f"return {size}"], [*structs, *module]

    def data_tail(self, chunks: list[Segment], offsets: list[int]) -> tuple[list[str], list[str], str]:
        """The last chunk packs the var data too, with the struct of their lengths (takes it from
        `chunks`). A single var data given empty needs no lookup: the pad bytes of a zero length."""
        b, cls, s_ = self.b, self.b.cls, self.s_
        single = len(b.data) == 1
        keys, limits, _, data_names = self.shape(data_pre=not single)
        data_vals = [v for k, d in zip(keys, data_names, strict=True) for v in (k, d)]
        last_fmt, last_vals = chunks.pop()
        if len(last_vals) + len(data_vals) > CHUNK_VALUES:
            chunks.append((last_fmt, last_vals))
            last_fmt, last_vals = "", []
        at = f"{self.off} + {offsets[len(chunks)]}" if offsets[len(chunks)] else self.off
        lookup, module = self.lookup(keys, limits)
        data_fmt = " + ".join(f"{d.len_code!r} + str({k}) + 's'" for d, k in zip(b.data, keys, strict=True))
        module.append(
            f"    return _remember(_SC_{cls}, {self.k_}, "
            f"_Struct({(self.order + last_fmt)!r} + {data_fmt}).pack_into)"
        )
        call = call_expr(s_, [self.buf, at, *last_vals, *data_vals])
        size = " + ".join([str(self.fixed + sum(d.len_size for d in b.data)), *keys])
        if not single:
            return [*lookup, call], module, size
        d, ln, dv = b.data[0], keys[0], data_names[0]
        empty = call_expr(f"_E_{cls}", [self.buf, at, *last_vals])
        general = [_data_bytes(d.param, dv, d.codec), f"{ln} = len({dv})", *lookup, call]
        body = [
            f"if {d.param}.__class__ is str and not {d.param}:\n    {empty}\n    {ln} = 0\nelse:\n"
            + "\n".join("    " + line for stmt in general for line in stmt.split("\n"))
        ]
        empty_fmt = self.order + last_fmt + f"{d.len_size}x"
        module += ["", "", f"_E_{cls} = _Struct({empty_fmt!r}).pack_into  # empty data: a zero length"]
        return body, module, size

    def groups_tail(self) -> tuple[list[str], list[str], str]:
        """Groups (entries given as their wire values) and var data after the block, packed by the
        shape's encoder (runtime `_shape_encoder`: unrolled, cached) from the end of the block."""
        b, cls = self.b, self.b.cls
        keys, limits, cacheable, data_names = self.shape()
        lookup, module = self.lookup(keys, limits)
        groups = ", ".join(
            f"({g.dim.fmt!r}, ({', '.join(_dim_values(b, k, n))},), {g.block.fmt!r}, {g.block.nvals}, {n})"
            for k, (g, n) in enumerate(zip(b.groups, keys, strict=False))
        )
        data = ", ".join(f"({d.len_code!r}, {k})" for d, k in zip(b.data, keys[len(b.groups) :], strict=True))
        module.append(
            f"    return _shape_encoder(_SC_{cls}, {self.k_}, {self.order!r}, [{groups}], [{data}], "
            f"{' and '.join(cacheable)})"
        )
        n_ = _unique("_n", self.taken)
        args = [self.buf, f"{self.off} + {self.fixed}", *[g.param for g in b.groups], *data_names]
        return [*lookup, f"{n_} = {call_expr(self.s_, args)}"], module, f"{self.fixed} + {n_}"

    def looped(self, segments: list[Segment]) -> tuple[list[str], list[str]]:
        """Groups whose entries need converting: one list of every argument, the entries appended by
        a loop, one pack_into with the shape's struct (cached)."""
        b, cls = self.b, self.b.cls
        a_, e_ = _unique("_a", self.taken), _unique("_e", self.taken)
        keys, limits, cacheable, data_names = self.shape()
        body, module = self.lookup(keys, limits)
        fmt = [repr(self.order + "".join(fmt for fmt, _ in segments))]
        fmt += [f"{g.dim.fmt!r} + {g.block.fmt!r} * {n}" for g, n in zip(b.groups, keys, strict=False)]
        fmt += [
            f"{d.len_code!r} + str({k}) + 's'" for d, k in zip(b.data, keys[len(b.groups) :], strict=True)
        ]
        struct_ = f"_Struct({' + '.join(fmt)})"
        module.append(f"    return _remember(_SC_{cls}, {self.k_}, {struct_}, {' and '.join(cacheable)})")
        args = [self.buf, self.off, *[v for _, vals in segments for v in vals]]
        body.append(f"{a_} = [{', '.join(args[:ARGS_CHUNK])}]")  # a list built from a list copies twice
        for i in range(ARGS_CHUNK, len(args), ARGS_CHUNK):
            body.append(f"{a_} += ({', '.join(args[i : i + ARGS_CHUNK])},)")
        for k, (g, n) in enumerate(zip(b.groups, keys, strict=False)):
            body.append(f"{a_} += ({', '.join(_dim_values(b, k, n))},)")
            body.append(self.entries_loop(g.block, g.param, a_, e_))
        body += [f"{a_} += ({k}, {d})" for k, d in zip(keys[len(b.groups) :], data_names, strict=True)]
        return [*body, f"{self.s_}.pack_into(*{a_})", f"return {self.s_}.size"], module

    def entries_loop(self, entry: BlockPlan, param: str, a_: str, e_: str) -> str:
        """Appends every entry's wire values to the argument list. Unpacking the entry checks its
        length (entries of different sizes cannot compensate each other) and is cheaper than len()."""
        names = [_unique(f"_u{k}", self.taken) for k in range(len(entry.fields))]
        pre: list[str] = []
        exprs: list[str] = []
        for name, f in zip(names, entry.fields, strict=True):
            exprs += self.field_values(f, name, pre)
        body = "".join(f"    {ln}\n" for stmt in pre for ln in stmt.split("\n"))
        return (
            f"for {e_} in {param}:\n    {', '.join(names)}, = {e_}\n{body}    {a_} += ({', '.join(exprs)},)"
        )
