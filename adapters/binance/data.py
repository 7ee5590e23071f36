"""The Binance market-data client: raw venue JSON in, normalized events out.

Accepts exactly what Binance sends: combined-stream wrappers `{"stream": ..., "data": {...}}` and
bare events, for
- depth diffs (`<symbol>@depth`, `@depth@100ms`, `@depth@0ms`; event "depthUpdate"),
- REST depth snapshots (`{"lastUpdateId": ..., "bids": [...], "asks": [...]}`; they carry no
  symbol, so the caller names it, or the client's only symbol is used),
- trades ("trade") and aggregate trades ("aggTrade"),
- best bid/offer ("bookTicker"; spot sends it without an "e" field).
Depth goes through the venue's sync rules (adapters/binance/sync.py) into BookSnapshotEvent /
BookDeltaEvent / FeedStateEvent; trades become TradeEvent, bookTicker TopOfBookEvent.

Times: exchange timestamps are the event time E (trade time T for trades), converted to ns with the
source's unit (milliseconds on the live streams; some recorders store microseconds). A message the
client cannot use raises BadMessageError from `on_message`; `handle` counts it instead, so a daemon
never dies on bad input.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.providers import BinanceInstrumentProvider
from adapters.binance.sync import BookSync, DepthDiff, DepthSnapshot, SyncRules
from core.book.fast import FastL2Book
from core.book.interface import BookSide, L2Book, Level, LevelUpdate
from core.book.reference import ReferenceL2Book
from core.instruments import Instrument
from core.marketdata.events import Aggressor, MarketEvent, TopOfBookEvent, TradeEvent
from core.marketdata.fixedpoint import FixedParser

MS = 1_000_000  # ns per millisecond: Binance's default time unit
US = 1_000

BOOK_CLASSES: dict[str, type[L2Book]] = {"fast": FastL2Book, "reference": ReferenceL2Book}


class BadMessageError(ValueError):
    """A message the client cannot use; `kind` groups the counts (e.g. "json", "depthUpdate")."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"{kind}: {reason}")


@dataclass
class ClientStats:
    messages: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # depthUpdate, snapshot, trade, ...
    bad: Counter[str] = field(default_factory=Counter)  # bad messages by kind
    ignored: Counter[str] = field(default_factory=Counter)  # well-formed but not for us
    bad_examples: list[str] = field(default_factory=list)

    MAX_EXAMPLES = 10

    def record_bad(self, error: BadMessageError, where: str = "") -> None:
        self.bad[error.kind] += 1
        if len(self.bad_examples) < self.MAX_EXAMPLES:
            self.bad_examples.append(f"{where}{error}")


