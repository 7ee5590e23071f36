"""Source of the per-message fast paths: encode with one pack_into per message, decode with one
unpack_from per fixed block (and per run of simple group entries).

A fast path handles the common case only (exact header, values already in wire form, simple groups);
anything else raises inside it and the generated code falls back to the generic path of the runtime,
which produces the same bytes and reports errors precisely.
"""

from __future__ import annotations

from core.codec.sbe.plan import BlockPlan, FieldPlan, ModulePlan, literal

STRUCT_CACHE_MAX_COUNT = 256  # larger groups get an uncached struct per call
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


def _defaults(f: FieldPlan) -> str:
    if f.kind == "const" or f.optional:
        return "None"
    if f.kind == "set":
        return "0"
    if f.kind == "bytes":
        return 'b""'
    return "MISSING"


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _header_args(plan: ModulePlan, block_length: int, template_id: int) -> list[str]:
    assert plan.header is not None
    hb = plan.header.block
    names = [f.name for f in hb.fields]
    vals = ["0"] * hb.nvals
    for member, value in (
        ("blockLength", str(block_length)),
        ("templateId", str(template_id)),
        ("schemaId", str(plan.schema.id)),
        ("version", str(plan.schema.version)),
    ):
        vals[hb.fields[names.index(member)].index] = value
    return vals


def _field_expr(f: FieldPlan, p: str, pre: list[str], taken: set[str]) -> list[str]:
    """Wire-value expressions of one field for the pack call; checks go to `pre` (they raise _Fallback)."""
    k = f.kind
    if k == "const":
        pre.append(f"if {p} is not None:\n    raise _Fallback")
        return []
    if k in ("int", "float", "enum"):
        if f.optional:
            return [f"{literal(f.null)} if {p} is None else {p}"]
        return [p]
    if k == "set":
        return [p]
    if k == "chars":
        pre.append(f'if {p}.__class__ is str:\n    {p} = {p}.encode({f.codec!r}, "surrogateescape")')
        pre.append(f"if len({p}) > {f.length}:\n    raise _Fallback")
        return [p]
    if k == "bytes":
        pre.append(f"if len({p}) > {f.length}:\n    raise _Fallback")
        return [p]
    if k in ("array", "flat"):  # unpacking checks the length (ValueError) faster than len()
        names = [_unique(f"_{p.lstrip('_')}_{j}", taken) for j in range(f.nvals)]
        pre.append(f"{', '.join(names)}, = {p}")
        return names
    if k == "opaque":
        return [f"{p}._w"]
    raise AssertionError(k)


def _entries_loop(entry: BlockPlan, param: str, a_: str, e_: str, taken: set[str]) -> str:
    """Appends every entry's wire values to the argument list, one entry at a time. Unpacking the entry
    checks its length (entries of different sizes cannot compensate each other) and is cheaper than
    len(); `+=` of the entry tuple itself is the fastest flatten."""
    names = [_unique(f"_u{k}", taken) for k in range(len(entry.fields))]
    head = f"for {e_} in {param}:\n    {', '.join(names)}, = {e_}\n"
    if entry.passthrough:  # the entry tuple is its wire values
        return head + f"    {a_} += {e_}"
    pre: list[str] = []
    exprs: list[str] = []
    for name, f in zip(names, entry.fields, strict=True):
        exprs += _field_expr(f, name, pre, taken)
    lines = [ln for stmt in pre for ln in stmt.split("\n")]
    body = "".join(f"    {ln}\n" for ln in lines)
    return head + body + f"    {a_} += ({', '.join(exprs)},)"


