"""LOBSTER market data: replay a message file through the L3 book, check it against LOBSTER's own
orderbook file, look at the book at any moment, and emit normalized market-data events.

See adapters/lobster/replay.py for the window rule: when the book takes anything from the orderbook
file, and why that never hides a wrong book.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from adapters.lobster.config import LobsterDataConfig
from adapters.lobster.files import LobsterFileSet, discover
from adapters.lobster.providers import LobsterInstrumentProvider
from adapters.lobster.replay import (
    EXECUTE,
    EXECUTE_HIDDEN,
    HALT,
    HALT_PRICE,
    QUOTING_PRICE,
    LobsterReplay,
    Step,
    iter_steps,
)
from core.bench.l3 import L3Op
from core.book.interface import BookSide
from core.book.truth import BookView, TruthCheck
from core.instruments import Instrument
from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)

FORMAT = "lobster"
_NO_RECEIVE_TIME = 0  # LOBSTER records exchange time only


class LobsterDataClient:
    """Historical data client for one LOBSTER dataset (single reader, single thread)."""

    def __init__(self, config: LobsterDataConfig, provider: LobsterInstrumentProvider | None = None) -> None:
        self.config = config
        self.files: LobsterFileSet = discover(config.path)
        self.instrument: Instrument = (provider or LobsterInstrumentProvider()).instrument(self.files.symbol)
        self.replay: LobsterReplay | None = None  # the replay of the last run, for its counts

    # -- replay -------------------------------------------------------------------------------------
    def steps(self, track_changes: bool = False) -> Iterator[tuple[Step, list[str]]]:
        """Apply every message to a fresh book and synchronise it with the truth row (replay.py's window
        rule); yields each step with its mismatches. `self.replay` holds the book and the counts."""
        return self._drive(self._start(track_changes))

    def _start(self, track_changes: bool) -> LobsterReplay:
        self.replay = LobsterReplay(self.files.level, track_changes=track_changes)
        return self.replay

    def _drive(self, replay: LobsterReplay) -> Iterator[tuple[Step, list[str]]]:
        for step in iter_steps(self.files, self.config.zone):
            replay.apply(step)
            yield step, replay.sync(step)

    def events(self) -> Iterator[MarketEvent]:
        """Normalized events: a snapshot after the first message, then per message the trades it
        reports and the aggregated level changes it causes (absolute sizes; 0 deletes), a GAP state
        plus a fresh snapshot if the book ever disagrees with the truth, and ENDED at the end.
        Trading halts (type 7) come as FeedStateEvent(OK) whose text says what changed: the feed stays
        synchronised through a halt.

        Applying them in order to an L2Book reproduces the reconstructed book's visible levels.
        `venue_seq` is the message's row number; LOBSTER records no receive time (0)."""
        iid = self.instrument.id
        replay = self._start(track_changes=True)
        book = replay.book
        last_seq = 0
        for step, mismatches in self._drive(replay):
            t = step.type
            if t in (EXECUTE, EXECUTE_HIDDEN):
                # An execution of a sell limit order is a buyer-initiated trade, and vice versa.
                aggressor = Aggressor.BUY if step.direction == -1 else Aggressor.SELL
                yield TradeEvent(
                    iid, step.index, step.ts_ns, _NO_RECEIVE_TIME, step.price, step.size, aggressor
                )
            elif t == HALT:
                yield FeedStateEvent(
                    iid, step.ts_ns, FeedStatus.OK, last_seq, step.index, text=_halt_text(step)
                )
            changes = book.drain_changes()
            if last_seq == 0 or mismatches:
                if mismatches:
                    text = f"book differs from LOBSTER's orderbook row {step.index}: " + "; ".join(mismatches)
                    yield FeedStateEvent(
                        iid, step.ts_ns, FeedStatus.GAP, last_seq, step.index, text=text[:500]
                    )
                yield self._snapshot(replay, step)
                last_seq = step.index
            elif changes:
                levels = tuple((side, price, book.level_size(side, price)) for side, price in changes)
                yield BookDeltaEvent(iid, step.index, step.ts_ns, _NO_RECEIVE_TIME, levels, last_seq)
                last_seq = step.index
        yield FeedStateEvent(
            iid, replay.last_ts_ns, FeedStatus.ENDED, last_seq, last_seq, text="end of LOBSTER file"
        )

    def _snapshot(self, replay: LobsterReplay, step: Step) -> BookSnapshotEvent:
        n = self.files.level
        bids = tuple((p, s) for p, s, _ in replay.book.top(BookSide.BID, n))
        asks = tuple((p, s) for p, s, _ in replay.book.top(BookSide.ASK, n))
        return BookSnapshotEvent(self.instrument.id, step.index, step.ts_ns, _NO_RECEIVE_TIME, bids, asks)

    # -- results ------------------------------------------------------------------------------------
    def check(self) -> TruthCheck:
        """Replay the whole file, comparing the book with every orderbook row."""
        for _ in self.steps():
            pass
        return self.truth_check()

    def book_at(self, at_ns: int | None, depth: int) -> BookView:
        """The book after the last message at or before `at_ns` (None: the end of the file), best
        `depth` levels per side. The book knows at most the file's level, so depth is capped there."""
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        replay = self._start(track_changes=False)
        for step in iter_steps(self.files, self.config.zone):
            if at_ns is not None and step.ts_ns > at_ns:
                if replay.counts.messages == 0:
                    raise ValueError(
                        f"{self.config.path}: no message at or before {at_ns} ns; the first is at "
                        f"{step.ts_ns} ns ({self.files.symbol} {self.files.date})"
                    )
                break
            replay.apply(step)
            replay.sync(step)
        if replay.counts.messages == 0:
            raise ValueError(f"{self.config.path}: the message file is empty")
        n = min(depth, self.files.level)
        return BookView(
            source=self.config.path,
            format=FORMAT,
            symbol=self.files.symbol,
            ts_ns=replay.last_ts_ns,
            update_id=replay.last_index,
            price_exponent=self.instrument.price_exponent,
            qty_exponent=self.instrument.qty_exponent,
            bids=[(p, s) for p, s, _ in replay.book.top(BookSide.BID, n)],
            asks=[(p, s) for p, s, _ in replay.book.top(BookSide.ASK, n)],
        )

    def truth_check(self) -> TruthCheck:
        """The comparison figures of the last replay (`check()`, or a loop over `steps()`)."""
        replay = self.replay
        if replay is None:
            raise RuntimeError("nothing replayed yet: run check() or iterate steps() first")
        c, stats, f = replay.counts, replay.book.stats, self.files
        check = TruthCheck(
            source=self.config.path,
            format=FORMAT,
            truth=f"LOBSTER orderbook rows, level {f.level}",
            states_compared=c.states_compared,
            levels_compared=c.slots_compared,
            levels_mismatched=c.slots_mismatched,
            states_mismatched=c.states_mismatched,
            messages=c.messages,
        )
        check.first_mismatches = list(c.mismatch_examples)
        types = ", ".join(f"{_TYPE_NAMES.get(t, f'type {t}')} {n}" for t, n in sorted(c.by_type.items()))
        occupied = c.levels_pure + c.levels_with_seed
        notes = [
            f"{f.symbol} {f.date} level {f.level}: {c.messages} messages ({types})",
            f"levels compared: {c.slots_compared} slots = {occupied} occupied levels "
            f"({c.levels_pure} made only of orders seen in the message file, {c.levels_with_seed} still "
            f"holding size learned when the level entered the window) + {c.slots_compared_empty} empty slots",
            f"levels seeded from the orderbook file (entered the visible window from outside, or present "
            f"when the file starts; not counted as compared at that step): {c.slots_seeded} "
            f"(size {c.seeded_size})",
            f"levels forgotten on leaving the visible window: {stats.truncated_levels} "
            f"(holding {stats.truncated_orders} known orders)",
            f"messages about orders the book never saw: {stats.unknown_orders} (cancels "
            f"{stats.unknown_cancels}, deletions {stats.unknown_deletes}, executions "
            f"{stats.unknown_executions}); size taken from seeded size "
            f"{stats.unknown_size_from_unattributed}, unmatched {stats.unknown_size_unmatched}",
            f"hidden executions: {stats.hidden_executions} "
            f"(size {stats.hidden_executed_size}, no book change)",
        ]
        if stats.halts:
            notes.append(f"trading halts: {stats.halts}")
        if c.rejected:
            notes.append(f"malformed messages skipped: {c.rejected} (" + "; ".join(c.rejected_examples) + ")")
        if c.time_reversals:
            notes.append(f"timestamps going backwards: {c.time_reversals}")
        conflicts = {
            "duplicate adds": stats.duplicate_adds,
            "price conflicts": stats.price_conflicts,
            "side conflicts": stats.side_conflicts,
            "oversized cancels/executions": stats.oversize,
            "deletions with a different size": stats.delete_size_conflicts,
            "executions while not trading": stats.executions_while_not_trading,
        }
        found = [f"{k} {v}" for k, v in conflicts.items() if v]
        if found:
            notes.append("feed inconsistencies: " + ", ".join(found))
        check.notes = notes
        return check


