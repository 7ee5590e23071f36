"""The Binance book-sync state machine: the venue's own rules for keeping a local book in step.

Spot ("How to manage a local order book correctly", Binance spot WebSocket streams):
  1. Buffer the diff events; note U of the first one.
  2. Take a REST depth snapshot. If it cannot bridge the first buffered event (lastUpdateId + 1 < U),
     it is too old: fetch another (we count it as a stale snapshot and keep buffering).
  3. Discard buffered events with u <= lastUpdateId; the book's update id becomes lastUpdateId.
  4. For each event: u <= book id -> ignore it; U > book id + 1 -> updates were lost: discard the
     book and start again from step 1; otherwise apply it (absolute quantities, 0 deletes) and set
     the book id to u. The first applied event therefore has U <= lastUpdateId + 1 <= u.
  (The venue's page says "lastUpdateId < U -> refetch"; a snapshot with lastUpdateId == U - 1 bridges
  exactly by rule 4, so we accept it.)

USD-M futures ("How to manage a local order book correctly", Binance USD-M futures):
  1-3 as above, but drop events with u < lastUpdateId, and the first processed event must have
  U <= lastUpdateId <= u.
  4. Every later event's pu must equal the previous event's u; otherwise re-initialise from step 3.
  (An event entirely in the past, u <= book id, is ignored as a duplicate rather than forcing a
  resync: applying it could only corrupt the book, and dropping it loses nothing.)

A "chained" snapshot is a recorded book known to be exactly the state after the diff whose final
update id is its id (e.g. a book reconstructed by a recorder). No bridging rule applies: the next
diff must follow it by the ordinary update rule (spot: U <= id + 1 <= u; USD-M: pu == id).

Gaps are counted, the book is discarded (consumers get a GAP FeedStateEvent) and the machine waits
for a new snapshot; `needs_snapshot` tells a live client to fetch one. Nothing here raises on feed
content: every anomaly is counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from core.book.fast import FastL2Book
from core.book.interface import BookSide, L2Book, Level, LevelUpdate
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
)


class SyncRules(StrEnum):
    SPOT = "spot"
    USDM = "usdm"


class SyncState(Enum):
    WAITING_SNAPSHOT = "waiting for a snapshot"
    SYNCED = "synchronised"


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """One parsed depth-update event (mantissas already exact ints)."""

    first_id: int  # U
    final_id: int  # u
    prev_final_id: int | None  # pu (USD-M); None on spot
    exchange_ts_ns: int
    receive_ts_ns: int
    levels: tuple[LevelUpdate, ...]


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    """A full depth snapshot at update id `last_update_id`."""

    last_update_id: int
    exchange_ts_ns: int
    receive_ts_ns: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    chained: bool = False  # a recorded book right after diff `last_update_id`, not a REST snapshot


@dataclass
class SyncStats:
    diffs_applied: int = 0
    diffs_buffered: int = 0
    diffs_dropped_stale: int = 0  # u already covered by the book (or by the snapshot)
    buffer_overflows: int = 0  # oldest buffered diffs dropped while waiting too long for a snapshot
    snapshots_applied: int = 0
    snapshots_stale: int = 0  # too old to bridge the buffered diffs
    snapshots_ignored: int = 0  # arrived while already synchronised
    gaps: int = 0
    crossed_states: int = 0  # complete updates after which best bid >= best ask

    @property
    def resyncs(self) -> int:
        """Synchronisations after the first one."""
        return max(0, self.snapshots_applied - 1)

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"resyncs": self.resyncs}


@dataclass
class BookSync:
    """Keeps one instrument's L2 book in step with a Binance depth stream (see the module docstring)."""

    instrument_id: int
    rules: SyncRules
    book: L2Book = field(default_factory=FastL2Book)
    max_buffered: int = 10_000
    stats: SyncStats = field(default_factory=SyncStats)

    def __post_init__(self) -> None:
        self.book.instrument_id = self.instrument_id
        self.state = SyncState.WAITING_SNAPSHOT
        self._buffer: deque[DepthDiff] = deque()
        self._awaiting_first = False  # USD-M: next diff must straddle the REST snapshot's id
        self._crossed = False
        self.last_exchange_ts_ns = 0  # of the last applied snapshot or diff

    @property
    def synced(self) -> bool:
        return self.state is SyncState.SYNCED

    @property
    def needs_snapshot(self) -> bool:
        return self.state is SyncState.WAITING_SNAPSHOT

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    # -- inputs ---------------------------------------------------------------------------------
    def on_diff(self, diff: DepthDiff) -> list[MarketEvent]:
        if self.state is SyncState.WAITING_SNAPSHOT:
            self._buffer_diff(diff)
            return []
        return self._apply_live(diff)

    def on_snapshot(self, snap: DepthSnapshot) -> list[MarketEvent]:
        if self.state is SyncState.SYNCED:
            self.stats.snapshots_ignored += 1
            return []
        if not snap.chained and self._buffer and not self._bridges(snap.last_update_id, self._buffer[0]):
            self.stats.snapshots_stale += 1
            return [
                FeedStateEvent(
                    self.instrument_id,
                    snap.receive_ts_ns,
                    FeedStatus.STALE,
                    expected_seq=self._buffer[0].first_id,
                    received_seq=snap.last_update_id,
                    gap_count=self.stats.gaps,
                    text="depth snapshot older than the first buffered diff: fetch a newer one",
                )
            ]
        self.book.apply_snapshot(snap.bids, snap.asks, snap.last_update_id)
        self.state = SyncState.SYNCED
        self._awaiting_first = self.rules is SyncRules.USDM and not snap.chained
        self._crossed = False
        self.stats.snapshots_applied += 1
        self.last_exchange_ts_ns = snap.exchange_ts_ns
        events: list[MarketEvent] = [
            BookSnapshotEvent(
                self.instrument_id,
                snap.last_update_id,
                snap.exchange_ts_ns,
                snap.receive_ts_ns,
                tuple(self.book.depth(BookSide.BID)),
                tuple(self.book.depth(BookSide.ASK)),
            ),
            FeedStateEvent(
                self.instrument_id,
                snap.receive_ts_ns,
                FeedStatus.OK,
                received_seq=snap.last_update_id,
                gap_count=self.stats.gaps,
                text="synchronised" if self.stats.snapshots_applied == 1 else "resynchronised",
            ),
        ]
        pending, self._buffer = self._buffer, deque()
        for diff in pending:
            if self.state is SyncState.SYNCED:
                events.extend(self._apply_live(diff))
            else:  # a gap inside the buffer: keep what follows it for the next snapshot
                self._buffer_diff(diff)
        return events

    # -- the rules ------------------------------------------------------------------------------
    def _bridges(self, last_update_id: int, first: DepthDiff) -> bool:
        """Can a REST snapshot at last_update_id be bridged to the first buffered diff?"""
        if self.rules is SyncRules.SPOT:
            return first.first_id <= last_update_id + 1
        return first.first_id <= last_update_id

    def _apply_live(self, diff: DepthDiff) -> list[MarketEvent]:
        book_id = self.book.update_id
        if self.rules is SyncRules.SPOT:
            if diff.final_id <= book_id:
                self.stats.diffs_dropped_stale += 1
                return []
            if diff.first_id > book_id + 1:
                return self._gap(diff, expected=book_id + 1, received=diff.first_id)
        elif self._awaiting_first:
            if diff.final_id < book_id:
                self.stats.diffs_dropped_stale += 1
                return []
            if diff.first_id > book_id:
                return self._gap(diff, expected=book_id, received=diff.first_id)
            self._awaiting_first = False
        elif diff.prev_final_id != book_id:
            if diff.final_id <= book_id:
                self.stats.diffs_dropped_stale += 1
                return []
            received = diff.prev_final_id if diff.prev_final_id is not None else diff.first_id
            return self._gap(diff, expected=book_id, received=received)

        self.book.apply_deltas(diff.levels, diff.final_id)
        self.stats.diffs_applied += 1
        self.last_exchange_ts_ns = diff.exchange_ts_ns
        events: list[MarketEvent] = [
            BookDeltaEvent(
                self.instrument_id,
                diff.final_id,
                diff.exchange_ts_ns,
                diff.receive_ts_ns,
                diff.levels,
                prev_venue_seq=book_id,
                first_venue_seq=diff.first_id,
            )
        ]
        crossed = self.book.is_crossed()
        if crossed:
            self.stats.crossed_states += 1
        if crossed != self._crossed:
            self._crossed = crossed
            events.append(
                FeedStateEvent(
                    self.instrument_id,
                    diff.receive_ts_ns,
                    FeedStatus.CROSSED if crossed else FeedStatus.OK,
                    received_seq=diff.final_id,
                    gap_count=self.stats.gaps,
                    text="best bid >= best ask" if crossed else "uncrossed",
                )
            )
        return events

    def _gap(self, diff: DepthDiff, expected: int, received: int) -> list[MarketEvent]:
        self.stats.gaps += 1
        self.state = SyncState.WAITING_SNAPSHOT
        self._awaiting_first = False
        self.book.clear()
        self._buffer.clear()
        self._buffer_diff(diff)  # the diff that revealed the gap is the first of the new buffer
        return [
            FeedStateEvent(
                self.instrument_id,
                diff.receive_ts_ns,
                FeedStatus.GAP,
                expected_seq=expected,
                received_seq=received,
                gap_count=self.stats.gaps,
                text="depth updates lost: book discarded, waiting for a new snapshot",
            )
        ]

    def _buffer_diff(self, diff: DepthDiff) -> None:
        if len(self._buffer) >= self.max_buffered:
            self._buffer.popleft()
            self.stats.buffer_overflows += 1
        self._buffer.append(diff)
        self.stats.diffs_buffered += 1