def fast_encode_method(
    b: BlockPlan, order: str, plan: ModulePlan, template_id: int
) -> tuple[list[str], list[str]]:
    """(class-body lines of `encode`, module-level support lines)."""
    params = [f.param for f in b.fields] + [g.param for g in b.groups] + [d.param for d in b.data]
    taken = set(params)
    buf, off = _unique("_b", taken), _unique("_o", taken)
    s_, a_, k_, e_ = _unique("_S", taken), _unique("_a", taken), _unique("_k", taken), _unique("_e", taken)
    sig = [f"{f.param}={_defaults(f)}" for f in b.fields]
    sig += [f"{g.param}=()" for g in b.groups] + [f'{d.param}=b""' for d in b.data]
    cls = b.cls
    generic = f"return _encode_generic({cls}, {buf}, {off}, {tuple_expr(params)})"
    head = [
        "",
        "    @staticmethod",
        f"    def encode({buf}, {off}, /, {', '.join(sig)}) -> int:"
        if sig
        else f"    def encode({buf}, {off}, /) -> int:",
        '        """Writes header + message at the offset; returns the bytes written (header included).',
        "",
        "        Fields in schema order, positional or by name: enums as members, ints or names; sets as",
        "        ints, members or names; composites as instances, tuples or dicts; char arrays and var data",
        "        as str or bytes; groups as sequences of entry tuples (fields in order), dicts or entries.",
        '        """',
    ]
    fast_ok = all(g.block.fixed_only for g in b.groups)
    if not fast_ok:
        return [*head, f"        {generic}"], []
    pre: list[str] = [f"if {off} < 0:\n    raise _Fallback"]
    exprs: list[str] = []
    for f in b.fields:
        exprs += _field_expr(f, f.param, pre, taken)
    hdr = _header_args(plan, b.size, template_id)
    assert plan.header is not None
    fmt_head = order + plan.header.block.fmt + b.fmt
    module: list[str] = []
    body: list[str] = []
    if b.fixed_only:
        module.append(f"_S_{cls} = _Struct({fmt_head!r})")
        module.append(f"_P_{cls} = _S_{cls}.pack_into")
        body.append(call_expr(f"_P_{cls}", [buf, off, *hdr, *exprs]))
        body.append(f"return {plan.header.block.size + b.size}")
    else:
        keys: list[str] = []
        fmt_parts: list[str] = [repr(fmt_head)]
        cacheable: list[str] = []
        tail: list[str] = []  # pieces appended to the argument list after the fields
        limits: list[str] = []  # checked when a shape is first seen: cached shapes are within limits
        for i, g in enumerate(b.groups):
            n = _unique(f"_n{i}", taken)
            keys.append(n)
            pre.append(f"{n} = len({g.param})")
            limits.append(f"{n} > {g.dim.max_count}")
            dim = ["0"] * g.dim.nvals
            dim[g.dim.bl_index] = str(g.block.size)
            dim[g.dim.n_index] = n
            tail.append(f"{a_} += ({', '.join(dim)},)")
            tail.append(_entries_loop(g.block, g.param, a_, e_, taken))
            fmt_parts.append(f"{(g.dim.fmt)!r} + {g.block.fmt!r} * {n}")
            cacheable.append(f"{n} <= {STRUCT_CACHE_MAX_COUNT}")
        for j, d in enumerate(b.data):
            dv, ln = _unique(f"_d{j}", taken), _unique(f"_l{j}", taken)
            keys.append(ln)
            codec = d.codec or "utf-8"
            pre.append(
                f"{dv} = {d.param} if {d.param}.__class__ is bytes "
                f'else {d.param}.encode({codec!r}, "surrogateescape")'
            )
            pre.append(f"{ln} = len({dv})")
            limits.append(f"{ln} > {d.max_len}")
            tail.append(f"{a_} += ({ln}, {dv})")
            fmt_parts.append(f"{d.len_code!r} + str({ln}) + 's'")
        key = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
        module += [f"_SC_{cls}: dict = {{}}", "", "", f"def _mk_{cls}({k_}):"]
        if len(keys) == 1:
            module.append(f"    {keys[0]} = {k_}")
        else:
            module.append(f"    {', '.join(keys)} = {k_}")
        module += [f"    if {' or '.join(limits)}:", "        raise _Fallback"]
        module.append(
            f"    return _shape_struct(_SC_{cls}, {k_}, {' + '.join(fmt_parts)}, "
            f"{' and '.join(cacheable) or 'True'})"
        )
        if len(keys) == 1:
            body.append(f"{s_} = _SC_{cls}.get({key}) or _mk_{cls}({key})")
        else:
            body.append(f"{k_} = {key}")
            body.append(f"{s_} = _SC_{cls}.get({k_}) or _mk_{cls}({k_})")
        if not b.groups:  # var data only: one call with literal arguments
            args = hdr + exprs + [x for t in tail for x in t.split("+= ", 1)[1].strip("()").split(", ")]
            body.append(call_expr(f"{s_}.pack_into", [buf, off, *args]))
        else:  # one list of every argument, passed as is (a list built from a list copies twice)
            head_args = [buf, off, *hdr, *exprs]
            body.append(f"{a_} = [{', '.join(head_args[:ARGS_CHUNK])}]")
            for i in range(ARGS_CHUNK, len(head_args), ARGS_CHUNK):
                body.append(f"{a_} += ({', '.join(head_args[i : i + ARGS_CHUNK])},)")
            body += tail
            body.append(f"{s_}.pack_into(*{a_})")
        body.append(f"return {s_}.size")
    lines = [*head, "        try:"]
    for stmt in pre + body:
        lines += ["            " + ln for ln in stmt.split("\n")]
    lines += [
        "        except Exception:  # not the common case: the generic path converts or explains",
        "            pass",
        f"        {generic}",
    ]
    return lines, module


