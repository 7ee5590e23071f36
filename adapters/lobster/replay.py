"""Replaying a LOBSTER message file through an L3 book, with LOBSTER's orderbook file as the truth.

The window rule (why the book ever looks at the truth)
-------------------------------------------------------
A LOBSTER file of level N reports only events inside the visible window: on each side, the prices at
or better than the N-th occupied level (every price when the side has fewer than N levels). Events
beyond the window, and everything before the file starts, are never in the message file. So the book
keeps, per side, a *horizon*: the set of prices it has watched continuously since they were last in
the window. On the bid side that is every price >= the horizon, on the ask side every price <=.

Before the first message nothing is known (the horizon is empty). After each message, with the
orderbook row that LOBSTER wrote for it:

1. Seed: a level of the truth row lying beyond the horizon has just entered the window from outside
   (or was there when the file starts). The book cannot know its size, so it learns it once: it adds
   (truth size - size the book already holds at that price) as *unattributed* size, the combined size
   of orders it never saw. The book holds something there only if this very message added it; if it
   holds more than the truth, nothing is seeded and the slot mismatches. Levels inside the horizon are
   never seeded: whatever the book holds there comes from messages alone.
2. Forget: each side keeps its N best levels. Orders beyond them are dropped: their level left the
   window, the file reports nothing there any more, and should it come back it is seeded afresh.
3. Compare: all N slots per side (price and size, empty slots included) are compared with the row. A
   slot seeded in step 1 that matches counts as seeded, every other slot as compared.
4. Advance the horizon from the book's own state: the N-th best price, or every price when the book
   has fewer than N levels on that side (then the side has no more levels to report).

So the truth supplies sizes only where the book provably lacks knowledge, and only the book itself
decides where its knowledge ends: a wrong book is never repaired by seeding, it mismatches (a wrong
level that leaves the window before a row shows it cannot be caught: nothing reports on it). Messages
about orders the book never saw take their size from the level's unattributed part (core.book.l3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.lobster.files import (
    EMPTY_ASK_PRICE,
    EMPTY_BID_PRICE,
    LobsterFileSet,
    LobsterFormatError,
    iter_messages,
    iter_orderbook,
)
from core.book.interface import BookSide
from core.book.l3 import L3Book

SUBMIT, CANCEL, DELETE, EXECUTE, EXECUTE_HIDDEN, HALT = 1, 2, 3, 4, 5, 7
HALT_PRICE, QUOTING_PRICE, RESUME_PRICE = -1, 0, 1
EXCHANGE_TZ = ZoneInfo("America/New_York")

# Horizons: the bid side knows prices >= its horizon, the ask side prices <= its horizon.
_BID_NOTHING, _BID_ALL = 2**63, -(2**63)
_ASK_NOTHING, _ASK_ALL = -(2**63), 2**63
_MAX_EXAMPLES = 20


def midnight_epoch_ns(day, tz: ZoneInfo = EXCHANGE_TZ) -> int:
    """Epoch ns of local midnight. LOBSTER times are seconds elapsed since then."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return (midnight - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


@dataclass(slots=True)
class Step:
    """One message row with its orderbook row (the state after it)."""

    index: int  # 1-based row number in both files
    ts_ns: int  # epoch ns
    type: int
    order_id: int
    size: int
    price: int
    direction: int
    row: list[int]


def iter_steps(files: LobsterFileSet, tz: ZoneInfo = EXCHANGE_TZ) -> Iterator[Step]:
    """Message rows paired with their orderbook rows; a clear error when the files disagree in length."""
    base = midnight_epoch_ns(files.date, tz)
    books = iter_orderbook(files)
    rows: list[list[int]] = []
    pos = 0
    for batch in iter_messages(files):
        times = batch.ns_after_midnight
        for j in range(len(batch)):
            if pos == len(rows):
                nxt = next(books, None)
                if nxt is None:
                    raise LobsterFormatError(
                        f"{files.describe(files.orderbook_file)} ends at row {batch.first + j - 1}, "
                        f"but the message file goes on"
                    )
                rows, pos = nxt[1], 0
            yield Step(
                batch.first + j,
                base + times[j],
                batch.types[j],
                batch.order_ids[j],
                batch.sizes[j],
                batch.prices[j],
                batch.directions[j],
                rows[pos],
            )
            pos += 1
    if pos < len(rows) or next(books, None) is not None:
        raise LobsterFormatError(
            f"{files.describe(files.orderbook_file)} has more rows than the message file "
            f"{files.describe(files.message_file)}"
        )


