"""Codec benchmark: encode + decode of one message with the generated codecs, against one raw
`struct` pack_into + unpack_from of the same wire layout, measured in the same run.

Each sample is the mean ns/op of a batch of `batch` back-to-back operations, timed with the thread's
CPU clock by default (on a shared machine, wall time mostly measures the other processes); the report
gives the percentiles of those batch means (HDR histogram), ours and the baseline interleaved batch by
batch so noise hits both alike. "decode" means the module-level `decode()` returning the typed view
with every fixed block and group entry unpacked (attribute conversions happen on access).
"""

from __future__ import annotations

import gc
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.codec import messages as m

GOAL = "<= 1.5x"


@dataclass
class _Pair:
    name: str
    ours: Callable[[], object]
    baseline: Callable[[], object]
    baseline_name: str
    same_inputs: Callable[[], object]  # raw struct from the caller values ours gets (see module doc)


def _compile(src: str, env: dict) -> Callable[[], object]:
    """Builds a zero-argument function whose body passes every value positionally from locals, the way
    a caller holding the values would (no tuple splat on either side)."""
    ns: dict = {}
    exec(src, env, ns)  # the benchmark's own generated source, no outside input
    return ns["op"]


def _args(names: list[str], values: list) -> tuple[str, dict]:
    return ", ".join(names), dict(zip(names, values, strict=True))


def _new_order_pair(buf: bytearray) -> _Pair:
    op = m.OperatorIdentity(user="trader1", host="desk-host-01", pid=4242, tool="aerodesk")
    fields = [
        1_000_001,
        7,
        3,
        90_000_123,
        0,
        12,
        1,
        m.Side.Buy,
        m.OrdType.Limit,
        m.TimeInForce.GTC,
        m.OrderFlags.postOnly,
        6_512_300,
        1_500,
        1_722_000_000_123_456_789,
        1_722_000_000_123_400_000,
        op,
    ]
    names = [f"a{i}" for i in range(len(fields))]
    call, env = _args(names, fields)
    ours = _compile(
        f"def op({', '.join(f'{n}={n}' for n in names)}, buf=buf, enc=enc, dec=dec):\n"
        f"    enc(buf, 0, {call})\n    return dec(buf, 0)\n",
        {**env, "buf": buf, "enc": m.NewOrder.encode, "dec": m.decode},
    )
    wire = [m.NewOrder.BLOCK_LENGTH, 20, m.SCHEMA_ID, m.SCHEMA_VERSION, *fields[:-1], op._w]  # type: ignore[attr-defined]
    raw = struct.Struct("<HHHH" + m.NewOrder._META.struct.format.lstrip("<"))
    bnames = [f"w{i}" for i in range(len(wire))]
    bcall, benv = _args(bnames, wire)
    baseline = _compile(
        f"def op({', '.join(f'{n}={n}' for n in bnames)}, buf=buf, pack=pack, unpack=unpack):\n"
        f"    pack(buf, 0, {bcall})\n    return unpack(buf, 0)\n",
        {**benv, "buf": buf, "pack": raw.pack_into, "unpack": raw.unpack_from},
    )
    hdr = f"{m.NewOrder.BLOCK_LENGTH}, 20, {m.SCHEMA_ID}, {m.SCHEMA_VERSION}"
    same = _compile(
        f"def op({', '.join(f'{n}={n}' for n in names)}, buf=buf, pack=pack, unpack=unpack):\n"
        f"    pack(buf, 0, {hdr}, {', '.join(names[:-1])}, {names[-1]}._w)\n    return unpack(buf, 0)\n",
        {**env, "buf": buf, "pack": raw.pack_into, "unpack": raw.unpack_from},
    )
    return _Pair("NewOrder", ours, baseline, "raw struct pack_into+unpack_from (header+block)", same)


