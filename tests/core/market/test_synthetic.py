"""The seeded synthetic market: determinism, a valid book at every step, mean reversion, regimes."""

from __future__ import annotations

import itertools
import math
import pickle
import statistics

import pytest

from core.book import BookSide, ReferenceL2Book
from core.instruments import load_instruments
from core.market.params import SyntheticParams
from core.market.synthetic import Regime, SyntheticMarket
from core.marketdata.events import Aggressor, BookDeltaEvent, BookSnapshotEvent, TradeEvent

NS = 1_000_000_000


@pytest.fixture(scope="module")
def catalog():
    return load_instruments()


@pytest.fixture(scope="module")
def btc(catalog):
    return catalog.resolve("BTC-USD")


def _params(inst, **kw):
    return SyntheticParams.for_instrument(inst, "60000.00", level_spacing_ticks=50, **kw)


def test_same_seed_gives_the_same_stream_byte_for_byte(btc):
    a = SyntheticMarket(btc, _params(btc), seed=7).take(5000)
    b = SyntheticMarket(btc, _params(btc), seed=7).take(5000)
    assert pickle.dumps(a) == pickle.dumps(b)


def test_different_seeds_and_instruments_differ(catalog, btc):
    a = SyntheticMarket(btc, _params(btc), seed=7).take(2000)
    b = SyntheticMarket(btc, _params(btc), seed=8).take(2000)
    assert pickle.dumps(a) != pickle.dumps(b)
    # Two instruments on one seed must not move in lock step.
    eth = catalog.resolve("ETH-USD")
    pa = [e.price for e in a if isinstance(e, TradeEvent)][:50]
    c = SyntheticMarket(eth, SyntheticParams.for_instrument(eth, "60000.00", level_spacing_ticks=50), seed=7)
    pc = [e.price for e in c.take(2000) if isinstance(e, TradeEvent)][:50]
    assert pa != pc


@pytest.mark.parametrize("symbol", ["BTC-USD", "ETH-USD", "BTC-PERP"])
def test_every_event_keeps_a_valid_uncrossed_book_on_tick_and_lot(catalog, symbol):
    inst = catalog.resolve(symbol)
    gen = SyntheticMarket(inst, seed=3)  # the instrument's defaults, whatever its tick and lot
    book = ReferenceL2Book(inst.id)
    events = gen.take(8000)
    assert isinstance(events[0], BookSnapshotEvent)
    last_ts = 0
    trades = 0
    for e in events:
        assert e.instrument_id == inst.id
        assert e.exchange_ts_ns >= last_ts
        last_ts = e.exchange_ts_ns
        if isinstance(e, BookSnapshotEvent):
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
        elif isinstance(e, BookDeltaEvent):
            book.apply_deltas(e.levels, e.venue_seq, e.prev_venue_seq)  # raises on a broken chain
            for _side, price, qty in e.levels:
                assert price > 0 and price % inst.tick_size == 0
                assert qty % inst.lot_size == 0
            assert not book.is_crossed(), f"crossed after {e}"
            assert book.best_bid() is not None and book.best_ask() is not None
        else:
            assert isinstance(e, TradeEvent)
            trades += 1
            assert e.price % inst.tick_size == 0 and e.qty > 0 and e.qty % inst.lot_size == 0
            # A trade takes displayed liquidity on the side opposite its aggressor.
            side = BookSide.ASK if e.aggressor == Aggressor.BUY else BookSide.BID
            assert book.qty_at(side, e.price) >= e.qty
        book.check_invariants()
    assert trades > 100
    # The consumer's book rebuilt from the stream equals the generator's own book.
    assert book.depth(BookSide.BID) == gen.book.depth(BookSide.BID)
    assert book.depth(BookSide.ASK) == gen.book.depth(BookSide.ASK)


def test_event_rate_matches_the_configured_poisson_rate(btc):
    gen = SyntheticMarket(btc, _params(btc, event_rate_hz=300.0), seed=11)
    events = gen.take(30_000)
    steps = {e.exchange_ts_ns for e in events if isinstance(e, BookDeltaEvent)}
    seconds = (events[-1].exchange_ts_ns - events[0].exchange_ts_ns) / NS
    rate = len(steps) / seconds
    # ~30k Poisson arrivals: the relative standard error is under 1 %.
    assert 300 * 0.95 < rate < 300 * 1.05


def test_events_until_slices_the_same_stream(btc):
    whole = SyntheticMarket(btc, _params(btc), seed=5).take(3000)
    gen = SyntheticMarket(btc, _params(btc), seed=5)
    start = gen.now_ns
    sliced = []
    t = start
    while len(sliced) < len(whole):
        t += 7_000_000  # poll every 7 ms of simulated time
        batch = gen.events_until(t)
        assert all(e.exchange_ts_ns <= t for e in batch)
        sliced.extend(batch)
    assert sliced[: len(whole)] == whole


