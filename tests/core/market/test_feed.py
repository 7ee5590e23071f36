"""The merged multi-instrument synthetic feed."""

from __future__ import annotations

import pytest

from core.instruments import load_instruments
from core.market import SyntheticFeed, SyntheticMarket, SyntheticParams
from core.marketdata.events import BookSnapshotEvent

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000


@pytest.fixture(scope="module")
def sim_instruments():
    return [i for i in load_instruments() if i.venue == "sim"]


def test_the_feed_merges_each_markets_own_stream_in_time_order(sim_instruments):
    feed = SyntheticFeed.for_instruments(sim_instruments, seed=5, start_ts_ns=T0)
    merged = []
    for k in range(1, 31):
        merged += feed.events_until(T0 + k * S // 10)
    times = [e.exchange_ts_ns for e in merged]
    assert times == sorted(times)
    for inst in sim_instruments:
        alone = SyntheticMarket(inst, SyntheticParams.for_instrument(inst), seed=5, start_ts_ns=T0)
        mine = [e for e in merged if e.instrument_id == inst.id]
        assert mine == alone.events_until(T0 + 3 * S)


def test_a_late_snapshot_does_not_change_the_stream(sim_instruments):
    a = SyntheticFeed.for_instruments(sim_instruments, seed=1, start_ts_ns=T0)
    b = SyntheticFeed.for_instruments(sim_instruments, seed=1, start_ts_ns=T0)
    first = a.events_until(T0 + S)
    assert b.events_until(T0 + S) == first
    snap = b.snapshot(sim_instruments[0].id)
    assert isinstance(snap, BookSnapshotEvent) and snap.bids and snap.asks
    last_seq = max(getattr(e, "venue_seq", 0) for e in first if e.instrument_id == sim_instruments[0].id)
    assert snap.venue_seq == last_seq  # the state as of the last update sent
    assert a.events_until(T0 + 2 * S) == b.events_until(T0 + 2 * S)


def test_unknown_and_duplicate_instruments_are_refused(sim_instruments):
    feed = SyntheticFeed.for_instruments(sim_instruments[:1])
    with pytest.raises(KeyError, match="999"):
        feed.snapshot(999)
    m = SyntheticMarket(sim_instruments[0])
    with pytest.raises(ValueError, match="twice"):
        SyntheticFeed([m, SyntheticMarket(sim_instruments[0])])