def _execution_report_pair(buf: bytearray) -> _Pair:
    fields = [
        55_000_001,
        90_000_123,
        0,
        3,
        7,
        1_000_001,
        12,
        1,
        "BN-7712345",
        8_800_001,
        m.ExecType.Trade,
        m.OrdStatus.PartiallyFilled,
        m.Side.Buy,
        m.OrdType.Limit,
        m.TimeInForce.GTC,
        m.OrderFlags(0),
        6_512_300,
        1_500,
        6_512_300,
        500,
        500,
        1_000,
        m.Decimal64(6_512_300, -2),
        m.Decimal64(-1_302, -4),
        m.Reason["None"],
        1_722_000_000_123_456_789,
        1_722_000_000_123_500_000,
        77,
        "",
    ]
    names = [f"a{i}" for i in range(len(fields))]
    call, env = _args(names, fields)
    ours = _compile(
        f"def op({', '.join(f'{n}={n}' for n in names)}, buf=buf, enc=enc, dec=dec):\n"
        f"    enc(buf, 0, {call})\n    return dec(buf, 0)\n",
        {**env, "buf": buf, "enc": m.ExecutionReport.encode, "dec": m.decode},
    )
    wire: list = [m.ExecutionReport.BLOCK_LENGTH, 23, m.SCHEMA_ID, m.SCHEMA_VERSION]
    for v in fields[:-1]:
        if isinstance(v, tuple):
            wire += list(v)
        elif isinstance(v, str):
            wire.append(v.encode())
        else:
            wire.append(v)
    wire += [0, b""]
    raw = struct.Struct("<HHHH" + m.ExecutionReport._META.struct.format.lstrip("<") + "H0s")
    bnames = [f"w{i}" for i in range(len(wire))]
    bcall, benv = _args(bnames, wire)
    baseline = _compile(
        f"def op({', '.join(f'{n}={n}' for n in bnames)}, buf=buf, pack=pack, unpack=unpack):\n"
        f"    pack(buf, 0, {bcall})\n    return unpack(buf, 0)\n",
        {**benv, "buf": buf, "pack": raw.pack_into, "unpack": raw.unpack_from},
    )
    conv = []
    for n, v in zip(names[:-1], fields[:-1], strict=True):
        conv.append(f"*{n}" if isinstance(v, tuple) else f"{n}.encode()" if isinstance(v, str) else n)
    hdr = f"{m.ExecutionReport.BLOCK_LENGTH}, 23, {m.SCHEMA_ID}, {m.SCHEMA_VERSION}"
    raw_any = struct.Struct("<HHHH" + m.ExecutionReport._META.struct.format.lstrip("<") + "H")
    tail = f"{names[-1]}.encode()"
    same = _compile(
        f"def op({', '.join(f'{n}={n}' for n in names)}, buf=buf, fmt=fmt, cache=cache, unpack=unpack):\n"
        f"    text = {tail}\n"
        f"    s = cache.get(len(text)) or cache.setdefault(len(text), Struct(fmt + str(len(text)) + 's'))\n"
        f"    s.pack_into(buf, 0, {hdr}, {', '.join(conv)}, len(text), text)\n"
        f"    return unpack(buf, 0)\n",
        {
            **env,
            "buf": buf,
            "fmt": raw_any.format,
            "cache": {},
            "Struct": struct.Struct,
            "unpack": raw.unpack_from,
        },
    )
    return _Pair(
        "ExecutionReport", ours, baseline, "raw struct pack_into+unpack_from (header+block+var data)", same
    )


def _book_snapshot_pair(buf: bytearray, levels: int = 20) -> _Pair:
    bids = [(6_512_300 - 10 * i, 1_000 + 37 * i, 1 + i % 5) for i in range(levels)]
    asks = [(6_512_310 + 10 * i, 900 + 41 * i, 1 + i % 3) for i in range(levels)]
    fields = [
        12,
        99_001,
        4_455_667,
        1_722_000_000_100_000_000,
        1_722_000_000_100_500_000,
        1_722_000_000_100_600_000,
    ]
    names = [f"a{i}" for i in range(len(fields))]
    call, env = _args(names, fields)
    ours = _compile(
        f"def op({', '.join(f'{n}={n}' for n in names)}, bids=bids, asks=asks, buf=buf, enc=enc, dec=dec):\n"
        f"    enc(buf, 0, {call}, bids, asks)\n    return dec(buf, 0)\n",
        {**env, "bids": bids, "asks": asks, "buf": buf, "enc": m.BookSnapshot.encode, "dec": m.decode},
    )
    entry = m.BookSnapshot_bids._META.struct.format.lstrip("<")
    raw = struct.Struct(
        "<HHHH"
        + m.BookSnapshot._META.struct.format.lstrip("<")
        + "HH"
        + entry * levels
        + "HH"
        + entry * levels
    )
    flat = (
        [m.BookSnapshot.BLOCK_LENGTH, 1, m.SCHEMA_ID, m.SCHEMA_VERSION, *fields, 20, levels]
        + [v for e in bids for v in e]
        + [20, levels]
        + [v for e in asks for v in e]
    )
    pack, unpack = raw.pack_into, raw.unpack_from
    values = tuple(flat)

    def baseline() -> object:  # above 30 arguments CPython passes a tuple anyway: splat the prepared one
        pack(buf, 0, *values)
        return unpack(buf, 0)

    head = [m.BookSnapshot.BLOCK_LENGTH, 1, m.SCHEMA_ID, m.SCHEMA_VERSION, *fields]

    def same_inputs() -> object:  # flatten the level tuples the way ours gets them, without checks
        a = [*head, 20, len(bids)]
        for e in bids:
            a += e
        a += (20, len(asks))
        for e in asks:
            a += e
        pack(buf, 0, *a)
        return unpack(buf, 0)

    return _Pair(
        f"BookSnapshot{levels}",
        ours,
        baseline,
        "raw struct pack_into+unpack_from (whole message)",
        same_inputs,
    )