class BinanceDataClient:
    """Parses and synchronises one Binance market's streams (any number of symbols)."""

    def __init__(
        self, config: BinanceDataClientConfig, provider: BinanceInstrumentProvider | None = None
    ) -> None:
        self.config = config
        self.market = config.market
        self.provider = provider if provider is not None else BinanceInstrumentProvider(config.market)
        self.rules = SyncRules.SPOT if config.market is BinanceMarket.SPOT else SyncRules.USDM
        self.syncs: dict[str, BookSync] = {}
        self.instruments: dict[str, Instrument] = {}
        self._parsers: dict[str, tuple[FixedParser, FixedParser]] = {}  # symbol -> (price, qty)
        self.stats = ClientStats()
        self._book_class = BOOK_CLASSES[config.book]

    # -- entry points ---------------------------------------------------------------------------
    def handle(
        self, raw: str | bytes | dict[str, Any], receive_ts_ns: int, **kwargs: Any
    ) -> list[MarketEvent]:
        """Like on_message, but a bad message is counted (stats.bad) and yields no events."""
        try:
            return self.on_message(raw, receive_ts_ns, **kwargs)
        except BadMessageError as e:
            self.stats.record_bad(e)
            return []

    def on_message(
        self,
        raw: str | bytes | dict[str, Any],
        receive_ts_ns: int,
        *,
        time_unit_ns: int = MS,
        symbol: str | None = None,
        chained_snapshot: bool = False,
    ) -> list[MarketEvent]:
        """One venue message (JSON text or an already decoded object) -> normalized events.

        `symbol` names the instrument of a REST depth snapshot; `chained_snapshot` marks a snapshot
        that is a recorded book right after a diff (see sync.DepthSnapshot), not a REST snapshot.
        """
        self.stats.messages += 1
        msg = decode_message(raw) if not isinstance(raw, dict) else raw
        stream = msg.get("stream")
        if isinstance(stream, str) and "data" in msg:
            msg = msg["data"]
            if not isinstance(msg, dict):
                raise BadMessageError("wrapper", f"stream {stream!r}: data is not an object")
        kind = message_kind(msg)
        self.stats.by_kind[kind] += 1
        try:
            if kind == "depthUpdate":
                return self._on_depth(msg, receive_ts_ns, time_unit_ns)
            if kind == "snapshot":
                return self._on_snapshot(msg, receive_ts_ns, time_unit_ns, symbol, chained_snapshot)
            if kind in ("trade", "aggTrade"):
                return self._on_trade(msg, receive_ts_ns, time_unit_ns, kind == "aggTrade")
            if kind == "bookTicker":
                return self._on_book_ticker(msg, receive_ts_ns, time_unit_ns)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            if isinstance(e, BadMessageError):
                raise
            detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise BadMessageError(kind, detail) from None
        self.stats.ignored[kind] += 1
        return []

    # -- state ----------------------------------------------------------------------------------
    def book(self, symbol: str) -> L2Book | None:
        sync = self.syncs.get(symbol.upper())
        return sync.book if sync is not None else None

    def sync(self, symbol: str) -> BookSync | None:
        return self.syncs.get(symbol.upper())

    def parse_snapshot(
        self, msg: dict[str, Any], receive_ts_ns: int, time_unit_ns: int, symbol: str, chained: bool = False
    ) -> DepthSnapshot:
        """A REST depth snapshot as exact levels (for callers that compare it with a live book)."""
        try:
            self._instrument(symbol, msg["bids"][:1] + msg["asks"][:1])
            return DepthSnapshot(
                last_update_id=_int(msg["lastUpdateId"]),
                exchange_ts_ns=_int(msg.get("E", 0)) * time_unit_ns,
                receive_ts_ns=receive_ts_ns,
                bids=_levels(msg["bids"], *self._parsers[symbol]),
                asks=_levels(msg["asks"], *self._parsers[symbol]),
                chained=chained,
            )
        except (KeyError, TypeError, ValueError, IndexError) as e:
            if isinstance(e, BadMessageError):
                raise
            detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise BadMessageError("snapshot", detail) from None

    def snapshot_symbol(self, symbol: str | None) -> str:
        """Which symbol a REST snapshot (which names none) belongs to."""
        if symbol:
            return symbol.upper()
        if len(self.config.symbols) == 1:
            return self.config.symbols[0]
        if len(self.syncs) == 1:
            return next(iter(self.syncs))
        raise BadMessageError(
            "snapshot", "depth snapshot names no symbol and the client has no single symbol"
        )

    # -- per message kind -----------------------------------------------------------------------
    def _wanted(self, symbol: str) -> bool:
        return not self.config.symbols or symbol in self.config.symbols

    def _instrument(self, symbol: str, sample: Any) -> Instrument:
        inst = self.instruments.get(symbol)
        if inst is None:
            pairs = [p for p in sample if isinstance(p, list | tuple) and len(p) == 2]
            inst = self.provider.instrument(symbol, (str(p[0]) for p in pairs), (str(p[1]) for p in pairs))
            self.instruments[symbol] = inst
            self._parsers[symbol] = (FixedParser(inst.price_exponent), FixedParser(inst.qty_exponent))
        return inst

    def _sync_for(self, symbol: str, inst: Instrument) -> BookSync:
        sync = self.syncs.get(symbol)
        if sync is None:
            sync = BookSync(
                inst.id,
                self.rules,
                book=self._book_class(inst.id),
                max_buffered=self.config.max_buffered_diffs,
            )
            self.syncs[symbol] = sync
        return sync

    def _on_depth(self, d: dict[str, Any], recv: int, unit: int) -> list[MarketEvent]:
        symbol = _symbol(d)
        if not self._wanted(symbol):
            self.stats.ignored["symbol"] += 1
            return []
        has_pu = "pu" in d
        if has_pu != (self.market is BinanceMarket.USDM):
            other = "USD-M (it has pu)" if has_pu else "spot (it has no pu)"
            raise BadMessageError("depthUpdate", f"{other} depth event on a {self.market.venue} client")
        bids, asks = d["b"], d["a"]
        inst = self._instrument(symbol, bids[:1] + asks[:1])
        diff = DepthDiff(
            first_id=_int(d["U"]),
            final_id=_int(d["u"]),
            prev_final_id=_int(d["pu"]) if has_pu else None,
            exchange_ts_ns=_int(d["E"]) * unit,
            receive_ts_ns=recv,
            levels=_updates(bids, asks, *self._parsers[symbol]),
        )
        if diff.final_id < diff.first_id:
            raise BadMessageError("depthUpdate", f"u {diff.final_id} < U {diff.first_id}")
        return self._sync_for(symbol, inst).on_diff(diff)

    def _on_snapshot(
        self, d: dict[str, Any], recv: int, unit: int, symbol: str | None, chained: bool
    ) -> list[MarketEvent]:
        name = self.snapshot_symbol(symbol)
        if not self._wanted(name):
            self.stats.ignored["symbol"] += 1
            return []
        snap = self.parse_snapshot(d, recv, unit, name, chained)
        return self._sync_for(name, self.instruments[name]).on_snapshot(snap)

    def _on_trade(self, d: dict[str, Any], recv: int, unit: int, aggregate: bool) -> list[MarketEvent]:
        symbol = _symbol(d)
        if not self._wanted(symbol):
            self.stats.ignored["symbol"] += 1
            return []
        inst = self._instrument(symbol, [(d["p"], d["q"])])
        price, qty = self._parsers[symbol]
        maker_is_buyer = d["m"]
        if not isinstance(maker_is_buyer, bool):
            raise BadMessageError("trade", f"m must be true/false, got {maker_is_buyer!r}")
        return [
            TradeEvent(
                instrument_id=inst.id,
                trade_id=_int(d["a"] if aggregate else d["t"]),
                exchange_ts_ns=_int(d.get("T", d.get("E", 0))) * unit,
                receive_ts_ns=recv,
                price=price(d["p"]),
                qty=qty(d["q"]),
                aggressor=Aggressor.SELL if maker_is_buyer else Aggressor.BUY,
                is_aggregate=aggregate,
            )
        ]

    def _on_book_ticker(self, d: dict[str, Any], recv: int, unit: int) -> list[MarketEvent]:
        symbol = _symbol(d)
        if not self._wanted(symbol):
            self.stats.ignored["symbol"] += 1
            return []
        inst = self._instrument(symbol, [(d["b"], d["B"]), (d["a"], d["A"])])
        price, qty = self._parsers[symbol]
        return [
            TopOfBookEvent(
                instrument_id=inst.id,
                venue_seq=_int(d["u"]),
                exchange_ts_ns=_int(d.get("E", 0)) * unit,
                receive_ts_ns=recv,
                bid_price=price(d["b"]),
                bid_qty=qty(d["B"]),
                ask_price=price(d["a"]),
                ask_qty=qty(d["A"]),
            )
        ]


