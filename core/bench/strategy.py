"""Strategy host benchmark: market-data messages through the host to the market maker, per message and
per second, against baselines measured in the same run on the same messages.

The feed is the seeded synthetic BTC-USD market, encoded as the md stream carries it (SBE BookSnapshot
/ BookDelta / Trade with the md's sequence). Each timed step is what a strategy daemon does per md
fragment: decode, keep the book, call the strategy, collect its requests; the market maker's requests
are acknowledged as the oms would (New / Replaced ExecutionReports, fed back after the md message and
timed with it), so it keeps requoting as it would live.

Baselines, same messages:
- decode + FastL2Book: the floor any consumer of the md stream pays;
- the host with a strategy that does nothing: the host's own cost per message (routing, book,
  callback dispatch).
Nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.agent.clock import SimulatedClock
from core.backtest.md import MdEncoder
from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.book import BookSide, FastL2Book
from core.codec.messages import (
    BookDelta,
    BookSnapshot,
    Decimal64,
    ExecType,
    ExecutionReport,
    NewOrder,
    OrdStatus,
    ReplaceOrder,
    decode,
)
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, SyntheticMarket
from core.strategy.api import Strategy
from core.strategy.builtin.market_maker import MarketMaker
from core.strategy.config import HostConfig, strategy_spec
from core.strategy.host import HostIdentity, StrategyHost

_MM_PARAMS = {
    "instrument": "BTC-USD",
    "quote_size": "0.01",
    "max_position": "0.2",
    "spread_ticks": 50,
    "skew_ticks_per_unit": "250",
    "requote_ticks": 25,
    "max_orders_per_s": 1000,  # the benchmark measures the host, not the throttle
}


@dataclass(frozen=True)
class _IdleParams:
    instrument: Instrument


class _Idle(Strategy):
    """Subscribed to one instrument, does nothing: the host's own cost per message."""

    Params = _IdleParams


def run_strategy_bench(quick: bool = False, seed: int = 1) -> BenchReport:
    n = 5_000 if quick else 40_000
    catalog = load_instruments()
    btc = catalog.resolve("BTC-USD")
    market = SyntheticMarket(
        btc, SyntheticParams.for_instrument(btc, "60000", level_spacing_ticks=50), seed=seed
    )
    events = market.take(n)
    md = MdEncoder()
    payloads = [p for p in (md.encode(e, e.exchange_ts_ns) for e in events) if p is not None]
    times = [e.exchange_ts_ns for e in events]

    floor = _decode_and_book(payloads)
    noop_rec, _ = _host_run(catalog, _Idle, {"instrument": "BTC-USD"}, payloads, times)
    mm_rec, mm_stats = _host_run(catalog, MarketMaker, _MM_PARAMS, payloads, times)

    report = BenchReport("strategy host: md messages to the market maker")
    report.cases.append(
        BenchCase(
            name="md message -> host -> market maker -> requests (acks included)",
            unit="ns/op",
            value=_pcts(mm_rec),
            baseline_name="decode + FastL2Book apply of the same message",
            baseline=_pcts(floor),
        )
    )
    report.cases.append(
        BenchCase(
            name="md message -> host -> a strategy doing nothing",
            unit="ns/op",
            value=_pcts(noop_rec),
            baseline_name="decode + FastL2Book apply of the same message",
            baseline=_pcts(floor),
        )
    )
    mm_total, floor_total = _total_s(mm_rec), _total_s(floor)
    report.cases.append(
        BenchCase(
            name="market maker callbacks/s (md messages handled per second)",
            unit="msg/s",
            value={"value": len(payloads) / mm_total},
            baseline_name="decode + FastL2Book messages per second",
            baseline={"value": len(payloads) / floor_total},
        )
    )
    report.notes.append(
        f"{len(payloads)} md messages of the synthetic BTC-USD market (seed {seed}); market maker: "
        f"{mm_stats['quotes']} orders, {mm_stats['requotes']} replaces"
    )
    return report