_TYPE_NAMES = {
    1: "submissions",
    2: "partial cancels",
    3: "deletions",
    4: "visible executions",
    5: "hidden executions",
    7: "halt messages",
}


def _halt_text(step: Step) -> str:
    if step.price == HALT_PRICE:
        return "trading halted"
    if step.price == QUOTING_PRICE:
        return "quoting resumed, trading still halted"
    return "trading resumed"


# -- the public API the `aerodesk data` CLI calls ---------------------------------------------------
def check_file(path: str) -> TruthCheck:
    """Replay a LOBSTER dataset (zip, or message CSV with its orderbook CSV beside it) and compare the
    reconstructed book with LOBSTER's orderbook row after every message."""
    return LobsterDataClient(LobsterDataConfig(str(path))).check()


def book_at(path: str, at_ns: int | None, depth: int) -> BookView:
    """The reconstructed book after the last message at or before `at_ns` (epoch ns; None = end of
    file), best `depth` levels per side (at most the file's level)."""
    return LobsterDataClient(LobsterDataConfig(str(path))).book_at(at_ns, depth)


def l3_ops(path: str | Path) -> list[L3Op]:
    """The message file as L3 book operations (core.bench.l3's op format), halts left out: the real
    op stream for `run_l3_bench(ops=...)`. No seeding: orders older than the file stay unknown."""
    out: list[L3Op] = []
    for s in iter_steps(discover(path)):
        if s.type != HALT:
            side = BookSide.BID if s.direction == 1 else BookSide.ASK
            out.append((s.type, s.order_id, side, s.price, s.size))
    return out
