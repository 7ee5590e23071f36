"""Source of the fast decode: the module's `decode()` and each message's decoder.

A message shape (template, group counts, data lengths) has a spec (see the runtime's `_decode_spec`):
the struct of the whole message (the view's header slot first: an empty placeholder, the header
itself skipped), the header, counts and lengths it assumes, and its size. `decode()` reads the
header as one value and looks it up in `_FAST_DECODE`, which holds per message either a spec
(ONE unpack_from reads the message) or the message's decoder.

- A fixed-size message has one spec, always.
- A message with groups or var data starts with its decoder (`_decode_<Message>`): it reads the
  counts and lengths, takes the cached spec of that shape and unpacks the message with it. Once the
  shape came again DIRECT_AFTER times (a message with the shape of the one before it), that spec
  replaces the decoder in `_FAST_DECODE`: the message is then read with one unpack of that shape,
  and comparing the counts and lengths it read with the spec's confirms it. Another shape (a count
  or length that differs, or a buffer shorter than the shape: compared first, since a failed unpack
  raises an exception that costs more than the unpack) puts the decoder back (`_DECODERS`).

The state is per message, not per stream: in a market-data stream of book deltas with trades
between them, the deltas of a steady shape are read with one unpack and a trade costs its own
lookup only; no run of the stream is tracked, no guess is wasted on another template. Anything
unusual (another block length or version, a count above the maximum, a truncated buffer) goes to
the generic path, which reports it precisely.

Every per-message state lives in lists and dicts, never in module globals (measured: keeping the
repeat count in module globals made each message about 100 ns slower than keeping it in a list).
"""

from __future__ import annotations

from core.codec.sbe.fastpaths import MESSAGE_VIEW_BASE, STRUCT_CACHE_MAX_COUNT, header_key
from core.codec.sbe.plan import BlockPlan, ModulePlan

# A message shape is read directly (one unpack, no shape read) once a message came with the same
# shape as the one before it this many times (since its last promotion; counting costs one compare
# per message and a store only on a repeat). A guess costs a wasted unpack when the next shape
# differs: it pays when the same shape follows more often than not, and with shapes that vary at
# random the promotions are rare enough that the guesses they cost stay small.
DIRECT_AFTER = 8  # repeats


def header_slot_code(plan: ModulePlan) -> str:
    """struct codes of a view's header slot: an empty bytes (a shared object, nothing to allocate),
    then the header skipped. decode() has matched the header before it unpacks the message, and the
    view reads its header from the class (see the runtime's MessageView.header)."""
    assert plan.header is not None
    return f"0s{plan.header.block.size}x"


