"""The md daemon's feeds and config: replay pacing, bad input, strict configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import ConfigError, Table
from core.daemons.md import MdConfig
from core.daemons.md_feeds import RecordedFeed, load_feed, static_data, synthetic_feed
from core.instruments import load_instruments
from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)
from tests.desk import PROFILES

S = 1_000_000_000
T0 = 1_723_161_254 * S  # a recording's first exchange time
CATALOG = load_instruments(PROFILES / "instruments.toml")


def table(data: dict, file: Path = PROFILES / "md_exec.toml") -> Table:
    return Table(data, file, "daemon[0].config")


def trade(ts: int, trade_id: int = 1) -> TradeEvent:
    return TradeEvent(1, trade_id, ts, 0, 6_000_000, 10, Aggressor.BUY)


# -- pacing ----------------------------------------------------------------------------------------
def test_original_speed_releases_events_as_the_clock_reaches_their_time() -> None:
    events = [trade(T0, 1), trade(T0 + S // 2, 2), trade(T0 + 2 * S, 3)]
    feed = RecordedFeed("test", iter(events), 1.0, dict)
    start = 5 * S  # the desk's clock: nothing to do with the recording's
    feed.start(start)
    assert feed.poll(start, 100) == events[:1]
    assert feed.poll(start + S // 2 - 1, 100) == []
    assert feed.poll(start + S // 2, 100) == events[1:2]
    assert feed.poll(start + 2 * S - 1, 100) == []
    assert feed.poll(start + 2 * S, 100) == events[2:]
    assert feed.poll(start + 3 * S, 100) == [] and feed.finished


def test_scaled_speed_compresses_the_recording() -> None:
    events = [trade(T0 + k * S, k) for k in range(5)]  # one per second
    feed = RecordedFeed("test", iter(events), 10.0, dict)
    feed.start(0)
    assert [e.trade_id for e in feed.poll(S // 10, 100)] == [0, 1]  # 0.1 s of clock = 1 s of data
    assert [e.trade_id for e in feed.poll(4 * S // 10, 100)] == [2, 3, 4]


def test_max_speed_releases_everything_in_batches_of_the_limit() -> None:
    events = [trade(T0 + k * S, k) for k in range(10)]
    feed = RecordedFeed("test", iter(events), 0.0, dict)
    feed.start(0)
    assert len(feed.poll(0, 4)) == 4
    assert len(feed.poll(0, 4)) == 4
    assert len(feed.poll(0, 4)) == 2 and feed.finished
    assert feed.counters()["feed_events"] == 10


def test_late_or_untimed_events_are_due_at_once() -> None:
    delta = BookDeltaEvent(1, 5, 0, 0, (), 4)  # no timestamp at all
    events: list[MarketEvent] = [trade(T0 + S), trade(T0), delta, trade(T0 + 3 * S)]
    feed = RecordedFeed("test", iter(events), 1.0, dict)
    feed.start(0)
    assert feed.poll(0, 100) == events[:3]  # the data's time never goes back


def test_a_source_that_fails_ends_the_feed_with_a_reason_instead_of_raising() -> None:
    def source() -> Iterator[MarketEvent]:
        yield trade(T0)
        raise OSError("Compressed file ended before the end-of-stream marker was reached")

    feed = RecordedFeed("test", source(), 0.0, dict)
    feed.start(0)
    out = feed.poll(0, 100)
    assert out[0] == trade(T0)
    ended = out[1]
    assert isinstance(ended, FeedStateEvent) and ended.status == FeedStatus.ENDED
    assert "end-of-stream marker" in ended.text and ended.instrument_id == 0
    assert feed.finished and feed.counters()["feed_errors"] == 1
    assert feed.poll(10 * S, 100) == []


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        RecordedFeed("test", iter([]), -1.0, dict)


# -- the synthetic feed ---------------------------------------------------------------------------------
def test_synthetic_feed_uses_the_venue_markets_and_scales_their_rate() -> None:
    base = synthetic_feed(table({}), CATALOG)
    fast = synthetic_feed(table({"rate_multiplier": 2.0, "symbols": ["ETH-USD"]}), CATALOG)
    assert [i.symbol for i in base.instruments] == ["BTC-USD", "ETH-USD", "BTC-PERP"]
    assert [i.symbol for i in fast.instruments] == ["ETH-USD"]
    assert fast.params["ETH-USD"].event_rate_hz == 2 * base.params["ETH-USD"].event_rate_hz
    fast.start(T0)
    events = fast.poll(T0 + 10 * S, 10_000)
    assert events and {e.instrument_id for e in events} == {2}


def test_the_same_seed_gives_the_same_market() -> None:
    a, b = synthetic_feed(table({"seed": 3}), CATALOG), synthetic_feed(table({"seed": 3}), CATALOG)
    a.start(T0)
    b.start(T0)
    assert a.poll(T0 + 5 * S, 10_000) == b.poll(T0 + 5 * S, 10_000)


@pytest.mark.parametrize(
    ("data", "key", "says"),
    [
        ({"symbols": ["DOGE-USD"]}, "symbols", "not instruments of venue 'sim': DOGE-USD"),
        ({"rate_multiplier": 0}, "rate_multiplier", "must be positive"),
        ({"venue": "lobster"}, "venue", "a data venue, not a simulated one"),
        ({"feed": "kafka"}, "feed", "must be one of synthetic, binance, lobster or module:factory"),
        ({"feed": "no.such.module:factory"}, "feed", "cannot import 'no.such.module'"),
        ({"feed": "core.daemons.md_feeds:nothing"}, "feed", "has no 'nothing'"),
        ({"feed": "binance", "path": "missing.gz"}, "path", "no such file"),
        ({"feed": "lobster"}, "path", "required key is missing"),
        ({"feed": "binance", "path": "md_exec.toml"}, "path", "not a recognised market-data file"),
        ({"feed": "lobster", "path": "md_exec.toml", "speed": -2.0}, "speed", "positive factor"),
        ({"feed": "lobster", "path": "md_exec.toml", "speed": "fast"}, "speed", "expected a number"),
    ],
)
def test_bad_feed_config_names_the_key(data: dict, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_feed(table(data), CATALOG)
    assert e.value.key == f"daemon[0].config.{key}"
    assert says in e.value.reason


def test_a_lobster_file_is_not_taken_for_binance(shared_data: Path) -> None:
    path = shared_data / "lobster" / "LOBSTER_SampleFile_AAPL_2012-06-21_1.zip"
    with pytest.raises(ConfigError, match='use feed = "lobster"'):
        load_feed(table({"feed": "binance", "path": str(path)}), CATALOG)


def test_md_config_is_strict() -> None:
    t = table({"snapshot_intervall_ms": 100})
    MdConfig(t)
    load_feed(t, CATALOG)
    with pytest.raises(ConfigError, match="snapshot_intervall_ms: unknown key"):
        t.reject_unknown()
    with pytest.raises(ConfigError, match="must be at most 65534"):
        MdConfig(table({"snapshot_depth": 70_000}))


def test_static_data_path_is_relative_to_the_profile() -> None:
    catalog = static_data(table({"instruments": "instruments.toml"}))
    assert catalog.by_id(1).lot_size == 10  # the test file, not configs/instruments.toml
    assert static_data(table({})).by_id(1).lot_size == 1
