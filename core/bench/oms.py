"""oms benchmark: pre-trade risk checks per second, new orders through the engine, and the kill switch's
time from command to zero working orders with 1,000 resting orders. In process, engine level.

Baselines, measured in the same run:
- risk checks: decoding the SBE NewOrder being checked (the least work any order costs the oms);
- new order through the engine: the codec's share alone, decoding the input and encoding the two
  messages it produces (venue NewOrder and ExecutionReport) with the generated codec;
- kill switch: the codec's share alone, decoding the inputs (the command, the venues' cancel acks) and
  encoding the outputs (cancels, reports, risk events, acks).
Every limit is set so every check runs and passes (a refused order is cheaper). Nothing here is a
pass/fail threshold.
"""

from __future__ import annotations

import time
from decimal import Decimal

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.codec.messages import (
    BookSnapshot,
    Decimal64,
    ExecType,
    ExecutionReport,
    KillAction,
    KillSwitch,
    NewOrder,
    OperatorIdentity,
    OrdStatus,
    OrdType,
    Side,
    TimeInForce,
    decode,
)
from core.instruments import Instrument, InstrumentCatalog
from core.oms.engine import OmsEngine
from core.oms.outputs import OutputCollector
from core.risk.config import RiskConfig

T0 = 1_700_000_000_000_000_000
BTC = 1
VENUE = 1
BID, ASK = 5_999_950, 6_000_050
_OP = OperatorIdentity(user="bench", host="bench", pid=1, tool="bench")
BATCH = 100
# One BTC-USD-like instrument (px 1e-2, qty 1e-4), defined here so the figures do not move with static data.
BENCH_CATALOG = InstrumentCatalog([Instrument(BTC, "BTC-USD", "sim", "spot", "BTC", "USD", -2, -4)])


def _config() -> RiskConfig:
    cfg = RiskConfig(fx={"USDT": Decimal(1)})
    for name, value in {
        "max_order_qty": "100",
        "max_order_notional": "10000000",
        "max_position": "100000",
        "max_gross_exposure": "1000000000",
        "price_band_bps": "500",
        "order_rate": "1000000000",
        "order_rate_window_ms": "1000",
        "max_open_orders": "1000000",
        "daily_loss": "1000000",
        "vol_window_ms": "60000",
        "vol_threshold_bps": "1000",
        "vol_qty_factor": "0.5",
        "vol_band_factor": "0.5",
    }.items():
        cfg.limits.set(name, 0, 0, Decimal(value))
    return cfg


def _engine(catalog: InstrumentCatalog) -> tuple[OmsEngine, OutputCollector]:
    out = OutputCollector()
    engine = OmsEngine(catalog, _config(), out, venue_ids={"sim": VENUE})
    engine.on_message(
        T0,
        BookSnapshot.encode_bytes(
            instrumentId=BTC,
            seq=1,
            venueSeq=0,
            exchangeTs=T0,
            receiveTs=T0,
            publishTs=T0,
            bids=[(BID, 10_000, 1)],
            asks=[(ASK, 10_000, 1)],
        ),
    )
    return engine, out


def _new_order(cl: int, price: int, strategy: int = 1, qty: int = 100) -> bytes:
    return NewOrder.encode_bytes(
        correlationId=cl,
        clientId=7,
        strategyId=strategy,
        clOrdId=cl,
        orderId=0,
        instrumentId=BTC,
        venueId=VENUE,
        side=Side.Buy,
        ordType=OrdType.Limit,
        timeInForce=TimeInForce.GTC,
        flags=0,
        price=price,
        qty=qty,
        sendTs=0,
        triggerTs=0,
        operator=_OP,
    )