# -- helpers ------------------------------------------------------------------------------------
def decode_message(raw: str | bytes) -> dict[str, Any]:
    try:
        msg = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadMessageError("json", f"not JSON ({e})") from None
    if not isinstance(msg, dict):
        raise BadMessageError("json", f"expected a JSON object, got {type(msg).__name__}")
    return msg


def message_kind(msg: dict[str, Any]) -> str:
    event = msg.get("e")
    if isinstance(event, str):
        return event
    if "lastUpdateId" in msg and "bids" in msg and "asks" in msg:
        return "snapshot"
    if {"u", "s", "b", "B", "a", "A"} <= msg.keys():
        return "bookTicker"  # spot's bookTicker has no "e"
    if "result" in msg and "id" in msg:
        return "response"  # a subscription acknowledgement
    return "unknown"


def _symbol(d: dict[str, Any]) -> str:
    symbol = d["s"]
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"bad symbol {symbol!r}")
    return symbol.upper()


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _levels(rows: Any, price: FixedParser, qty: FixedParser) -> tuple[Level, ...]:
    out = tuple((price(p), qty(q)) for p, q in rows)
    if any(q < 0 for _, q in out):
        raise ValueError("negative quantity in depth snapshot")
    return out


def _updates(bids: Any, asks: Any, price: FixedParser, qty: FixedParser) -> tuple[LevelUpdate, ...]:
    # The hot path of every depth event: memo lookups inline, the parser only on a miss.
    price_memo, qty_memo = price.memo.get, qty.memo.get
    out: list[LevelUpdate] = []
    append = out.append
    for side, rows in ((BookSide.BID, bids), (BookSide.ASK, asks)):
        for p, q in rows:
            pm = price_memo(p)
            qm = qty_memo(q)
            if pm is None:
                pm = price(p)
            if qm is None:
                qm = qty(q)
            if qm < 0:
                raise ValueError(f"negative quantity {q!r} in depth update")
            append((side, pm, qm))
    return tuple(out)