def test_periodic_snapshots_match_the_book_so_far(btc):
    gen = SyntheticMarket(btc, _params(btc, snapshot_interval_s=1.0), seed=2)
    book = ReferenceL2Book()
    snapshots = 0
    for e in gen.take(2000):
        if isinstance(e, BookSnapshotEvent):
            if snapshots:
                assert tuple(book.depth(BookSide.BID)) == e.bids and tuple(book.depth(BookSide.ASK)) == e.asks
            snapshots += 1
            book.apply_snapshot(e.bids, e.asks, e.venue_seq)
        elif isinstance(e, BookDeltaEvent):
            book.apply_deltas(e.levels, e.venue_seq, e.prev_venue_seq)
    assert snapshots >= 5


# -- the price process ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_run(btc):
    """400 s of a fast-reverting market with short regimes, mid sampled once a second."""
    params = _params(
        btc,
        event_rate_hz=200.0,
        half_life_s=5.0,
        calm_vol_bps=2.0,
        volatile_vol_bps=8.0,
        calm_duration_s=25.0,
        volatile_duration_s=25.0,
    )
    gen = SyntheticMarket(btc, params, seed=42)
    book = ReferenceL2Book()
    start = gen.now_ns
    mids: list[float] = []
    next_sample = start + NS
    while next_sample <= start + 400 * NS:
        for e in gen.events_until(next_sample):
            if isinstance(e, BookSnapshotEvent):
                book.apply_snapshot(e.bids, e.asks)
            elif isinstance(e, BookDeltaEvent):
                book.apply_deltas(e.levels)
        mids.append(book.mid_x2() / 2)
        next_sample += NS
    return params, gen, start, mids


def test_mid_stays_in_a_band_around_the_start_price(long_run):
    params, _, _, mids = long_run
    theta = math.log(2) / params.half_life_s
    stationary_sd = params.volatile_vol_bps * 1e-4 / math.sqrt(2 * theta)  # relative, volatile regime
    worst = max(abs(m / params.start_price - 1) for m in mids)
    assert worst < 6 * stationary_sd


def test_mid_mean_reverts_rather_than_wandering(long_run):
    # For a random walk the variance of 50 s changes is 50x that of 1 s changes; mean reversion
    # (half-life 5 s) caps it near twice the stationary variance.
    _, _, _, mids = long_run
    one = [b - a for a, b in itertools.pairwise(mids)]
    fifty = [b - a for a, b in zip(mids, mids[50:], strict=False)]
    ratio = statistics.pvariance(fifty) / (50 * statistics.pvariance(one))
    assert ratio < 0.5


def test_volatility_differs_by_regime(long_run):
    _, gen, start, mids = long_run
    assert {r for _, r in gen.regime_changes} == {Regime.CALM, Regime.VOLATILE}

    def regime_at(ts: int) -> Regime:
        current = Regime.CALM
        for t, r in gen.regime_changes:
            if t > ts:
                break
            current = r
        return current

    by_regime: dict[Regime, list[float]] = {Regime.CALM: [], Regime.VOLATILE: []}
    for i in range(1, len(mids)):
        t0, t1 = start + i * NS, start + (i + 1) * NS
        if regime_at(t0) == regime_at(t1):  # skip seconds with a switch inside
            by_regime[regime_at(t1)].append(mids[i] - mids[i - 1])
    calm = statistics.pvariance(by_regime[Regime.CALM])
    volatile = statistics.pvariance(by_regime[Regime.VOLATILE])
    assert len(by_regime[Regime.CALM]) > 50 and len(by_regime[Regime.VOLATILE]) > 50
    assert volatile > 3 * calm


# -- parameters ----------------------------------------------------------------------------------
def test_params_reject_nonsense(btc):
    with pytest.raises(ValueError, match="levels"):
        SyntheticParams.for_instrument(btc, "100", levels=1)
    with pytest.raises(ValueError, match="trade_fraction"):
        SyntheticParams.for_instrument(btc, "100", trade_fraction=0.7, cancel_fraction=0.5)
    with pytest.raises(ValueError, match="finer"):
        SyntheticParams.for_instrument(btc, "100.001")


def test_default_params_scale_to_the_instrument(catalog):
    perp = catalog.resolve("BTC-PERP")
    p = SyntheticParams.for_instrument(perp, "60000.3")
    assert p.start_price % perp.tick_size == 0 and p.start_price <= perp.price_mantissa("60000.3")
    assert p.level_spacing_ticks >= 1