def _report(order_id: int, exec_type: ExecType, status: OrdStatus, exec_id: int) -> bytes:
    return ExecutionReport.encode_bytes(
        orderId=order_id,
        clOrdId=order_id,
        origClOrdId=0,
        strategyId=1,
        clientId=7,
        correlationId=0,
        instrumentId=BTC,
        venueId=VENUE,
        venueOrderId=str(order_id),
        execId=exec_id,
        execType=exec_type,
        ordStatus=status,
        side=Side.Buy,
        ordType=OrdType.Limit,
        timeInForce=TimeInForce.GTC,
        flags=0,
        price=1,
        qty=100,
        lastPx=None,
        lastQty=0,
        cumQty=0,
        leavesQty=0,
        avgPx=Decimal64(0, 0),
        fee=Decimal64(0, 0),
        reason=0,
        transactTs=0,
        ts=0,
        seq=exec_id,
        text=b"",
    )


def _rate(count: int, seconds: float) -> dict[str, float]:
    return {"value": count / seconds if seconds > 0 else float("inf")}


def run_oms_bench(
    checks: int = 200_000,
    orders: int = 20_000,
    resting: int = 1_000,
    kill_runs: int = 5,
    catalog: InstrumentCatalog | None = None,
    quick: bool = False,
) -> BenchReport:
    if quick:  # a smoke run: a tenth of the work (the 1,000 resting orders of the kill case stay)
        checks, orders, kill_runs = checks // 10, orders // 10, min(kill_runs, 2)
    cat = catalog if catalog is not None else BENCH_CATALOG
    report = BenchReport(f"oms: {checks:,} risk checks, {orders:,} orders, kill with {resting:,} resting")
    _risk_checks(report, cat, checks)
    _engine_orders(report, cat, orders)
    _kill_switch(report, cat, resting, kill_runs)
    return report


