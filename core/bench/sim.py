"""Simulated venue benchmark: matching-engine orders/s and per-request latency, synthetic market events/s.

Every figure comes with a baseline measured in the same run with the same harness:
- per-request latencies (ns/op) against the floor any engine here pays per request: building one
  report record and one dict insert or pop;
- the mixed flow (orders on a live synthetic market) against the same flow on the reference own-order
  book, so the ratio is what the fast book buys;
- the engine fed the market against the bare L2 book applying the same events;
- the synthetic generator against a bare loop drawing one random interval and building one event.
Nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from decimal import Decimal

from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.book import FastL2Book
from core.codec.messages import OrdStatus, OrdType, Side, TimeInForce
from core.instruments import Instrument
from core.market.params import SyntheticParams
from core.market.synthetic import SyntheticMarket
from core.marketdata.events import Aggressor, BookDeltaEvent, BookSnapshotEvent, MarketEvent, TradeEvent
from core.sim.config import SimVenueConfig
from core.sim.engine import MatchingEngine
from core.sim.orders import CancelRequest, NewOrderRequest
from core.sim.reports import OrderAccepted

BENCH_INSTRUMENT = Instrument(
    id=1,
    symbol="BENCH-USD",
    venue="sim",
    kind="spot",
    base="BENCH",
    quote="USD",
    price_exponent=-2,
    qty_exponent=-4,
    tick_size=1,
    lot_size=1,
    min_qty=1,
    max_qty=10**9,
)
_CONFIG = SimVenueConfig(maker_fee_bps=Decimal("1"), taker_fee_bps=Decimal("5"))
_NS_TO_S = 1e-9
_MIXED_RESTING = 200  # the mixed flow keeps about this many orders working (cancels once it is reached)


def run_sim_bench(quick: bool = False, seed: int = 1) -> BenchReport:
    n = 3_000 if quick else 30_000
    events = 10_000 if quick else 60_000
    report = BenchReport("sim: matching engine and synthetic market")
    floor = _floor(n)
    report.cases.append(_case("new limit order that rests (fast book)", _passive(n), floor))
    report.cases.append(_case("cancel of a resting order (fast book)", _cancels(n), floor))
    report.cases.append(
        _case("limit order walking 3 market levels + 2 resting orders", _aggressive(n), floor)
    )

    stream = SyntheticMarket(BENCH_INSTRUMENT, _params(), seed=seed).take(events)
    fast = _mixed_flow("fast", stream, seed)
    ref = _mixed_flow("reference", stream, seed)
    report.cases.append(
        BenchCase(
            name="mixed flow on a synthetic market: orders/s in the engine (fast book)",
            unit="orders/s",
            value={"value": fast[0]},
            baseline_name="same flow on the reference book",
            baseline={"value": ref[0]},
        )
    )
    report.cases.append(
        BenchCase(
            name="market events/s through the engine (about 200 resting orders, their fills included)",
            unit="events/s",
            value={"value": fast[1]},
            baseline_name="bare FastL2Book applying the same events",
            baseline={"value": _bare_book(stream)},
        )
    )
    gen_rate, raw_rate = _generator(events, seed)
    report.cases.append(
        BenchCase(
            name="synthetic market generator (the demo's BTC-USD parameters)",
            unit="events/s",
            value={"value": gen_rate},
            baseline_name="bare loop: one exponential draw + one event record per event",
            baseline={"value": raw_rate},
        )
    )
    report.notes.append(
        f"{n} timed requests per latency case, {events} synthetic events; "
        f"mixed flow: {fast[2]} orders, {fast[3]} fills"
    )
    return report


# -- latency cases -----------------------------------------------------------------------------------
def _case(name: str, rec: LatencyRecorder, floor: LatencyRecorder) -> BenchCase:
    return BenchCase(
        name=name,
        unit="ns/op",
        value=_pcts(rec),
        baseline_name="floor: one report record + one dict insert/pop",
        baseline=_pcts(floor),
    )


def _pcts(rec: LatencyRecorder) -> dict[str, float]:
    return {k: float(v) for k, v in rec.percentiles().items()}


def _timed(calls: list[Callable[[], object]]) -> LatencyRecorder:
    rec = LatencyRecorder()
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for call in calls:
            t0 = clock()
            call()
            rec.record(clock() - t0)
    finally:
        gc.enable()
    return rec


def _engine(book: str = "fast") -> MatchingEngine:
    e = MatchingEngine(BENCH_INSTRUMENT, _CONFIG, book=book)
    e.on_snapshot([(99_900 - i, 1_000) for i in range(20)], [(100_000 + i, 1_000) for i in range(20)], 1)
    return e


def _passive_orders(n: int) -> list[NewOrderRequest]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        buy = i % 2 == 0
        price = 99_900 - rng.randrange(200) if buy else 100_000 + rng.randrange(200)
        out.append(
            NewOrderRequest(
                instrument_id=1,
                cl_ord_id=i + 1,
                side=Side.Buy if buy else Side.Sell,
                qty=10,
                price=price,
                account_id=1 + i % 4,
            )
        )
    return out


def _passive(n: int) -> LatencyRecorder:
    e = _engine()
    reqs = _passive_orders(n)
    return _timed([lambda r=r, t=t: e.on_new(r, t) for t, r in enumerate(reqs, start=2)])


def _cancels(n: int) -> LatencyRecorder:
    e = _engine()
    reqs = _passive_orders(n)
    for t, r in enumerate(reqs, start=2):
        e.on_new(r, t)
    cancels = [
        CancelRequest(
            instrument_id=1, cl_ord_id=n + r.cl_ord_id, orig_cl_ord_id=r.cl_ord_id, account_id=r.account_id
        )
        for r in reqs
    ]
    return _timed([lambda c=c: e.on_cancel(c, n + 10) for c in cancels])


def _aggressive(n: int) -> LatencyRecorder:
    """Each request: a buy walking 3 market ask levels and 2 resting sells; the book is restored
    (untimed) between requests so every request does the same work."""
    e = _engine()
    calls: list[Callable[[], object]] = []
    asks = [(100_000 + i, 10) for i in range(20)]
    bids = [(99_900 - i, 10) for i in range(20)]
    for i in range(n):
        t = 10 * i + 2

        def restore(t: int = t, i: int = i) -> None:
            e.on_snapshot(bids, asks, t)
            for k in range(2):
                e.on_new(
                    NewOrderRequest(
                        instrument_id=1,
                        cl_ord_id=10 * i + k + 1,
                        side=Side.Sell,
                        qty=5,
                        price=100_001,
                        account_id=2,
                    ),
                    t,
                )

        buy = NewOrderRequest(
            instrument_id=1,
            cl_ord_id=10 * i + 5,
            side=Side.Buy,
            qty=40,
            price=100_002,
            account_id=1,
            tif=TimeInForce.IOC,
        )
        calls.append(restore)
        calls.append(lambda b=buy, t=t: e.on_new(b, t + 1))
    rec = LatencyRecorder()
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for restore, call in zip(calls[::2], calls[1::2], strict=True):
            restore()
            t0 = clock()
            call()
            rec.record(clock() - t0)
    finally:
        gc.enable()
    return rec


def _floor(n: int) -> LatencyRecorder:
    index: dict[int, object] = {}

    def one(i: int) -> None:
        index[i] = OrderAccepted(
            exec_id=i,
            instrument_id=1,
            venue_order_id=i,
            cl_ord_id=i,
            orig_cl_ord_id=0,
            order_id=0,
            account_id=1,
            strategy_id=0,
            client_id=1,
            correlation_id=0,
            side=Side.Buy,
            ord_type=OrdType.Limit,
            tif=TimeInForce.GTC,
            post_only=False,
            price=100,
            qty=10,
            cum_qty=0,
            leaves_qty=10,
            ord_status=OrdStatus.New,
            transact_ts=i,
            ts=i,
        )
        index.pop(i - 1, None)

    return _timed([lambda i=i: one(i) for i in range(n)])


# -- throughput cases --------------------------------------------------------------------------------
def _params() -> SyntheticParams:
    return SyntheticParams.for_instrument(
        BENCH_INSTRUMENT, "1000.00", level_spacing_ticks=5, event_rate_hz=300.0
    )


def _mixed_flow(book: str, stream: list[MarketEvent], seed: int) -> tuple[float, float, int, int]:
    """Orders from four accounts around the market (a quarter of them crossing, a fifth IOC) and
    cancels (about _MIXED_RESTING orders stay working), interleaved with the synthetic stream. Returns
    (orders/s, market events/s, orders, fills), timing only the engine's own calls."""
    rng = random.Random(seed)
    e = MatchingEngine(BENCH_INSTRUMENT, _CONFIG, book=book)
    live: list[tuple[int, int]] = []  # (cl_ord_id, account) that may still rest
    order_ns = market_ns = 0
    orders = fills = 0
    cl = 0
    clock = time.perf_counter_ns
    mid = None
    gc.disable()
    try:
        for ev in stream:
            ts = ev.exchange_ts_ns
            t0 = clock()
            out = e.on_event(ev, ts)
            market_ns += clock() - t0
            fills += len(out)
            if isinstance(ev, BookSnapshotEvent):
                mid = (ev.bids[0][0] + ev.asks[0][0]) // 2
            elif isinstance(ev, TradeEvent):
                mid = ev.price
            if mid is None or not isinstance(ev, BookDeltaEvent):
                continue
            if len(live) < _MIXED_RESTING and rng.random() < 0.6:
                cl += 1
                acct = 1 + rng.randrange(4)
                buy = rng.random() < 0.5
                offset = rng.randrange(-10, 30) * 5  # negative offsets cross
                price = mid - offset if buy else mid + offset
                tif = TimeInForce.IOC if rng.random() < 0.2 else TimeInForce.GTC
                req = NewOrderRequest(
                    instrument_id=1,
                    cl_ord_id=cl,
                    side=Side.Buy if buy else Side.Sell,
                    qty=1 + rng.randrange(500),
                    price=max(5, price),
                    tif=tif,
                    account_id=acct,
                )
                t0 = clock()
                out = e.on_new(req, ts)
                order_ns += clock() - t0
                orders += 1
                fills += len(out)
                live.append((cl, acct))
            elif live:
                i = rng.randrange(len(live))
                target, acct = live[i]
                live[i] = live[-1]
                live.pop()
                cl += 1
                req = CancelRequest(instrument_id=1, cl_ord_id=cl, orig_cl_ord_id=target, account_id=acct)
                t0 = clock()
                e.on_cancel(req, ts)
                order_ns += clock() - t0
                orders += 1
    finally:
        gc.enable()
    return orders / (order_ns * _NS_TO_S), len(stream) / (market_ns * _NS_TO_S), orders, fills


