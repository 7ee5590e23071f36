"""Feeds of the md daemon: where its normalized market-data events come from.

A feed is polled from the md agent's duty cycle with the injected clock's time and returns the events
due by then (core/marketdata/events.py). Two shapes exist:

- live-like: the seeded synthetic market (core/market), generated in step with the clock;
- recorded: a file replayed through its venue adapter, paced by the events' own timestamps at the
  original speed (`speed = 1.0`), scaled (`speed = 10.0`) or as fast as possible (`speed = "max"`).

The md daemon's `[daemon.config]` names the feed with `feed`:

    feed = "synthetic"   # seed, symbols, venue, rate_multiplier, factor (true: the venue's common
                         # factor of venues.toml correlates its instruments; false: independent)
    feed = "binance"     # path, format (binance-spot | binance-usdm), symbols, speed
    feed = "lobster"     # path, timezone, speed
    feed = "package.module:factory"   # factory(config: Table, catalog: InstrumentCatalog) -> Feed
    instruments = "path"  # optional static data file instead of configs/instruments.toml

Recorded data is read by the venue adapters (adapters/binance, adapters/lobster). core may not import
adapters (import-linter forbids it: adapters depend on core, never the reverse), so the adapters are
loaded by module name at run time, here and only here, when a profile asks for such a feed; a desk
that replays nothing never imports them. Relative paths are relative to the profile file.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from core.config import ConfigError, Table
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.market.factor import FactorParams
from core.market.feed import SyntheticFeed
from core.market.params import SyntheticParams
from core.marketdata.events import FeedStateEvent, FeedStatus, MarketEvent
from core.sim.config import load_venues

FeedFactory = Callable[[Table, InstrumentCatalog], "Feed"]


class Feed(Protocol):
    """What the md agent drives. `poll` never blocks; `finished` is true once a recorded feed is done."""

    name: str
    finished: bool

    def start(self, now_ns: int) -> None: ...

    def poll(self, now_ns: int, limit: int) -> list[MarketEvent]:
        """Events due by `now_ns` (a recorded feed returns at most about `limit` per call)."""
        ...

    def counters(self) -> dict[str, int]: ...

    def close(self) -> None: ...


# -- the synthetic market -------------------------------------------------------------------------
class SyntheticMarketFeed:
    """The seeded synthetic markets of a sim venue's instruments, opened at the clock's time on start."""

    def __init__(
        self,
        instruments: list[Instrument],
        params: dict[str, SyntheticParams],
        seed: int,
        factor: FactorParams | None = None,
    ) -> None:
        if not instruments:
            raise ValueError("the synthetic feed has no instruments")
        self.name = "synthetic"
        self.finished = False
        self.instruments = instruments
        self.params = params
        self.seed = seed
        self.factor = factor
        self.feed: SyntheticFeed | None = None
        self.events = 0

    def start(self, now_ns: int) -> None:
        self.feed = SyntheticFeed.for_instruments(
            self.instruments, self.params, seed=self.seed, start_ts_ns=now_ns, factor=self.factor
        )

    def poll(self, now_ns: int, limit: int) -> list[MarketEvent]:
        if self.feed is None:
            raise RuntimeError("synthetic feed polled before start")
        events = self.feed.events_until(now_ns)  # whole steps: a step's trades and delta stay together
        self.events += len(events)
        return events

    def next_event_ns(self) -> int | None:
        """When the next market event is due (desk time)."""
        if self.feed is None:
            return None
        return min(m.next_event_ts for m in self.feed.markets)

    def counters(self) -> dict[str, int]:
        return {"feed_events": self.events}

    def close(self) -> None:
        self.feed = None


def synthetic_feed(t: Table, catalog: InstrumentCatalog) -> SyntheticMarketFeed:
    venue = t.get("venue", str, "sim")
    seed = t.get("seed", int, 0)
    symbols = _symbols(t)
    multiplier = t.get("rate_multiplier", float, 1.0)
    if multiplier <= 0:
        raise t.error("rate_multiplier", f"must be positive, got {multiplier}")
    use_factor = t.get("factor", bool, True)
    try:
        sim = load_venues(instruments=catalog).sim(venue)
    except KeyError as e:
        raise t.error("venue", str(e).strip("'\"")) from None
    at_venue = [i for i in catalog if i.venue == venue]
    if symbols:
        known = {i.symbol: i for i in at_venue}
        missing = [s for s in symbols if s not in known]
        if missing:
            raise t.error("symbols", f"not instruments of venue {venue!r}: {', '.join(missing)}")
        at_venue = [known[s] for s in symbols]
    params = {}
    for inst in at_venue:
        p = sim.markets.get(inst.symbol) or SyntheticParams.for_instrument(inst)
        params[inst.symbol] = dataclasses.replace(p, event_rate_hz=p.event_rate_hz * multiplier)
    if not at_venue:
        raise t.error("venue", f"venue {venue!r} has no instruments in the catalog")
    return SyntheticMarketFeed(at_venue, params, seed, sim.factor if use_factor else None)


# -- recorded files ---------------------------------------------------------------------------------
class RecordedFeed:
    """Replays an iterator of recorded events, paced by their timestamps against the clock.

    `speed` 1.0 replays at the original pace, 2.0 twice as fast, 0 as fast as the duty cycle goes.
    An event is due once (its time - the first event's time) / speed has elapsed on the clock since
    start; the data's time only moves forward, so an event stamped earlier than one already seen is
    due at once. A source that raises (a file that cannot be read on) ends the feed: the error is
    counted and reported as a FeedState Ended, never raised into the daemon.
    """

    def __init__(self, name: str, events: Iterator[MarketEvent], speed: float, stats: Callable[[], dict]):
        if speed < 0:
            raise ValueError(f"speed must not be negative, got {speed}")
        self.name = name
        self.finished = False
        self.speed = speed
        self.error = ""
        self._events = events
        self._stats = stats
        self._next: MarketEvent | None = None
        self._start_ns = 0
        self._data_start = 0
        self._data_now = 0
        self.events = 0
        self.errors = 0

    def start(self, now_ns: int) -> None:
        self._start_ns = now_ns

    def poll(self, now_ns: int, limit: int) -> list[MarketEvent]:
        out: list[MarketEvent] = []
        if self.finished:
            return out
        elapsed = now_ns - self._start_ns
        while len(out) < limit:
            event = self._peek()
            if event is None:
                break
            ts = event_time(event)
            if ts > self._data_now:
                if not self._data_start:
                    self._data_start = ts
                if self.speed and (ts - self._data_start) > elapsed * self.speed:
                    break  # not due yet
                self._data_now = ts
            self._next = None
            out.append(event)
        self.events += len(out)
        return out

    def _peek(self) -> MarketEvent | None:
        if self._next is None and not self.finished:
            try:
                self._next = next(self._events)
            except StopIteration:
                self.finished = True
            except Exception as e:  # bad input ends the replay; the daemon lives on and says why
                self.finished = True
                self.errors += 1
                self.error = f"{type(e).__name__}: {e}"
                self._next = FeedStateEvent(0, self._data_now, FeedStatus.ENDED, text=self.error[:500])
        return self._next

    def counters(self) -> dict[str, int]:
        return {"feed_events": self.events, "feed_errors": self.errors, **self._stats()}

    def close(self) -> None:
        close = getattr(self._events, "close", None)
        if callable(close):
            close()


def event_time(event: MarketEvent) -> int:
    """Exchange time, else receive time, else a feed state's own time; 0 when the event has none."""
    return (
        getattr(event, "exchange_ts_ns", 0)
        or getattr(event, "receive_ts_ns", 0)
        or getattr(event, "ts_ns", 0)
    )


def binance_feed(t: Table, catalog: InstrumentCatalog) -> RecordedFeed:
    """A recorded Binance file (websocket capture, JSON lines or Lasota CSV) through the adapter's
    book-sync rules. Symbols not in static data have no stable id and are counted, not published."""
    path = _path(t)
    fmt = t.get("format", str, "")
    symbols = _symbols(t)
    speed = _speed(t)
    files = _adapter("adapters.binance.files", t)
    binance = _adapter("adapters.binance", t)
    try:
        info = files.sniff(path)
        if info.format == files.LOBSTER:
            raise ValueError('a LOBSTER file, not Binance data: use feed = "lobster"')
        market_name = fmt or info.format
        if not market_name:
            raise ValueError(f"the content does not say spot or USD-M ({info.describe()}): set format")
        market = binance.BinanceMarket.from_format(market_name)
        if info.format is not None and info.format != market.venue:
            raise ValueError(f"the content is {info.format} data, not {market.venue}")
    except (OSError, ValueError) as e:
        raise t.error("path", f"{path}: {e}") from None
    config = binance.BinanceDataClientConfig(market=market, symbols=symbols)
    client = binance.BinanceDataClient(config, binance.BinanceInstrumentProvider(market, catalog))
    stats = {"bad_lines": 0}

    def events() -> Iterator[MarketEvent]:
        last_ts: dict[int, int] = {}
        for item in files.read_messages(path, info):
            if isinstance(item, files.BadLine):
                stats["bad_lines"] += 1
                continue
            for event in client.handle(
                item.payload,
                item.receive_ts_ns,
                time_unit_ns=item.time_unit_ns,
                symbol=item.symbol,
                chained_snapshot=item.chained_snapshot,
            ):
                last_ts[event.instrument_id] = event_time(event) or last_ts.get(event.instrument_id, 0)
                yield event
        for iid, ts in last_ts.items():
            yield FeedStateEvent(iid, ts, FeedStatus.ENDED, text=f"end of {path.name}")

    def counters() -> dict[str, int]:
        return {**stats, "bad_messages": sum(client.stats.bad.values())}

    return RecordedFeed("binance", events(), speed, counters)


def lobster_feed(t: Table, catalog: InstrumentCatalog) -> RecordedFeed:
    """A LOBSTER dataset (zip, or message CSV with its orderbook CSV beside it) through the L3 replay."""
    path = _path(t)
    speed = _speed(t)
    lobster = _adapter("adapters.lobster", t)
    kwargs = {"timezone": t.get("timezone", str)} if "timezone" in t else {}
    try:
        config = lobster.LobsterDataConfig(str(path), **kwargs)
        client = lobster.LobsterDataClient(config, lobster.LobsterInstrumentProvider(catalog))
    except (OSError, ValueError) as e:
        raise t.error("path", f"{path}: {e}") from None
    return RecordedFeed("lobster", client.events(), speed, dict)


FEEDS: dict[str, FeedFactory] = {
    "synthetic": synthetic_feed,
    "binance": binance_feed,
    "lobster": lobster_feed,
}


def load_feed(t: Table, catalog: InstrumentCatalog) -> Feed:
    """The feed the md daemon's config names (see the module docstring)."""
    name = t.get("feed", str, "synthetic")
    factory = FEEDS.get(name)
    if factory is None:
        if ":" not in name:
            raise t.error("feed", f"must be one of {', '.join(FEEDS)} or module:factory, got {name!r}")
        factory = resolve(name, t, "feed")
    try:
        return factory(t, catalog)
    except ConfigError:
        raise
    except ValueError as e:
        raise t.error("feed", f"{name}: {e}") from None


def resolve(target: str, t: Table, key: str) -> Any:
    """`package.module:attribute`, imported now; a clear config error if it cannot be."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise t.error(key, f"cannot import {module_name!r}: {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise t.error(key, f"module {module_name!r} has no {attr!r}") from None


# -- config helpers -------------------------------------------------------------------------------
def static_data(t: Table) -> InstrumentCatalog:
    """The instrument catalog: `instruments = "path"` (relative to the profile), else configs/."""
    if "instruments" not in t:
        return load_instruments()
    raw = Path(t.get("instruments", str)).expanduser()
    path = raw if raw.is_absolute() else Path(t.file).resolve().parent / raw
    return load_instruments(path)


def _adapter(module: str, t: Table) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise t.error("feed", f"the {module} adapter is not available: {e}") from None


def _path(t: Table) -> Path:
    raw = Path(t.get("path", str)).expanduser()
    path = raw if raw.is_absolute() else Path(t.file).resolve().parent / raw
    if not path.is_file():
        raise t.error("path", f"no such file: {path}")
    return path


def _speed(t: Table) -> float:
    """`speed = 1.0` (original pace, the default), any positive factor, or "max" (0: no pacing)."""
    if "speed" not in t:
        return 1.0
    raw = t.data["speed"]
    if raw == "max":
        t.get("speed", str)
        return 0.0
    value = t.get("speed", float)
    if value < 0:
        raise t.error("speed", f'must be a positive factor or "max", got {value}')
    return value


def _symbols(t: Table) -> tuple[str, ...]:
    symbols = t.get("symbols", list, [])
    if not all(isinstance(s, str) and s for s in symbols):
        raise t.error("symbols", "must be a list of symbol names")
    return tuple(symbols)
