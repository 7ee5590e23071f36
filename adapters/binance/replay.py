"""Replaying a recorded Binance file through the market-data client: the book at a time, and the
truth check (what `aerodesk data book|check` call; same shape as adapters.lobster's functions).

One symbol per replay: the one asked for, else the first one the file mentions (other symbols are
counted and skipped). Bad lines are counted with examples, never fatal.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.data import BadMessageError, BinanceDataClient, decode_message, message_kind
from adapters.binance.files import (
    LOBSTER,
    BadLine,
    FileFormatError,
    FileInfo,
    read_messages,
    scan_decimal_places,
    sniff,
)
from adapters.binance.providers import BinanceInstrumentProvider
from adapters.binance.sync import BookSync
from adapters.binance.truth import BookTruthChecker
from core.book.interface import BookSide
from core.book.truth import BookView, TruthCheck
from core.instruments import InstrumentCatalog
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TopOfBookEvent,
    TradeEvent,
)

MAX_EXAMPLES = 10


class NotSynchronisedError(RuntimeError):
    """The book is not synchronised with the venue at the requested point of the file."""


@dataclass
class Replay:
    """Everything a replay learned: the client (books, sync stats), the truth check and counts."""

    path: str
    info: FileInfo
    market: BinanceMarket
    client: BinanceDataClient
    check: TruthCheck
    checker: BookTruthChecker | None = None
    symbol: str | None = None
    lines: int = 0  # messages read from the file
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)
    other_symbols: dict[str, int] = field(default_factory=dict)
    trades: int = 0
    tickers: int = 0
    depth_events: int = 0  # depth diffs read (applied or not)
    chain_breaks: int = 0  # diffs not following the previous diff (before any sync logic)
    stopped_at_ns: int | None = None  # set when the replay stopped at --at
    read_error: str | None = None  # the file could not be read to its end
    events: list[MarketEvent] | None = None  # every normalized event, when asked for

    @property
    def sync(self) -> BookSync | None:
        return self.client.sync(self.symbol) if self.symbol else None


def replay_file(
    path: str | Path,
    fmt: str | None = None,
    *,
    symbol: str | None = None,
    book: str = "fast",
    stop_after_ns: int | None = None,
    keep_events: bool = False,
    catalog: InstrumentCatalog | None = None,
    on_event: Callable[[MarketEvent], None] | None = None,
) -> Replay:
    """Replay a whole Binance file (or up to exchange time `stop_after_ns`) with the truth check."""
    info = sniff(path)
    market = _market(info, fmt, path)
    config = BinanceDataClientConfig(market=market, symbols=(symbol.upper(),) if symbol else (), book=book)
    provider = BinanceInstrumentProvider(market, catalog)
    for sym, (price_places, qty_places) in scan_decimal_places(path, info).items():
        if provider.find(sym) is None:
            provider.register_inferred(sym, -price_places, -qty_places)
    client = BinanceDataClient(config, provider)
    check = TruthCheck(source=str(path), format=market.venue, truth="none")
    r = Replay(str(path), info, market, client, check, symbol=config.symbols[0] if config.symbols else None)
    if keep_events:
        r.events = []
    last_final: int | None = None

    messages = read_messages(path, info)
    while True:
        try:
            item = next(messages)
        except StopIteration:
            break
        except (EOFError, OSError, zlib.error) as e:  # a truncated or corrupt gzip: keep what was read
            _bad(r, r.lines + r.bad_lines + 1, f"the file cannot be read past this point: {e}")
            r.read_error = str(e)
            break
        if isinstance(item, BadLine):
            _bad(r, item.line_no, item.reason)
            continue
        r.lines += 1
        try:
            msg = decode_message(item.payload) if isinstance(item.payload, str) else item.payload
            if "stream" in msg and isinstance(msg.get("data"), dict):
                msg = msg["data"]
            kind = message_kind(msg)
            sym = _message_symbol(msg, kind, item.symbol, r.symbol)
            if r.symbol is None and sym is not None:
                r.symbol = sym
            if sym is not None and sym != r.symbol:
                r.other_symbols[sym] = r.other_symbols.get(sym, 0) + 1
                continue
            if stop_after_ns is not None and kind in ("depthUpdate", "snapshot"):
                event_ns = _event_ns(msg, item.time_unit_ns)
                if event_ns is not None and event_ns > stop_after_ns:
                    r.stopped_at_ns = stop_after_ns
                    break
            if kind == "depthUpdate":
                r.depth_events += 1
                last_final = _chain(r, msg, last_final)
            elif kind == "snapshot" and r.checker is not None:
                sync = r.sync
                if sync is not None and sync.synced:
                    snap = client.parse_snapshot(msg, item.receive_ts_ns, item.time_unit_ns, r.symbol or "")
                    r.checker.on_venue_snapshot(snap, sync.book, synced=True)
            events = client.on_message(
                msg,
                item.receive_ts_ns,
                time_unit_ns=item.time_unit_ns,
                symbol=item.symbol or r.symbol,
                chained_snapshot=item.chained_snapshot,
            )
        except BadMessageError as e:
            client.stats.record_bad(e, f"line {item.line_no}: ")
            _bad(r, item.line_no, str(e))
            continue
        for event in events:
            _observe(r, event)
            if r.events is not None:
                r.events.append(event)
            if on_event is not None:
                on_event(event)
    if r.checker is not None:
        r.checker.finish()
    _summarise(r)
    return r


def check_file(path: str, fmt: str | None = None, *, book: str = "fast") -> TruthCheck:
    """Replay the whole file and compare the book with every piece of venue truth it holds.

    `states_compared == 0` means the file holds no truth to compare (the notes say why).
    """
    return replay_file(path, fmt, book=book).check


def book_at(path: str, at_ns: int | None, depth: int, fmt: str | None = None) -> BookView:
    """The book after the last depth update with event time <= at_ns (end of file when None)."""
    r = replay_file(path, fmt, stop_after_ns=at_ns)
    sync = r.sync
    if sync is None or not sync.synced:
        raise NotSynchronisedError(_unsynced_reason(r, at_ns))
    inst = r.client.instruments[r.symbol or ""]
    b = sync.book
    return BookView(
        source=str(path),
        format=r.market.venue,
        symbol=inst.symbol,
        ts_ns=sync.last_exchange_ts_ns,
        update_id=b.update_id,
        price_exponent=inst.price_exponent,
        qty_exponent=inst.qty_exponent,
        bids=b.depth(BookSide.BID, depth),
        asks=b.depth(BookSide.ASK, depth),
    )


# -- internals ------------------------------------------------------------------------------------
def _market(info: FileInfo, fmt: str | None, path: str | Path) -> BinanceMarket:
    if info.format == LOBSTER:
        raise FileFormatError(f"{path}: a LOBSTER file, not Binance data")
    if fmt is None:
        if info.format is None:
            raise FileFormatError(
                f"{path}: the content does not say spot or USD-M ({info.describe()}): give --format"
            )
        return BinanceMarket.from_format(info.format)
    market = BinanceMarket.from_format(fmt)
    if info.format is not None and info.format != market.venue:
        raise FileFormatError(f"{path}: the content is {info.format} data, not {market.venue}")
    return market


def _message_symbol(
    msg: dict[str, Any], kind: str, item_symbol: str | None, current: str | None
) -> str | None:
    if kind == "snapshot":
        return item_symbol.upper() if item_symbol else current
    s = msg.get("s")
    return s.upper() if isinstance(s, str) and s else None


def _event_ns(msg: dict[str, Any], unit: int) -> int | None:
    e = msg.get("E")
    return e * unit if type(e) is int else None


def _chain(r: Replay, msg: dict[str, Any], last_final: int | None) -> int | None:
    """Count diffs that do not follow the previous diff in the file (independent of sync state)."""
    first, final, prev = msg.get("U"), msg.get("u"), msg.get("pu")
    if type(first) is not int or type(final) is not int:
        return last_final
    if last_final is not None:
        follows = prev == last_final if r.market is BinanceMarket.USDM else first == last_final + 1
        if not follows:
            r.chain_breaks += 1
    return final


def _observe(r: Replay, event: MarketEvent) -> None:
    sync = r.sync
    if isinstance(event, BookSnapshotEvent):
        if r.checker is None:
            inst = r.client.instruments[r.symbol or ""]
            r.checker = BookTruthChecker(r.check, inst.price_exponent, inst.qty_exponent)
        r.checker.on_sync(event.bids, event.asks)
        if sync is not None:
            r.checker.on_book_state(event.venue_seq, sync.book)
    elif isinstance(event, BookDeltaEvent):
        if r.checker is not None and sync is not None:
            r.checker.on_levels(event.levels)
            r.checker.on_book_state(event.venue_seq, sync.book)
    elif isinstance(event, TopOfBookEvent):
        r.tickers += 1
        if r.checker is None:
            inst = r.client.instruments[r.symbol or ""]
            r.checker = BookTruthChecker(r.check, inst.price_exponent, inst.qty_exponent)
        r.checker.on_ticker(event)
    elif isinstance(event, TradeEvent):
        r.trades += 1
    elif isinstance(event, FeedStateEvent) and event.status is FeedStatus.GAP and r.checker is not None:
        r.checker.on_unsynced()


def _bad(r: Replay, line_no: int, reason: str) -> None:
    r.bad_lines += 1
    if len(r.bad_examples) < MAX_EXAMPLES:
        r.bad_examples.append(f"line {line_no}: {reason}")


def _summarise(r: Replay) -> None:
    c = r.check
    c.messages = r.lines
    truths = []
    counts = r.checker.counts if r.checker is not None else None
    if r.tickers:
        truths.append("bookTicker best bid/ask at the same update id")
    if counts is not None and (counts.snapshots_compared or counts.snapshots_not_comparable):
        truths.append("REST depth snapshots taken while the book was synchronised")
    c.truth = " and ".join(truths) or "none"
    notes = c.notes
    kinds = r.client.stats.by_kind
    seen = ", ".join(f"{n} {_KIND_NAMES.get(k, k)}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    gz = "gzip " if r.info.compressed else ""
    notes.append(f"content: {gz}{r.info.container}, {r.market.venue}: {seen or 'no messages'}")
    if r.symbol:
        notes.append(f"symbol {r.symbol}" + _instrument_note(r))
    sync = r.sync
    if sync is not None:
        s = sync.stats
        notes.append(
            f"depth: {r.depth_events} diffs read, {s.diffs_applied} applied, {s.diffs_dropped_stale} stale "
            f"dropped, {s.gaps} gaps, {s.resyncs} resyncs, {s.snapshots_applied} snapshots applied "
            f"({s.snapshots_stale} stale, {s.snapshots_ignored} while synchronised), "
            f"{s.crossed_states} crossed states, {s.buffer_overflows} buffer overflows"
        )
        if not sync.synced:
            notes.append(f"book not synchronised at the end ({sync.buffered} diffs buffered)")
    elif r.depth_events:
        notes.append(f"depth: {r.depth_events} diffs read")
    if r.depth_events:
        rule = "pu == previous u" if r.market is BinanceMarket.USDM else "U == previous u + 1"
        notes.append(f"diff chain in file order ({rule}): {r.chain_breaks} breaks")
    if r.depth_events and (sync is None or sync.stats.snapshots_applied == 0):
        notes.append("no usable depth snapshot: a Binance book cannot be synchronised from diffs alone")
    if r.trades:
        notes.append(f"trades: {r.trades} parsed")
    if counts is not None:
        if r.tickers:
            notes.append(
                f"bookTicker: {counts.tickers} read; not comparable: {counts.tickers_inside_diff} inside a "
                f"diff's U..u range (the book never rests at that id), {counts.tickers_unsynced} while not "
                f"synchronised, {counts.tickers_after_end} after the last depth update"
            )
        if counts.snapshots_compared or counts.snapshots_not_comparable:
            notes.append(
                f"REST snapshots: {counts.snapshots_compared} compared, {counts.snapshots_not_comparable} "
                f"not at a state the book was in; {counts.snapshot_levels_skipped} venue levels skipped as "
                "unreconstructable (a price no input since synchronisation mentioned: Binance documents that "
                "levels outside the initial snapshot which never change never appear in the diff stream)"
            )
            notes.extend(f"skipped level: {x}" for x in counts.skipped_examples)
    if r.bad_lines:
        notes.append(f"bad lines: {r.bad_lines} skipped")
        notes.extend(r.bad_examples)
    if r.other_symbols:
        notes.append(
            "other symbols skipped: " + ", ".join(f"{k} ({v})" for k, v in sorted(r.other_symbols.items()))
        )
    if c.states_compared == 0:
        notes.append(
            "no truth to compare: no bookTicker and no REST snapshot while the book was synchronised"
        )


_KIND_NAMES = {
    "depthUpdate": "depth diffs",
    "snapshot": "depth snapshots",
    "bookTicker": "bookTicker",
    "trade": "trades",
    "aggTrade": "aggregate trades",
}


def _instrument_note(r: Replay) -> str:
    inst = r.client.instruments.get(r.symbol or "")
    if inst is None:
        return ""
    origin = "inferred from the data" if "inferred" in inst.tags else f"static data id {inst.id}"
    return f" ({origin}: price 1e{inst.price_exponent}, qty 1e{inst.qty_exponent})"


def _unsynced_reason(r: Replay, at_ns: int | None) -> str:
    sync = r.sync
    when = f"at {at_ns} ns" if at_ns is not None else "at the end of the file"
    never_synced = sync is None or sync.stats.snapshots_applied == 0
    if never_synced and r.stopped_at_ns is not None:
        return f"{r.path}: the book is not synchronised yet {when}: no depth snapshot applied before it"
    if r.symbol is None or sync is None:
        return f"{r.path}: no depth data for a book"
    if never_synced:
        return (
            f"{r.path}: no usable depth snapshot for {r.symbol}: a Binance book cannot be "
            "synchronised from diffs alone"
        )
    reason = f"{r.path}: the book of {r.symbol} is not synchronised {when} (a gap with no later snapshot)"
    if r.bad_lines:
        reason += f"; {r.bad_lines} bad lines, first: {r.bad_examples[0]}"
        if "finer than" in r.bad_examples[0]:
            reason += " (the instrument's exponents in configs/instruments.toml are coarser than the data)"
    return reason