def _risk_checks(report: BenchReport, cat: InstrumentCatalog, n: int) -> None:
    engine, _ = _engine(cat)
    for i in range(50):  # some working orders and a position, so every check has something to count
        engine.on_message(T0 + i, _new_order(i + 1, BID - 100 * (i % 10)))
    check = engine.risk.check
    now = engine.now
    payload = _new_order(10**6, BID)
    assert check(1, 1, BTC, True, BID, 100, False, now) is None, "the benchmark order must pass every check"
    rec, base_rec = LatencyRecorder(), LatencyRecorder()
    clock = time.perf_counter_ns
    batches = max(1, n // BATCH)
    t_checks = t_decode = 0
    for _ in range(batches):
        t = clock()
        for _ in range(BATCH):
            check(1, 1, BTC, True, BID, 100, False, now)
        dt = clock() - t
        t_checks += dt
        rec.record(dt // BATCH)
        t = clock()
        for _ in range(BATCH):
            decode(payload)
        dt = clock() - t
        t_decode += dt
        base_rec.record(dt // BATCH)
    total = batches * BATCH
    t = clock()
    for _ in range(total):
        _noop(1, 1, BTC, True, BID, 100, False, now)
    noop_ns = (clock() - t) / total
    report.notes.append(
        f"calibration: an empty Python call with the same 8 arguments took {noop_ns:.0f} ns in this run; "
        f"a check cost {t_checks / total / noop_ns:.1f} of them (machine load scales both)"
    )
    p50, base_p50 = rec.percentiles()["p50"], base_rec.percentiles()["p50"]
    report.notes.append(
        f"at the median batch: {1e9 / max(p50, 1):,.0f} checks/s (decode {1e9 / max(base_p50, 1):,.0f}/s); "
        "the mean over all batches above includes the machine's load spikes"
    )
    report.cases.append(
        BenchCase(
            "pre-trade risk checks (all 11 run and pass)",
            "checks/s",
            _rate(total, t_checks / 1e9),
            "SBE decode of the NewOrder",
            _rate(total, t_decode / 1e9),
            ">= 200k checks/s",
        )
    )
    report.cases.append(
        BenchCase(
            "pre-trade risk check, per order (batches of 100)",
            "ns/op",
            _pct(rec),
            "SBE decode of the NewOrder",
            _pct(base_rec),
        )
    )


def _engine_orders(report: BenchReport, cat: InstrumentCatalog, n: int) -> None:
    engine, out = _engine(cat)
    payloads = [_new_order(i + 1, BID - (i % 50), strategy=1 + i % 4) for i in range(n)]
    rec, base_rec = LatencyRecorder(), LatencyRecorder()
    clock = time.perf_counter_ns
    on_message = engine.on_message
    for i, p in enumerate(payloads):
        t = clock()
        on_message(T0 + i * 1000, p)
        rec.record(clock() - t)
    assert engine.working_count == n, "every benchmark order must be accepted"
    outputs = [_reencoder(o.payload) for o in out.outputs]
    buf = bytearray(1 << 16)
    for i, p in enumerate(payloads):
        (enc1, args1), (enc2, args2) = outputs[2 * i], outputs[2 * i + 1]
        t = clock()
        decode(p)
        enc1(buf, 0, *args1)
        enc2(buf, 0, *args2)
        base_rec.record(clock() - t)
    report.cases.append(
        BenchCase(
            "new order through the engine (decode, checks, NewOrder + ER encoded)",
            "ns/op",
            _pct(rec),
            "codec only: decode the input, encode the 2 outputs",
            _pct(base_rec),
        )
    )


def _kill_switch(report: BenchReport, cat: InstrumentCatalog, resting: int, runs: int) -> None:
    rec, base_rec = LatencyRecorder(), LatencyRecorder()
    cancels = 0
    for run in range(runs):
        engine, out = _engine(cat)
        ts = T0
        for i in range(resting):
            ts += 1000
            engine.on_message(ts, _new_order(i + 1, BID - 100 - i % 200))
        for oid in range(1, resting + 1):
            ts += 1000
            engine.on_message(ts, _report(oid, ExecType.New, OrdStatus.New, oid))
        assert engine.working_count == resting
        kill = KillSwitch.encode_bytes(
            correlationId=1,
            clientId=9,
            action=KillAction.Engage,
            sendTs=0,
            operator=_OP,
            reason=f"bench run {run}",
        )
        acks = [
            _report(oid, ExecType.Canceled, OrdStatus.Canceled, resting + oid)
            for oid in range(1, resting + 1)
        ]
        mark = len(out.outputs)
        clock = time.perf_counter_ns
        t = clock()
        engine.on_message(ts + 1, kill)
        for k, ack in enumerate(acks):
            engine.on_message(ts + 2 + k, ack)
        elapsed = clock() - t
        assert engine.working_count == 0 and not engine.kill_draining, (
            "the kill must end with nothing working"
        )
        produced = [_reencoder(o.payload) for o in out.outputs[mark:]]
        buf = bytearray(1 << 16)
        cancels = sum(1 for o in out.outputs[mark:] if o.kind == "venue_order")
        t = clock()
        decode(kill)
        for p in acks:
            decode(p)
        for enc, args in produced:
            enc(buf, 0, *args)
        base_rec.record(clock() - t)
        rec.record(elapsed)
    to_ms = {k: v / 1e6 if k != "count" else v for k, v in rec.percentiles().items()}
    base_ms = {k: v / 1e6 if k != "count" else v for k, v in base_rec.percentiles().items()}
    report.cases.append(
        BenchCase(
            f"kill switch: command to zero working orders ({resting:,} resting)",
            "ms",
            {k: to_ms[k] for k in ("p50", "p99")},
            "codec only: decode the inputs, encode the outputs",
            {k: base_ms[k] for k in ("p50", "p99")},
        )
    )
    report.notes.append(
        f"kill: {cancels:,} cancels sent per run; venue acks are pre-encoded, applied at once "
        f"(engine time only); {runs} runs"
    )


def _reencoder(payload: bytes):
    """(encode function, field values) that write this message again: the codec's share of producing it."""
    m = decode(payload)
    return type(m).encode, [getattr(m, name) for name in type(m)._PARAMS]


def _noop(sid: int, aid: int, iid: int, buy: bool, px: int, qty: int, ioc: bool, now: int) -> None:
    return None


def _pct(rec: LatencyRecorder) -> dict[str, float]:
    p = rec.percentiles()
    return {k: float(p[k]) for k in ("p50", "p99", "p99.9")}