def _bare_book(stream: list[MarketEvent]) -> float:
    book = FastL2Book(1)
    clock = time.perf_counter_ns
    t0 = clock()
    for ev in stream:
        if isinstance(ev, BookDeltaEvent):
            book.apply_deltas(ev.levels)
        elif isinstance(ev, BookSnapshotEvent):
            book.apply_snapshot(ev.bids, ev.asks)
    return len(stream) / ((clock() - t0) * _NS_TO_S)


def _generator(events: int, seed: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    # The demo's BTC-USD market (configs/venues.toml): 60000.00 with levels 0.50 apart, 150 updates/s.
    demo = SyntheticParams.for_instrument(
        BENCH_INSTRUMENT, "60000.00", level_spacing_ticks=50, event_rate_hz=150.0
    )
    gen = SyntheticMarket(BENCH_INSTRUMENT, demo, seed=seed)
    t0 = clock()
    got = len(gen.take(events))
    gen_rate = got / ((clock() - t0) * _NS_TO_S)

    rng = random.Random(seed)
    t0 = clock()
    ts = 0
    raw = []
    for i in range(events):
        ts += int(rng.expovariate(300.0) * 1e9) + 1
        raw.append(TradeEvent(1, i, ts, ts, 100_000, 10, Aggressor.BUY))
    raw_rate = events / ((clock() - t0) * _NS_TO_S)
    return gen_rate, raw_rate