def _pcts(rec: LatencyRecorder) -> dict[str, float]:
    return {k: float(v) for k, v in rec.percentiles().items()}


def _total_s(rec: LatencyRecorder) -> float:
    h = rec.hist
    return h.get_mean_value() * h.get_total_count() / 1e9


def _timed(steps: list[Callable[[], object]]) -> LatencyRecorder:
    rec = LatencyRecorder()
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for step in steps:
            t0 = clock()
            step()
            rec.record(clock() - t0)
    finally:
        gc.enable()
    return rec


def _decode_and_book(payloads: list[bytes]) -> LatencyRecorder:
    book = FastL2Book(1)

    def step(p: bytes) -> None:
        m = decode(p)
        if type(m) is BookDelta:
            for side, price, qty, _ in m.levels.rows():
                book.apply_delta(BookSide(side), price, qty)
        elif type(m) is BookSnapshot:
            book.apply_snapshot([(r[0], r[1]) for r in m.bids.rows()], [(r[0], r[1]) for r in m.asks.rows()])

    return _timed([lambda p=p: step(p) for p in payloads])


class _AutoAck:
    """HostOutputs that answers new orders and replaces as an oms + venue would (accepted), delivered to
    the host after the md message that caused them."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.next_order = 1
        self.requests = 0

    def order_request(self, strategy_id: int, payload: bytes) -> None:
        self.requests += 1
        m = decode(payload)
        if isinstance(m, NewOrder):
            order_id, self.next_order = self.next_order, self.next_order + 1
            self.pending.append(_er(m, order_id, ExecType.New, OrdStatus.New, m.clOrdId, 0, m.qty))
        elif isinstance(m, ReplaceOrder):
            self.pending.append(
                _er(m, m.orderId, ExecType.Replaced, OrdStatus.Replaced, m.clOrdId, m.origClOrdId, 0)
            )

    def heartbeat(self, strategy_id: int, payload: bytes) -> None:
        pass


def _er(m, order_id: int, et: ExecType, status: OrdStatus, cl: int, orig: int, leaves: int) -> bytes:
    return ExecutionReport.encode_bytes(
        orderId=order_id,
        clOrdId=cl,
        origClOrdId=orig,
        strategyId=m.strategyId,
        clientId=m.clientId,
        correlationId=m.correlationId,
        instrumentId=m.instrumentId,
        venueId=1,
        venueOrderId="",
        execId=0,
        execType=et,
        ordStatus=status,
        side=getattr(m, "side", 1),
        ordType=1,
        timeInForce=1,
        flags=0,
        price=m.price,
        qty=m.qty,
        lastPx=None,
        lastQty=0,
        cumQty=0,
        leavesQty=leaves,
        avgPx=Decimal64(0, 0),
        fee=Decimal64(0, 0),
        reason=0,
        transactTs=0,
        ts=0,
        seq=0,
        text="",
    )


def _host_run(
    catalog: InstrumentCatalog, cls: type, params: dict, payloads: list[bytes], times: list[int]
) -> tuple[LatencyRecorder, dict[str, int]]:
    clock = SimulatedClock(DEFAULT_START_TS_NS)
    out = _AutoAck()
    spec = strategy_spec("bench", 1, cls, params, catalog)
    host = StrategyHost(
        [spec],
        catalog=catalog,
        clock=clock,
        outputs=out,
        config=HostConfig(),
        identity=HostIdentity("bench", 0, "bench"),
    )
    host.start()

    def step(p: bytes, t: int) -> None:
        if t > clock.time_ns():
            clock.set(t)
        host.on_payload(p)
        pending = out.pending
        while pending:
            host.on_payload(pending.pop())

    rec = _timed([lambda p=p, t=t: step(p, t) for p, t in zip(payloads, times, strict=True)])
    strategy = host.strategy("bench").strategy
    return rec, getattr(strategy, "stats", {"quotes": 0, "requotes": 0})
