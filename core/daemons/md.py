"""The md daemon: one feed (core/daemons/md_feeds.py) published on the market_data stream.

Every normalized event becomes one SBE message: BookSnapshot, BookDelta, Trade or FeedState (venue
top-of-book events have no bus message and are counted as ignored). The daemon stamps

- `seq`: per instrument, over BookSnapshot, BookDelta and Trade, gap-free from 1: a consumer that sees
  seq jump knows it lost messages and waits for the next snapshot. Every message takes the next seq
  when it is handed to the publisher, so a message the bus could not deliver leaves a gap as well.
- `receiveTs`: the injected clock's time when the feed handed the event over; `publishTs`: its time
  just before the message is offered. `exchangeTs` and `venueSeq` are the venue's (0 when it gave none).

It keeps its own L2 book per instrument (from the feed's snapshots and deltas) and republishes a full
BookSnapshot of each every `snapshot_interval_ms`, so late joiners (TUI, a restarted strategy host)
can build books. A book the feed reported lost (FeedState Gap / Resyncing / Stale) is not republished
until the feed's next snapshot. FeedState with instrumentId 0 speaks for the whole feed (a recorded
file that could not be read on).

Back pressure holds the frame and retries it on the next duty cycle (nothing is lost, the feed waits);
other failed offers (no subscriber, driver lost) drop the message, counted by reason, and the
instrument's book is republished as soon as the stream is connected again. Bad events are counted and
skipped: the daemon never dies on its input.

Config ([daemon.config] of a `kind = "md"` daemon):

    feed = "synthetic"            # see md_feeds.py for the feeds and their own keys
    snapshot_interval_ms = 2000   # full-book republish period per instrument (0: never)
    snapshot_depth = 500          # levels per side in a published snapshot
    max_batch = 512               # events handled per duty cycle at most (keeps heartbeats flowing)
    instruments = "path"          # optional static data file (relative to the profile), else configs/
    wait_for_subscriber = false   # start the feed only once someone listens (default: true for
                                  # recorded files, so a replay is seen from its beginning)
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence

from core.agent.clock import Clock
from core.agent.ratelimit import RateLimitedLog
from core.book import BookSide, FastL2Book, Level
from core.bus.publisher import OfferFailure, Publisher, RetryPolicy
from core.codec.messages import BookDelta, BookSnapshot, FeedState, Trade
from core.config import Table
from core.daemons.host import DaemonHost
from core.daemons.md_feeds import Feed, RecordedFeed, load_feed, static_data
from core.daemons.profile import DaemonSpec
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)

log = logging.getLogger("aerodesk.md")

# Back pressure is not retried inside offer: the frame is held and retried next duty cycle instead,
# so a slow consumer never stalls the duty cycle (heartbeats keep flowing).
MD_RETRY = RetryPolicy(back_pressured=0, admin_action=10, not_connected=0)
_BOOK_LOST = frozenset({FeedStatus.GAP, FeedStatus.RESYNCING, FeedStatus.STALE})
_HOLD = (OfferFailure.BACK_PRESSURED, OfferFailure.ADMIN_ACTION)


class MdConfig:
    def __init__(self, t: Table, *, recorded: bool = False) -> None:
        self.wait_for_subscriber = t.get("wait_for_subscriber", bool, recorded)
        self.snapshot_interval_ns = _non_negative(t, "snapshot_interval_ms", 2000) * 1_000_000
        self.snapshot_depth = _positive(t, "snapshot_depth", 500)
        self.max_batch = _positive(t, "max_batch", 512)
        if self.snapshot_depth > 65534:
            raise t.error("snapshot_depth", "must be at most 65534 (the SBE group limit)")


class MarketDataPublisher:
    """The md agent: polls the feed, keeps books, publishes SBE market data with per-instrument seq."""

    def __init__(
        self, role_name: str, feed: Feed, publisher: Publisher, clock: Clock, config: MdConfig
    ) -> None:
        self.role_name = role_name
        self.feed = feed
        self._next_event = getattr(feed, "next_event_ns", None)  # optional: timed feeds tell their next event
        self.publisher = publisher
        self.clock = clock
        self.config = config
        self._buf = bytearray(publisher.stream.max_message_length)
        self._pending: deque[tuple[int, MarketEvent]] = deque()  # (receive ts, event)
        self._held: bytes | None = None  # a frame the stream pushed back on, retried first
        self._held_kind = ""
        self._seq: dict[int, int] = {}
        self._books: dict[int, FastL2Book] = {}
        self._book_ok: dict[int, bool] = {}
        self._exchange_ts: dict[int, int] = {}
        self._resnapshot: set[int] = set()
        self._next_snapshot_ns = 0
        self._report = RateLimitedLog(log)
        self._ended_logged = False
        self._started = False
        self.c = {
            "published": 0,
            "snapshots": 0,
            "deltas": 0,
            "trades": 0,
            "feed_states": 0,
            "republished": 0,
            "gaps": 0,
            "dropped": 0,
            "held": 0,
            "unregistered": 0,
            "ignored": 0,
            "bad_events": 0,
            "feed_started": 0,
            "feed_ended": 0,
        }

    # -- Agent ------------------------------------------------------------------------------------
    def on_start(self) -> None:
        if not self.config.wait_for_subscriber:
            self._start_feed()
        else:
            log.info("md %s: feed %s waits for a subscriber", self.role_name, self.feed.name)

    def _start_feed(self) -> None:
        now = self.clock.time_ns()
        self.feed.start(now)
        self._started = True
        self.c["feed_started"] = 1
        if self.config.snapshot_interval_ns:
            self._next_snapshot_ns = now + self.config.snapshot_interval_ns
        log.info("md %s: feed %s started", self.role_name, self.feed.name)

    def do_work(self) -> int:
        if not self._started:
            if not self.publisher.is_connected:
                return 0
            self._start_feed()
        if self._held is not None and not self._retry_held():
            return 0
        work = 0
        now = self.clock.time_ns()
        if not self._pending and not self.feed.finished:
            for event in self.feed.poll(now, self.config.max_batch):
                self._pending.append((now, event))
        budget = self.config.max_batch
        while self._pending and self._held is None and budget:
            receive_ts, event = self._pending.popleft()
            self._on_event(event, receive_ts)
            budget -= 1
            work += 1
        if self.feed.finished and not self._ended_logged and not self._pending:
            self._ended_logged = True
            self.c["feed_ended"] = 1
            error = getattr(self.feed, "error", "")
            if error:
                log.error("md %s: feed %s stopped on bad input: %s", self.role_name, self.feed.name, error)
            else:
                log.info("md %s: feed %s ended", self.role_name, self.feed.name)
        if self._held is None:
            work += self._snapshots(now)
        return work

    def next_deadline_ns(self) -> int | None:
        """The feed's next event, when it can tell (the synthetic market can; a recorded file polls)."""
        if not self._started or self._pending:
            return None
        next_event = self._next_event
        return next_event() if next_event is not None else None

    def on_close(self) -> None:
        self.feed.close()

    def counters(self) -> dict[str, int]:
        return {**self.c, "instruments": len(self._seq), **self.feed.counters()}

    # -- events -----------------------------------------------------------------------------------
    def _on_event(self, event: MarketEvent, receive_ts: int) -> None:
        if isinstance(event, FeedStateEvent):
            self._feed_state(event)
            return
        iid = event.instrument_id
        if not isinstance(event, BookSnapshotEvent | BookDeltaEvent | TradeEvent):
            self.c["ignored"] += 1  # venue top of book: no bus message (the L2 feed is the book)
            return
        if iid <= 0:
            self.c["unregistered"] += 1  # not in static data: no stable id to publish under
            return
        try:
            if isinstance(event, BookDeltaEvent):
                self._book_delta(event, receive_ts)
            elif isinstance(event, TradeEvent):
                self._send(
                    "trades",
                    iid,
                    Trade.encode(
                        self._buf,
                        0,
                        instrumentId=iid,
                        seq=self._next_seq(iid),
                        tradeId=event.trade_id,
                        exchangeTs=event.exchange_ts_ns,
                        receiveTs=receive_ts,
                        publishTs=self.clock.time_ns(),
                        price=event.price,
                        qty=event.qty,
                        aggressorSide=int(event.aggressor),
                    ),
                )
            else:
                self._book_snapshot(event, receive_ts)
        except (ValueError, TypeError, OverflowError) as e:  # SbeError is a ValueError
            self.c["bad_events"] += 1
            self._report.report("bad_event", f"md {self.role_name}: skipped {type(event).__name__}: {e}")

    def _book_snapshot(self, event: BookSnapshotEvent, receive_ts: int) -> None:
        iid = event.instrument_id
        book = self._books.get(iid)
        if book is None:
            book = self._books[iid] = FastL2Book(iid)
        try:
            book.apply_snapshot(event.bids, event.asks, event.venue_seq)
            self._book_ok[iid] = True
        except ValueError:
            self._book_ok[iid] = False
            raise
        self._exchange_ts[iid] = event.exchange_ts_ns
        depth = self.config.snapshot_depth
        self._publish_snapshot(
            iid, event.venue_seq, event.exchange_ts_ns, receive_ts, event.bids[:depth], event.asks[:depth]
        )
        self._resnapshot.discard(iid)

    def _book_delta(self, event: BookDeltaEvent, receive_ts: int) -> None:
        iid = event.instrument_id
        book = self._books.get(iid)
        if book is not None and self._book_ok.get(iid):
            try:
                book.apply_deltas(event.levels, event.venue_seq)
            except ValueError:
                self._book_ok[iid] = False  # republished again only after the feed's next snapshot
                raise
        self._exchange_ts[iid] = event.exchange_ts_ns
        seq = self._next_seq(iid)
        length = BookDelta.encode(
            self._buf,
            0,
            instrumentId=iid,
            seq=seq,
            venueSeq=event.venue_seq,
            exchangeTs=event.exchange_ts_ns,
            receiveTs=receive_ts,
            publishTs=self.clock.time_ns(),
            levels=[(int(side), price, qty, 0) for side, price, qty in event.levels],
        )
        self._send("deltas", iid, length)

    def _feed_state(self, event: FeedStateEvent) -> None:
        iid = event.instrument_id
        if event.status in _BOOK_LOST:
            self._book_ok[iid] = False
        if event.status == FeedStatus.GAP:
            self.c["gaps"] += 1
        try:
            length = FeedState.encode(
                self._buf,
                0,
                instrumentId=max(iid, 0),
                ts=event.ts_ns or self.clock.time_ns(),
                status=int(event.status),
                expectedSeq=event.expected_seq,
                receivedSeq=event.received_seq,
                gapCount=event.gap_count,
                text=event.text[:4096],
            )
        except (ValueError, TypeError, OverflowError) as e:
            self.c["bad_events"] += 1
            self._report.report("bad_event", f"md {self.role_name}: skipped FeedStateEvent: {e}")
            return
        self._send("feed_states", iid, length)

    # -- snapshots --------------------------------------------------------------------------------
    def _snapshots(self, now: int) -> int:
        """Republish every good book when the period is up, and lost ones once the stream is back."""
        due_all = self._next_snapshot_ns and now >= self._next_snapshot_ns
        if due_all:
            self._next_snapshot_ns = now + self.config.snapshot_interval_ns
            targets = list(self._books)
        elif self._resnapshot and self.publisher.is_connected:
            targets = list(self._resnapshot)
        else:
            return 0
        work = 0
        depth = self.config.snapshot_depth
        for iid in targets:
            if self._held is not None:
                self._resnapshot.add(iid)
                continue
            book = self._books.get(iid)
            if book is None or not self._book_ok.get(iid):
                continue
            self._resnapshot.discard(iid)
            bids, asks = book.depth(BookSide.BID, depth), book.depth(BookSide.ASK, depth)
            self._publish_snapshot(iid, book.update_id, self._exchange_ts.get(iid, 0), now, bids, asks)
            self.c["republished"] += 1
            work += 1
        return work

    def _publish_snapshot(
        self,
        iid: int,
        venue_seq: int,
        exchange_ts: int,
        receive_ts: int,
        bids: Sequence[Level],
        asks: Sequence[Level],
    ) -> None:
        length = BookSnapshot.encode(
            self._buf,
            0,
            instrumentId=iid,
            seq=self._next_seq(iid),
            venueSeq=venue_seq,
            exchangeTs=exchange_ts,
            receiveTs=receive_ts,
            publishTs=self.clock.time_ns(),
            bids=[(p, q, 0) for p, q in bids],
            asks=[(p, q, 0) for p, q in asks],
        )
        self._send("snapshots", iid, length)

    # -- sending ----------------------------------------------------------------------------------
    def _next_seq(self, iid: int) -> int:
        seq = self._seq.get(iid, 0) + 1
        self._seq[iid] = seq
        return seq

    def _send(self, kind: str, iid: int, length: int) -> None:
        frame = memoryview(self._buf)[:length]
        result = self.publisher.offer(frame)
        if result is True:
            self._sent(kind)
            return
        if result in _HOLD:
            self._held = bytes(frame)
            self._held_kind = kind
            self.c["held"] += 1
            return
        self.c["dropped"] += 1
        if iid > 0:
            self._resnapshot.add(iid)
        self._report.report(
            f"drop:{result}",
            f"md {self.role_name}: market data not sent ({result.value})",
            level=logging.INFO,
        )

    def _retry_held(self) -> bool:
        assert self._held is not None
        result = self.publisher.offer(self._held)
        if result is True:
            self._sent(self._held_kind)
            self._held = None
            return True
        if result in _HOLD:
            return False
        self.c["dropped"] += 1  # the stream is gone rather than slow: give the frame up
        self._held = None
        return True

    def _sent(self, kind: str) -> None:
        self.c["published"] += 1
        self.c[kind] += 1


def build(host: DaemonHost, spec: DaemonSpec) -> list[MarketDataPublisher]:
    t = spec.config
    feed = load_feed(t, static_data(t))
    config = MdConfig(t, recorded=isinstance(feed, RecordedFeed))
    t.reject_unknown()
    publisher = host.bus.publisher("market_data", retry=MD_RETRY)
    return [MarketDataPublisher(spec.name, feed, publisher, host.clock, config)]


def _positive(t: Table, key: str, default: int) -> int:
    value = t.get(key, int, default)
    if value <= 0:
        raise t.error(key, f"must be positive, got {value}")
    return value


def _non_negative(t: Table, key: str, default: int) -> int:
    value = t.get(key, int, default)
    if value < 0:
        raise t.error(key, f"must not be negative, got {value}")
    return value