def _check_same_bytes(pair: _Pair, buf: bytearray) -> None:
    """Every side must write the same message: otherwise the comparison is not like with like."""
    view = pair.ours()
    length = view.encoded_length  # type: ignore[attr-defined]
    want = bytes(buf[:length])
    for side, op in (("baseline", pair.baseline), ("same-inputs baseline", pair.same_inputs)):
        buf[:length] = bytes(length)
        op()
        if bytes(buf[:length]) != want:
            raise RuntimeError(f"codec bench {pair.name}: the {side} writes other bytes than the codec")


def _measure(
    pair: _Pair, iterations: int, batch: int, clock: Callable[[], int]
) -> tuple[LatencyRecorder, LatencyRecorder, LatencyRecorder]:
    ours_rec, base_rec, same_rec = LatencyRecorder(), LatencyRecorder(), LatencyRecorder()
    ours, base, same = pair.ours, pair.baseline, pair.same_inputs
    for _ in range(max(1, batch // 4)):  # warm caches (struct shapes, enum lookups)
        ours()
        base()
        same()
    batches = max(1, iterations // batch)
    rng = range(batch)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(batches):
            t0 = clock()
            for _ in rng:
                base()
            t1 = clock()
            for _ in rng:
                ours()
            t2 = clock()
            for _ in rng:
                same()
            t3 = clock()
            base_rec.record((t1 - t0) // batch)
            ours_rec.record((t2 - t1) // batch)
            same_rec.record((t3 - t2) // batch)
    finally:
        if gc_was_enabled:
            gc.enable()
    return ours_rec, base_rec, same_rec


def _case(pair: _Pair, ours: LatencyRecorder, base: LatencyRecorder, unit: str) -> BenchCase:
    o, b = ours.percentiles(), base.percentiles()
    keys = ("p50", "p99", "p99.9")
    return BenchCase(
        name=f"{pair.name} encode+decode",
        unit=unit,
        value={k: float(o[k]) for k in keys} | {"count": float(o["count"])},
        baseline_name=pair.baseline_name,
        baseline={k: float(b[k]) for k in keys} | {"count": float(b["count"])},
        goal=GOAL,
    )


CLOCKS = {"cpu": time.thread_time_ns, "wall": time.perf_counter_ns}


QUICK_ITERATIONS = 10_000


def run_codec_bench(
    iterations: int = 200_000, batch: int = 100, clock: str = "cpu", quick: bool = False
) -> BenchReport:
    """Benchmarks NewOrder, ExecutionReport and a 20-level BookSnapshot; ratios are ours / baseline (p50).
    `clock`: "cpu" (this thread's CPU time, the default) or "wall" (perf_counter); `quick`: a smoke
    run of QUICK_ITERATIONS per case."""
    if quick:
        iterations = min(iterations, QUICK_ITERATIONS)
    if iterations <= 0 or batch <= 0:
        raise ValueError("iterations and batch must be positive")
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    batch = min(batch, iterations)
    buf = bytearray(4096)
    pairs = [_new_order_pair(buf), _execution_report_pair(buf), _book_snapshot_pair(buf)]
    report = BenchReport(
        title="codec: encode+decode per message vs raw struct pack+unpack of the same layout"
    )
    stats_before = dict(m.CODEC_STATS)
    same_inputs: list[str] = []
    for pair in pairs:
        _check_same_bytes(pair, buf)
        ours, base, same = _measure(pair, iterations, batch, CLOCKS[clock])
        report.cases.append(_case(pair, ours, base, f"ns/op, {clock} time, batch mean"))
        o, s = ours.percentiles()["p50"], same.percentiles()["p50"]
        same_inputs.append(f"{pair.name} p50={s:,} ns ratio {o / s:.2f}x" if s else f"{pair.name} n/a")
    fallbacks = {k: m.CODEC_STATS[k] - stats_before[k] for k in stats_before}
    report.notes.append(
        f"per-op ns = {clock} time of a {batch}-op batch / {batch}; {max(1, iterations // batch)} batches "
        "per case; gc disabled while timing"
    )
    report.notes.append(
        "decode = header dispatch + typed view holding every block and group entry value (unpacked at "
        "once, not lazily); no attribute is read on either side (conversions happen on access)"
    )
    report.notes.append(
        "baseline = raw struct with values already in wire form (bytes, flattened composites and levels); "
        "ours converts from caller values (str, Decimal64, level tuples) and checks them"
    )
    report.notes.append(
        "same-inputs baseline (raw struct converting the same caller values, no checks): "
        + "; ".join(same_inputs)
    )
    report.notes.append(f"generic-path fallbacks during the run: {fallbacks} (0 = all fast paths)")
    return report
