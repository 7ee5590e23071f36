"""Source of the fast decode: the module's `decode()` and each message's decoder.

A message shape (template, group counts, data lengths) has a spec (see the runtime's `_decode_spec`):
the struct of the whole message (the raw header first, as one value, into the view's header slot),
the header, counts and lengths it assumes, and its size. Per message, `decode()` holds an entry:
a spec (ONE unpack_from reads the message), or the message's reader entry (`_RD_<Message>`: its
decoder reads the shape first).

- A fixed-size message has one spec, always.
- A message with groups or var data starts with its reader entry: the decoder (`_decode_<Message>`)
  reads the counts and lengths, takes the cached spec of that shape and unpacks the message with
  it. Once the shape came again DIRECT_AFTER times (a message with the shape of the one before
  it), that spec becomes the message's entry: the message is then read with one unpack of that
  shape, and comparing the counts and lengths it read with the spec's confirms it. Another shape
  (a count or length that differs, or a buffer shorter than the shape: compared first, since a
  failed unpack raises an exception that costs more than the unpack) puts the reader entry back.

Finding the entry: `decode()` indexes `_DIRECT`, a list, with ONE byte of the template id (the low
byte: an index costs far less than unpacking the header and hashing it), and the header read with
the message confirms the entry. A byte two messages of the schema share, a header that does not
match (another version, an unknown template) and a buffer that cannot be indexed (pyaeron's
BufferView) take the keyed way: the header read as one value and looked up in `_FAST_DECODE`. Both
tables always hold the same entry for a message (`_DECODERS` holds the reader entries).

The state is per message, not per stream: in a market-data stream of book deltas with trades
between them, the deltas of a steady shape are read with one unpack and a trade costs its own
lookup only; no run of the stream is tracked, no guess is wasted on another template. Anything
unusual (another block length or version, a count above the maximum, a truncated buffer) goes to
the generic path, which reports it precisely.

Every per-message state lives in lists and dicts, never in module globals (measured: keeping the
repeat count in module globals made each message about 100 ns slower than keeping it in a list).
"""

from __future__ import annotations

from core.codec.sbe.fastpaths import MESSAGE_VIEW_BASE, STRUCT_CACHE_MAX_COUNT, header_key, header_key_code
from core.codec.sbe.plan import BlockPlan, ModulePlan

# A message shape is read directly (one unpack, no shape read) once a message came with the same
# shape as the one before it this many times (since its last promotion; counting costs one compare
# per message and a store only on a repeat). A guess costs a wasted unpack when the next shape
# differs: it pays when the same shape follows more often than not, and with shapes that vary at
# random the promotions are rare enough that the guesses they cost stay small.
DIRECT_AFTER = 8  # repeats


NO_SLOT = 256  # the `_DIRECT` slot of a message that shares its template id byte: never read


def header_slot_code(plan: ModulePlan) -> str:
    """struct code of a view's header slot: the raw header as one value, which decode() compares
    with the spec's (the view reads its header from the class: see the runtime's MessageView.header)."""
    return header_key_code(plan)


def template_byte(plan: ModulePlan) -> tuple[int, dict[int, int]]:
    """(offset in the header of the template id's low byte, the `_DIRECT` slot of each template id:
    its low byte, or NO_SLOT when another message of the schema has the same low byte)."""
    assert plan.header is not None
    tid = next(f for f in plan.header.block.fields if f.name == "templateId")
    at = tid.offset if plan.order == "<" or tid.size == 1 else tid.offset + tid.size - 1
    lows = [mp.message.id & 0xFF for mp in plan.messages]
    return at, {
        i: (i & 0xFF if lows.count(i & 0xFF) == 1 else NO_SLOT)
        for i in (mp.message.id for mp in plan.messages)
    }


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
    slot = template_byte(plan)[1][template_id]
    if b.fixed_only:
        fmt = order + header_slot_code(plan) + b.fmt
        return [f"_SPEC_{cls} = _decode_spec({cls}, {key}, {fmt!r}, [], {slot})", "", ""]
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
        f"    _e = _decode_spec({cls}, {key}, {' + '.join(fmt_parts)}, _c, {slot})",
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
        f"            _FAST_DECODE[{key}] = _DIRECT[{slot}] = _e",
        "    else:",
        "        _r[0] = _e",
        f"    _x = {cls}()  # views have no __init__: the cheapest way to make one",
        "    _x._v = _e[0](_b, _o)",
        "    return _x",
        "",
        "",
        f"_RD_{cls} = (_decode_{cls}, {key}, 0, -1, None, {cls}, 0, {slot})  # reader entry (-1: no shape)",
    ]
    return [*support, *body, "", ""]