@dataclass
class ReplayCounts:
    messages: int = 0
    by_type: dict[int, int] = field(default_factory=dict)
    rejected: int = 0  # malformed messages, counted and skipped
    rejected_examples: list[str] = field(default_factory=list)
    time_reversals: int = 0
    states_compared: int = 0
    states_mismatched: int = 0
    slots_compared: int = 0  # level slots compared with the truth (excludes slots just seeded)
    slots_compared_empty: int = 0  # of those, both sides agree the slot is empty
    levels_pure: int = 0  # compared occupied levels made only of orders the book saw arrive
    levels_with_seed: int = 0  # compared occupied levels still holding some seeded (unattributed) size
    slots_seeded: int = 0  # slots whose level entered the window from outside and was seeded
    seeded_size: int = 0
    slots_mismatched: int = 0
    mismatch_examples: list[str] = field(default_factory=list)

    def reject(self, index: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_examples) < _MAX_EXAMPLES:
            self.rejected_examples.append(f"row {index}: {reason}")


class LobsterReplay:
    """Drives an L3 book from LOBSTER messages and keeps it synchronised with the truth rows by the
    window rule above. Single writer: one thread owns it."""

    def __init__(self, level: int, track_changes: bool = False) -> None:
        if level < 1:
            raise ValueError(f"level must be at least 1, got {level}")
        self.level = level
        self.book = L3Book(track_changes=track_changes)
        self.counts = ReplayCounts()
        self.bid_horizon = _BID_NOTHING
        self.ask_horizon = _ASK_NOTHING
        self.last_ts_ns = 0
        self.last_index = 0

    # -- messages -------------------------------------------------------------------------------------
    def apply(self, step: Step) -> bool:
        """Apply one message to the book. False when it is malformed (counted, book unchanged)."""
        c = self.counts
        c.messages += 1
        t = step.type
        c.by_type[t] = c.by_type.get(t, 0) + 1
        if step.ts_ns < self.last_ts_ns:
            c.time_reversals += 1
        self.last_ts_ns = step.ts_ns
        self.last_index = step.index
        book = self.book
        if t == HALT:
            return self._status(step)
        d = step.direction
        if d == 1:
            side = BookSide.BID
        elif d == -1:
            side = BookSide.ASK
        else:
            c.reject(step.index, f"direction {d} is neither 1 (buy) nor -1 (sell)")
            return False
        size, price = step.size, step.price
        if t == DELETE:
            if size < 0:
                c.reject(step.index, f"negative size {size}")
                return False
            book.delete(step.order_id, side, price, size)
            return True
        if size <= 0:
            if t in (SUBMIT, CANCEL, EXECUTE, EXECUTE_HIDDEN):
                c.reject(step.index, f"event type {t} with non-positive size {size}")
            else:
                c.reject(step.index, f"unknown event type {t}")
            return False
        if t == SUBMIT:
            if price <= 0:
                c.reject(step.index, f"submission at non-positive price {price}")
                return False
            book.add(step.order_id, side, price, size)
        elif t == EXECUTE:
            book.execute(step.order_id, size, side, price)
        elif t == CANCEL:
            book.cancel(step.order_id, size, side, price)
        elif t == EXECUTE_HIDDEN:
            book.execute_hidden(size)
        else:
            c.reject(step.index, f"unknown event type {t}")
            return False
        return True

    def _status(self, step: Step) -> bool:
        if step.price == HALT_PRICE:
            self.book.halt()
        elif step.price == QUOTING_PRICE:
            self.book.resume_quoting()
        elif step.price == RESUME_PRICE:
            self.book.resume_trading()
        else:
            self.counts.reject(
                step.index, f"trading-halt message with price {step.price} (expected -1, 0 or 1)"
            )
            return False
        return True

    # -- truth ----------------------------------------------------------------------------------------
    def sync(self, step: Step) -> list[str]:
        """Seed what the book cannot know, forget what left the window, compare every slot with the
        truth row, advance the horizon. Returns descriptions of mismatched slots (empty if none)."""
        n = self.level
        row = step.row
        book = self.book
        c = self.counts
        seeded: set[tuple[int, int]] = set()
        # The truth's furthest slot tells whether any of its levels lie beyond the horizon.
        if row[4 * n - 4] > self.ask_horizon or row[4 * n - 2] < self.bid_horizon:
            seeded = self._seed(row)
        book.truncate(BookSide.BID, n)
        book.truncate(BookSide.ASK, n)
        asks = book.prices(BookSide.ASK, n)
        bids = book.prices(BookSide.BID, n)
        c.states_compared += 1
        if (
            len(asks) == n
            and len(bids) == n
            and asks == row[0::4]
            and bids == row[2::4]
            and book.sizes(BookSide.ASK, asks) == row[1::4]
            and book.sizes(BookSide.BID, bids) == row[3::4]
        ):
            # Fast path: the whole row matches and both sides are full. Every seeded slot holds
            # unattributed size, so the rest of the levels holding some were compared.
            holding = book.unattributed_level_count(BookSide.ASK) + book.unattributed_level_count(
                BookSide.BID
            )
            c.slots_seeded += len(seeded)
            c.slots_compared += 2 * n - len(seeded)
            c.levels_with_seed += holding - len(seeded)
            c.levels_pure += 2 * n - holding
            self.ask_horizon, self.bid_horizon = asks[-1], bids[-1]
            return []
        mismatches = self._compare_slots(row, seeded)
        if mismatches:
            c.states_mismatched += 1
            c.slots_mismatched += len(mismatches)
            if len(c.mismatch_examples) < _MAX_EXAMPLES:
                c.mismatch_examples.append(
                    f"message {step.index} (type {step.type}): " + "; ".join(mismatches)
                )
        bid = book.nth_price(BookSide.BID, n)
        ask = book.nth_price(BookSide.ASK, n)
        self.bid_horizon = _BID_ALL if bid is None else bid
        self.ask_horizon = _ASK_ALL if ask is None else ask
        return mismatches

    def _compare_slots(self, row: list[int], seeded: set[tuple[int, int]]) -> list[str]:
        n, c = self.level, self.counts
        asks = self.book.top(BookSide.ASK, n)
        bids = self.book.top(BookSide.BID, n)
        mismatches: list[str] = []
        for k in range(n):
            base = 4 * k
            for off, top, empty in ((0, asks, EMPTY_ASK_PRICE), (2, bids, EMPTY_BID_PRICE)):
                tp, ts = row[base + off], row[base + off + 1]
                if k < len(top):
                    bp, bs, unattributed = top[k]
                else:
                    bp, bs, unattributed = empty, 0, 0
                same = bp == tp and bs == ts
                if same and (off, k) in seeded:
                    c.slots_seeded += 1
                    continue
                c.slots_compared += 1
                if not same:
                    name = "ask" if off == 0 else "bid"
                    mismatches.append(f"{name} {k + 1}: book {_slot(bp, bs)}, truth {_slot(tp, ts)}")
                elif tp == empty:
                    c.slots_compared_empty += 1
                elif unattributed:
                    c.levels_with_seed += 1
                else:
                    c.levels_pure += 1
        return mismatches

    def _seed(self, row: list[int]) -> set[tuple[int, int]]:
        book = self.book
        seeded = set()
        for k in range(self.level):
            base = 4 * k
            ap, asz, bp, bsz = row[base], row[base + 1], row[base + 2], row[base + 3]
            if ap != EMPTY_ASK_PRICE and ap > self.ask_horizon:
                need = asz - book.level_size(BookSide.ASK, ap)
                if need > 0:
                    book.seed(BookSide.ASK, ap, need)
                    seeded.add((0, k))
                    self.counts.seeded_size += need
            if bp != EMPTY_BID_PRICE and bp < self.bid_horizon:
                need = bsz - book.level_size(BookSide.BID, bp)
                if need > 0:
                    book.seed(BookSide.BID, bp, need)
                    seeded.add((2, k))
                    self.counts.seeded_size += need
        return seeded


def _slot(price: int, size: int) -> str:
    if abs(price) == EMPTY_ASK_PRICE:
        return "empty" if size == 0 else f"empty(size {size})"
    return f"{size}@{price}"