def fast_decode_function(b: BlockPlan, order: str, plan: ModulePlan, template_id: int) -> list[str]:
    """The decode spec of a fixed-size message (`_SPEC_<Message>`), or the decoder of a message with
    groups or var data (`_decode_<Message>(buffer, offset)`: its caller has matched the header; it
    returns the view, or None to hand over to the generic path). Messages with nested groups have
    neither (the generic path decodes them)."""
    if not b.simple_entries:
        return []
    assert plan.header is not None
    cls = b.cls
    key = repr(header_key(plan, b.size, template_id))
    if b.fixed_only:
        fmt = order + header_slot_code(plan) + b.fmt
        return [f"_SPEC_{cls} = _decode_spec({cls}, {key}, {fmt!r}, [])", "", ""]
    keys: list[str] = []
    fmt_parts: list[str] = [repr(order + header_slot_code(plan) + b.fmt)]
    cacheable: list[str] = []
    checks: list[str] = []  # lines of _mkd_: (index in the view, expected value) of each shape value
    support: list[str] = []
    body = [
        f"def _decode_{cls}(_b, _o):",
        f"    _p = _o + {plan.header.block.size + b.size}",
    ]
    last = len(b.groups) + len(b.data) - 1  # the position after the last one is not needed
    for i, g in enumerate(b.groups):
        d = g.dim
        end = f"_p + {d.size} + {g.block.size} * _n{i}"
        support.append(f"_DIM_{cls}_{i} = _Struct({(order + d.fmt)!r}).unpack_from")
        body += [
            f"    _d = _DIM_{cls}_{i}(_b, _p)",
            f"    _n{i} = _d[{d.n_index}]",
            f"    if _d[{d.bl_index}] != {g.block.size}:",
            "        return None",
            # rare: above the maximum, or a struct too costly to build for bytes that are not there
            f"    if _n{i} > {min(d.max_count, STRUCT_CACHE_MAX_COUNT)} and "
            f"(_n{i} > {d.max_count} or {end} > len(_b)):",
            "        return None",
        ]
        if i < last:
            body.append(f"    _p = {end}")
        keys.append(f"_n{i}")
        fmt_parts.append(f"{d.fmt!r} + {g.block.fmt!r} * _n{i}")
        cacheable.append(f"_n{i} <= {STRUCT_CACHE_MAX_COUNT}")
        checks += [
            f"    _c += [(_i + {d.bl_index}, {g.block.size}), (_i + {d.n_index}, _n{i})]",
            f"    _i += {d.nvals} + {g.block.nvals} * _n{i}",
        ]
    for j, dp in enumerate(b.data):
        support.append(f"_LEN_{cls}_{j} = _Struct({(order + dp.len_code)!r}).unpack_from")
        body.append(f"    _l{j} = _LEN_{cls}_{j}(_b, _p)[0]")
        if len(b.groups) + j < last:
            body.append(f"    _p += {dp.len_size} + _l{j}")
        keys.append(f"_l{j}")
        fmt_parts.append(f"{dp.len_code!r} + str(_l{j}) + 's'")
        checks += [f"    _c.append((_i, _l{j}))", "    _i += 2"]
    key_expr = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
    unpack_key = f"{keys[0]} = _k" if len(keys) == 1 else f"{', '.join(keys)} = _k"
    support += [
        f"_SCD_{cls}: dict = {{}}",
        f"_RUN_{cls}: list = [None, 0]  # the spec of the shape _decode_{cls} read last, repeats",
        "",
        "",
        f"def _mkd_{cls}(_k):",
        f"    {unpack_key}",
        f"    _i = {MESSAGE_VIEW_BASE + b.nvals}  # index in the view of the first group or data value",
        "    _c: list = []",
        *checks,
        f"    _e = _decode_spec({cls}, {key}, {' + '.join(fmt_parts)}, _c)",
        f"    return _remember(_SCD_{cls}, _k, _e, {' and '.join(cacheable) or 'True'})",
        "",
        "",
    ]
    body += [
        "    try:",
        f"        _e = _SCD_{cls}[{key_expr}]",
        "    except KeyError:",
        f"        _e = _mkd_{cls}({key_expr})",
        f"    _r = _RUN_{cls}",
        "    if _e is _r[0]:  # the same shape as this message's last one",
        "        _r[1] += 1",
        f"        if _r[1] == {DIRECT_AFTER}:  # decode() reads this shape directly from now on",
        "            _r[1] = 0",
        f"            _FAST_DECODE[{key}] = _e",
        "    else:",
        "        _r[0] = _e",
        f"    _x = {cls}()  # views have no __init__: the cheapest way to make one",
        "    _x._v = _e[0](_b, _o)",
        "    return _x",
    ]
    return [*support, *body, "", ""]


def decode_source(plan: ModulePlan) -> list[str]:
    """The module's `_FAST_DECODE` (raw header -> spec or decode function), `_DECODERS` and `decode()`."""
    table = ["_FAST_DECODE: dict = {  # the raw header of each message -> its spec or decode function"]
    decoders = ["_DECODERS: dict = {  # message with groups or var data -> decode function"]
    for mp in plan.messages:
        b = mp.block
        if b.simple_entries:
            key = header_key(plan, b.size, mp.message.id)
            table.append(f"    {key!r}: {f'_SPEC_{b.cls}' if b.fixed_only else f'_decode_{b.cls}'},")
            if not b.fixed_only:
                decoders.append(f"    {key!r}: _decode_{b.cls},")
    return [
        *table,
        "}",
        *decoders,
        "}",
        "",
        "",
        "def decode(buffer: object, offset: int = 0) -> MessageView:",
        '    """Decodes the message at `offset` into a view of the class its header names.',
        "",
        "    Raises TruncatedMessageError, UnknownTemplateError or SchemaMismatchError (all SbeError,",
        "    a ValueError); never returns a partly read message.",
        '    """',
        "    if offset >= 0:",
        "        try:",
        "            # the header, read as one value (a subscript is cheaper than .get(); the KeyError of an",
        "            # unknown template or another version or block length goes to the generic path)",
        "            e = _FAST_DECODE[_hkey(buffer, offset)[0]]",
        "            if e.__class__ is tuple:  # a fixed-size message, or the shape its message had last",
        "                x = e[3]",
        "                if x is None:  # fixed size: one unpack",
        "                    v = e[5]()  # views have no __init__: the cheapest way to make one",
        "                    v._v = e[0](buffer, offset)",
        "                    return v",
        "                if offset + e[6] <= len(buffer):  # (a short buffer would cost an exception)",
        "                    t = e[0](buffer, offset)  # the whole message, one unpack",
        "                    # the group counts and data lengths read are the ones that struct assumed",
        "                    if t[e[2]] == x and (e[4] is None or e[4][0](t) == e[4][1]):",
        "                        v = e[5]()",
        "                        v._v = t",
        "                        return v",
        "                x = e[1]",
        "                e = _FAST_DECODE[x] = _DECODERS[x]  # another shape: read the shape first again",
        "            v = e(buffer, offset)  # the message's decoder",
        "            if v is not None:",
        "                return v",
        "        except (_struct_error, KeyError, TypeError):  # the generic path explains",
        "            pass",
        "    return _decode_generic(buffer, offset)",
        "",
        "",
    ]