def decode_source(plan: ModulePlan) -> list[str]:
    """The module's `_DIRECT` (template id byte -> entry), `_FAST_DECODE` (raw header -> entry),
    `_DECODERS` (raw header -> reader entry) and `decode()`."""
    table = ["_FAST_DECODE: dict = {  # the raw header of each message -> its spec or reader entry"]
    decoders = ["_DECODERS: dict = {  # message with groups or var data -> its reader entry"]
    at, slots = template_byte(plan)
    direct = [
        f"# each message's spec or reader entry by the low byte of its template id (slot {NO_SLOT}: those",
        "# sharing their byte, never read)",
        f"_DIRECT: list = [None] * {NO_SLOT + 1}",
    ]
    for mp in plan.messages:
        b = mp.block
        if b.simple_entries:
            key = header_key(plan, b.size, mp.message.id)
            entry = f"_SPEC_{b.cls}" if b.fixed_only else f"_RD_{b.cls}"
            table.append(f"    {key!r}: {entry},")
            if not b.fixed_only:
                decoders.append(f"    {key!r}: {entry},")
            if slots[mp.message.id] != NO_SLOT:
                direct.append(f"_DIRECT[{slots[mp.message.id]}] = {entry}")
    return [
        *direct,
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
        "            try:",
        f"                e = _DIRECT[buffer[offset + {at}]]",
        "            except (IndexError, TypeError):  # too short (explained below), or not indexable",
        "                e = None",
        "            if e is not None:",
        "                x = e[3]",
        "                if x is None:  # fixed size: the header read with the message confirms the spec",
        "                    t = e[0](buffer, offset)",
        "                    if t[0] == e[1]:",
        "                        v = e[5]()  # views have no __init__: the cheapest way to make one",
        "                        v._v = t",
        "                        return v",
        "                elif x < 0:  # groups or var data: the message's decoder reads the shape",
        "                    if _hkey(buffer, offset)[0] == e[1]:",
        "                        v = e[0](buffer, offset)",
        "                        return v if v is not None else _decode_generic(buffer, offset)",
        "                elif offset + e[6] <= len(buffer):  # (a short buffer would cost an exception)",
        "                    t = e[0](buffer, offset)  # the shape its message had last, one unpack",
        "                    if t[0] == e[1]:",
        "                        # the group counts and data lengths read are the ones that struct assumed",
        "                        if t[e[2]] == x and (e[4] is None or e[4][0](t) == e[4][1]):",
        "                            v = e[5]()",
        "                            v._v = t",
        "                            return v",
        "                        x = e[1]  # another shape: read the shape first again",
        "                        e = _FAST_DECODE[x] = _DIRECT[e[7]] = _DECODERS[x]",
        "                        v = e[0](buffer, offset)",
        "                        return v if v is not None else _decode_generic(buffer, offset)",
        "            # the header, read as one value (a subscript is cheaper than .get(); the KeyError of an",
        "            # unknown template or another version or block length goes to the generic path)",
        "            e = _FAST_DECODE[_hkey(buffer, offset)[0]]",
        "            x = e[3]",
        "            if x is None:  # fixed size: one unpack",
        "                v = e[5]()",
        "                v._v = e[0](buffer, offset)",
        "                return v",
        "            if x >= 0:  # the shape its message had last",
        "                if offset + e[6] <= len(buffer):",
        "                    t = e[0](buffer, offset)",
        "                    if t[e[2]] == x and (e[4] is None or e[4][0](t) == e[4][1]):",
        "                        v = e[5]()",
        "                        v._v = t",
        "                        return v",
        "                x = e[1]  # another shape: read the shape first again",
        "                e = _FAST_DECODE[x] = _DIRECT[e[7]] = _DECODERS[x]",
        "            v = e[0](buffer, offset)  # the message's decoder",
        "            if v is not None:",
        "                return v",
        "        except (_struct_error, KeyError, TypeError):  # the generic path explains",
        "            pass",
        "    return _decode_generic(buffer, offset)",
        "",
        "",
    ]