def fast_decode_function(b: BlockPlan, order: str, plan: ModulePlan) -> list[str]:
    """Module-level `_decode_<Message>(buffer, offset)` for a flat message with groups or var data: reads
    the group counts and data lengths, then the whole message with one cached struct of that shape.
    Returns None to hand over to the generic path (other block lengths, counts above the maximum)."""
    if b.fixed_only or not b.simple_entries:
        return []
    assert plan.header is not None
    hs = plan.header.block.size
    cls = b.cls
    keys: list[str] = []
    fmt: list[str] = [repr(order + b.fmt)]
    cacheable: list[str] = []
    lines: list[str] = []
    body = [f"def _decode_{cls}(_b, _o):", f"    _p = _o + {hs + b.size}"]
    for i, g in enumerate(b.groups):
        d = g.dim
        lines.append(f"_DIM_{cls}_{i} = _Struct({(order + d.fmt)!r}).unpack_from")
        body += [
            f"    _d = _DIM_{cls}_{i}(_b, _p)",
            f"    _n{i} = _d[{d.n_index}]",
            f"    if _d[{d.bl_index}] != {g.block.size} or _n{i} > {d.max_count}:",
            "        return None",
            f"    _p += {d.size} + {g.block.size} * _n{i}",
        ]
        keys.append(f"_n{i}")
        fmt.append(f"{d.fmt!r} + {g.block.fmt!r} * _n{i}")
        cacheable.append(f"_n{i} <= {STRUCT_CACHE_MAX_COUNT}")
    for j, dp in enumerate(b.data):
        lines.append(f"_LEN_{cls}_{j} = _Struct({(order + dp.len_code)!r}).unpack_from")
        body += [f"    _l{j} = _LEN_{cls}_{j}(_b, _p)[0]", f"    _p += {dp.len_size} + _l{j}"]
        keys.append(f"_l{j}")
        fmt.append(f"{dp.len_code!r} + str(_l{j}) + 's'")
    key = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
    lines += [
        f"_SCD_{cls}: dict = {{}}",
        "",
        "",
        f"def _mkd_{cls}(_k):",
        f"    {', '.join(keys)}{',' if len(keys) == 1 else ''} = {'(_k,)' if len(keys) == 1 else '_k'}",
        f"    return _shape_struct(_SCD_{cls}, _k, {' + '.join(fmt)}, {' and '.join(cacheable) or 'True'})",
        "",
        "",
    ]
    if cacheable:  # a struct for a huge count is costly to build: first make sure the bytes are there
        body += [f"    if not ({' and '.join(cacheable)}) and _p > len(_b):", "        return None"]
    body += [
        f"    _k = {key}",
        f"    _x = {cls}()",
        f"    _x._v = (_SCD_{cls}.get(_k) or _mkd_{cls}(_k)).unpack_from(_b, _o + {hs})",
        "    return _x",
    ]
    return lines + body + ["", ""]
