"""Readers for recorded Binance data files, recognised by content (never by name).

- hftbacktest captures: one message per line, `<local receive ns> <raw venue JSON>`, usually gzip.
- raw JSON lines: one venue message per line, no timestamp (receive time 0).
- Binance-Data-Processor ("Lasota") CSVs: `#` comment blocks, then a header row; one row per price
  level (depth) or per trade. Spot files hold one stream (depth diffs or trades) with EventTime in
  microseconds; the merged USD-M file holds REST snapshots (DEPTH_SNAPSHOT), the recorder's own
  reconstructed book at the start (FINAL_DEPTH_SNAPSHOT), diffs and trades, with times in ms.
gzip is recognised by its magic bytes; a zip (LOBSTER) is recognised and left to adapters.lobster.

Readers yield `RawMessage`s shaped exactly like the venue's JSON (CSV rows are regrouped into the
venue messages they came from), so one client parses every source; unreadable lines come out as
`BadLine` and are counted by the caller, never fatal.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from adapters.binance.data import MS, US
from core.marketdata.fixedpoint import decimal_places

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_LINES = 400

SPOT, USDM, LOBSTER = "binance-spot", "binance-usdm", "lobster"
FORMATS = (SPOT, USDM, LOBSTER)


class FileFormatError(ValueError):
    """The file cannot be read as the format asked for (or as any known format)."""


@dataclass(frozen=True)
class FileInfo:
    path: str
    format: str | None  # "binance-spot", "binance-usdm", "lobster", or None when content cannot tell
    container: str  # "capture", "jsonl", "lasota-csv", "zip"
    compressed: bool
    content: frozenset[str] = field(default_factory=frozenset)  # depth, snapshot, trade, bookTicker, ...

    def describe(self) -> str:
        what = ", ".join(sorted(self.content)) or "nothing recognised"
        gz = "gzip " if self.compressed else ""
        return f"{gz}{self.container} ({self.format or 'format unknown'}): {what}"


@dataclass(slots=True)
class RawMessage:
    line_no: int  # 1-based line of the file where the message starts
    receive_ts_ns: int
    payload: str | dict[str, Any]  # venue JSON text, or the venue message rebuilt from CSV rows
    time_unit_ns: int = MS  # unit of the message's E/T fields
    symbol: str | None = None  # for REST snapshots, which name no symbol
    chained_snapshot: bool = False  # a recorder's reconstructed book (see sync.DepthSnapshot)


@dataclass(slots=True)
class BadLine:
    line_no: int
    reason: str


# -- opening and sniffing -----------------------------------------------------------------------
def open_text(path: str | Path) -> IO[str]:
    """Open as text, decompressing gzip when the magic bytes say so. FileNotFoundError etc. propagate."""
    p = Path(path)
    with p.open("rb") as f:
        magic = f.read(4)
    if magic[:2] == GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace", newline="")
    return p.open("r", encoding="utf-8", errors="replace", newline="")


def sniff(path: str | Path) -> FileInfo:
    """Recognise a file by its content. FileNotFoundError/IsADirectoryError propagate."""
    p = Path(path)
    with p.open("rb") as f:
        magic = f.read(4)
    if magic == ZIP_MAGIC:
        return _sniff_zip(p)
    compressed = magic[:2] == GZIP_MAGIC
    try:
        with open_text(p) as f:
            head = [line for _, line in zip(range(SNIFF_LINES), f, strict=False)]
    except (OSError, EOFError) as e:  # e.g. a truncated gzip
        raise FileFormatError(f"{p}: cannot read: {e}") from None
    data = [line for line in head if line.strip() and not line.startswith("#")]
    if not data:
        raise FileFormatError(f"{p}: no data lines")
    first = data[0]
    if first.lstrip().startswith("{"):
        return _sniff_json(p, compressed, data, timestamped=False)
    ts, _, rest = first.partition(" ")
    if ts.isdigit() and rest.lstrip().startswith("{"):
        return _sniff_json(p, compressed, data, timestamped=True)
    header = next(csv.reader([first]))
    if "Stream" in header or "StreamType" in header:
        return _sniff_lasota(p, compressed, header, data[1:])
    if len(header) == 6 and all(_is_number(c) for c in header):
        return FileInfo(str(p), LOBSTER, "lobster-csv", compressed, frozenset({"messages"}))
    raise FileFormatError(f"{p}: not a recognised market-data file (first data line: {first[:80].strip()!r})")


def _sniff_zip(p: Path) -> FileInfo:
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
    except zipfile.BadZipFile as e:
        raise FileFormatError(f"{p}: broken zip: {e}") from None
    if any("message" in n.lower() for n in names):
        content = {"messages"} | ({"orderbook"} if any("orderbook" in n.lower() for n in names) else set())
        return FileInfo(str(p), LOBSTER, "zip", True, frozenset(content))
    raise FileFormatError(f"{p}: a zip without a LOBSTER message file ({', '.join(names[:5])})")


def _sniff_json(p: Path, compressed: bool, lines: list[str], timestamped: bool) -> FileInfo:
    content: set[str] = set()
    usdm_votes = spot_votes = 0
    for line in lines:
        text = line.partition(" ")[2] if timestamped else line
        try:
            msg = json.loads(text)
        except ValueError:
            continue
        if not isinstance(msg, dict):
            continue
        data = msg.get("data", msg) if "stream" in msg else msg
        if not isinstance(data, dict):
            continue
        event = data.get("e")
        if event == "depthUpdate":
            content.add("depth")
            if "pu" in data:
                usdm_votes += 1
            else:
                spot_votes += 1
        elif "lastUpdateId" in data:
            content.add("snapshot")
            if "E" in data or "T" in data:
                usdm_votes += 1
        elif event in ("trade", "aggTrade"):
            content.add(event)
            if "X" in data:
                usdm_votes += 1
            elif "M" in data:
                spot_votes += 1
        elif event == "bookTicker":
            content.add("bookTicker")
            usdm_votes += 1  # spot's bookTicker carries no "e"
        elif {"u", "s", "b", "B", "a", "A"} <= data.keys():
            content.add("bookTicker")
            spot_votes += 1
    container = "capture" if timestamped else "jsonl"
    if not content:
        raise FileFormatError(f"{p}: JSON lines, but no Binance market-data messages in the first lines")
    fmt = None
    if usdm_votes and not spot_votes:
        fmt = USDM
    elif spot_votes and not usdm_votes:
        fmt = SPOT
    return FileInfo(str(p), fmt, container, compressed, frozenset(content))


def _sniff_lasota(p: Path, compressed: bool, header: list[str], rows: list[str]) -> FileInfo:
    cols = set(header)
    content: set[str] = set()
    fmt: str | None
    if "StreamType" in cols:  # merged file
        for row in csv.reader(rows):
            record = dict(zip(header, row, strict=False))
            content.add(_LASOTA_KINDS.get(record.get("StreamType", ""), "other"))
        market = {dict(zip(header, r, strict=False)).get("Market", "") for r in csv.reader(rows[:50])}
        fmt = USDM if "USD_M_FUTURES" in market else SPOT if "SPOT" in market else None
    else:
        if {"FirstUpdateId", "IsAsk"} <= cols:
            content.add("depth")
        if "TradeId" in cols:
            content.add("trade")
        fmt = USDM if "FinalUpdateIdInLastStream" in cols or "XUnknownParameter" in cols else SPOT
    if not content:
        raise FileFormatError(f"{p}: CSV with unknown columns: {', '.join(header[:8])}")
    return FileInfo(str(p), fmt, "lasota-csv", compressed, frozenset(content - {"other"}))


_LASOTA_KINDS = {
    "DIFFERENCE_DEPTH_STREAM": "depth",
    "DEPTH_SNAPSHOT": "snapshot",
    "FINAL_DEPTH_SNAPSHOT": "recorded book",
    "TRADE_STREAM": "trade",
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- reading --------------------------------------------------------------------------------------
def read_messages(path: str | Path, info: FileInfo | None = None) -> Iterator[RawMessage | BadLine]:
    """Every message of a Binance file, in file order."""
    info = info or sniff(path)
    if info.container in ("capture", "jsonl"):
        yield from _read_json_lines(path, timestamped=info.container == "capture")
    elif info.container == "lasota-csv":
        yield from _read_lasota(path)
    else:
        raise FileFormatError(f"{path}: {info.container} files are not Binance data")


def _read_json_lines(path: str | Path, timestamped: bool) -> Iterator[RawMessage | BadLine]:
    with open_text(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            if not timestamped:
                yield RawMessage(line_no, 0, line)
                continue
            ts, sep, text = line.partition(" ")
            if not sep or not ts.isdigit() or not ts.isascii():
                yield BadLine(line_no, f"expected '<receive ns> <JSON>', got {line[:60].strip()!r}")
                continue
            yield RawMessage(line_no, int(ts), text)


# Lasota CSV columns (by header name, so column order does not matter).
def _read_lasota(path: str | Path) -> Iterator[RawMessage | BadLine]:
    with open_text(path) as f:
        lines = _numbered_data_lines(f)
        header_no, header_line = next(lines, (0, ""))
        header = next(csv.reader([header_line]), [])
        if "StreamType" in header:
            yield from _lasota_merged(header, lines)
        elif "TradeId" in header:
            yield from _lasota_trades(header, lines, US)
        elif "FirstUpdateId" in header:
            yield from _lasota_spot_depth(header, lines)
        else:
            yield BadLine(header_no, f"unknown CSV header: {header_line[:80].strip()!r}")


def _numbered_data_lines(f: IO[str]) -> Iterator[tuple[int, str]]:
    for line_no, line in enumerate(f, 1):
        if line.strip() and not line.startswith("#"):
            yield line_no, line


def _rows(header: list[str], lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, dict[str, str] | None]]:
    for line_no, line in lines:
        values = next(csv.reader([line]), [])
        if len(values) < len(header) - 1:  # the merged file's last column (row index) is unnamed
            yield line_no, None
            continue
        yield line_no, dict(zip(header, values, strict=False))


class _DepthGroup:
    """Consecutive CSV rows of one depth message (same update ids)."""

    def __init__(self, line_no: int, key: tuple[str, ...], row: dict[str, str]) -> None:
        self.line_no = line_no
        self.key = key
        self.first = row
        self.bids: list[list[str]] = []
        self.asks: list[list[str]] = []
        self.max_final_id = 0
        self.max_event_time = 0

    def add(self, row: dict[str, str]) -> None:
        side = self.asks if row["IsAsk"] == "1" else self.bids
        side.append([row["Price"], row["Quantity"]])


def _lasota_spot_depth(header: list[str], lines: Iterator[tuple[int, str]]) -> Iterator[RawMessage | BadLine]:
    group: _DepthGroup | None = None
    for line_no, row in _rows(header, lines):
        if row is None or row.get("IsAsk") not in ("0", "1"):
            yield BadLine(line_no, "not a depth row")
            continue
        key = (row["EventTime"], row["FirstUpdateId"], row["FinalUpdateId"])
        if group is not None and group.key != key:
            yield _spot_diff(group)
            group = None
        if group is None:
            group = _DepthGroup(line_no, key, row)
        group.add(row)
    if group is not None:
        yield _spot_diff(group)


def _spot_diff(g: _DepthGroup) -> RawMessage | BadLine:
    r = g.first
    try:
        msg = {
            "e": "depthUpdate",
            "E": int(r["EventTime"]),
            "s": r["Symbol"],
            "U": int(r["FirstUpdateId"]),
            "u": int(r["FinalUpdateId"]),
            "b": g.bids,
            "a": g.asks,
        }
        return RawMessage(g.line_no, int(r["TimestampOfReceive"]) * US, msg, time_unit_ns=US)
    except ValueError as e:
        return BadLine(g.line_no, f"depth row: {e}")


def _lasota_trades(
    header: list[str], lines: Iterator[tuple[int, str]], unit: int
) -> Iterator[RawMessage | BadLine]:
    for line_no, row in _rows(header, lines):
        if row is None:
            yield BadLine(line_no, "short trade row")
            continue
        yield _trade(line_no, row, unit, int(row.get("TimestampOfReceive", "0") or 0) * US)


def _trade(line_no: int, row: dict[str, str], unit: int, receive_ns: int) -> RawMessage | BadLine:
    try:
        msg: dict[str, Any] = {
            "e": "trade",
            "E": int(row["EventTime"]),
            "T": int(row["TransactionTime"]),
            "s": row["Symbol"],
            "t": int(row["TradeId"]),
            "p": row["Price"],
            "q": row["Quantity"],
            "m": _bool01(row["IsBuyerMarketMaker"]),
        }
    except (KeyError, ValueError) as e:
        return BadLine(line_no, f"trade row: {e}")
    if row.get("XUnknownParameter"):
        msg["X"] = row["XUnknownParameter"]
    return RawMessage(line_no, receive_ns, msg, time_unit_ns=unit)


def _bool01(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"expected 0 or 1, got {text!r}")
    return text == "1"


def _lasota_merged(header: list[str], lines: Iterator[tuple[int, str]]) -> Iterator[RawMessage | BadLine]:
    """The merged USD-M file: rows of one message are consecutive; StreamType says what each is."""
    group: _DepthGroup | None = None
    for line_no, row in _rows(header, lines):
        if row is None:
            yield BadLine(line_no, "short row")
            continue
        kind = row.get("StreamType", "")
        if kind == "TRADE_STREAM":
            key: tuple[str, ...] = ("trade",)
        elif kind == "DIFFERENCE_DEPTH_STREAM":
            key = (kind, row["EventTime"], row["FirstUpdateId"], row["FinalUpdateId"])
        elif kind == "DEPTH_SNAPSHOT":
            key = (kind, row["LastUpdateId"])
        elif kind == "FINAL_DEPTH_SNAPSHOT":
            key = (kind,)
        else:
            yield BadLine(line_no, f"unknown StreamType {kind!r}")
            continue
        if group is not None and group.key != key:
            yield _merged_message(group)
            group = None
        if kind == "TRADE_STREAM":
            receive = _receive_ns(row)
            yield _trade(line_no, row, MS, receive)
            continue
        if row.get("IsAsk") not in ("0", "1"):
            yield BadLine(line_no, "depth row without IsAsk 0/1")
            continue
        if group is None:
            group = _DepthGroup(line_no, key, row)
        group.add(row)
        if kind == "FINAL_DEPTH_SNAPSHOT":
            try:
                group.max_final_id = max(group.max_final_id, int(row["FinalUpdateId"]))
                group.max_event_time = max(group.max_event_time, int(row["EventTime"]))
            except ValueError:
                yield BadLine(line_no, "recorded-book row without update id / event time")
    if group is not None:
        yield _merged_message(group)


def _receive_ns(row: dict[str, str]) -> int:
    if row.get("TimestampOfReceiveUS"):
        return int(row["TimestampOfReceiveUS"]) * US
    return int(row.get("TimestampOfReceive") or 0) * MS


def _merged_message(g: _DepthGroup) -> RawMessage | BadLine:
    r = g.first
    kind = g.key[0]
    try:
        receive = _receive_ns(r)
        if kind == "DIFFERENCE_DEPTH_STREAM":
            msg: dict[str, Any] = {
                "e": "depthUpdate",
                "E": int(r["EventTime"]),
                "T": int(r["TransactionTime"]),
                "s": r["Symbol"],
                "U": int(r["FirstUpdateId"]),
                "u": int(r["FinalUpdateId"]),
                "pu": int(r["FinalUpdateIdInLastStream"]),
                "b": g.bids,
                "a": g.asks,
            }
            return RawMessage(g.line_no, receive, msg, time_unit_ns=MS)
        if kind == "DEPTH_SNAPSHOT":
            msg = {
                "lastUpdateId": int(r["LastUpdateId"]),
                "E": int(r["MessageOutputTime"]),
                "T": int(r["TransactionTime"]),
                "bids": g.bids,
                "asks": g.asks,
            }
            return RawMessage(g.line_no, receive, msg, time_unit_ns=MS, symbol=r["Symbol"])
        # FINAL_DEPTH_SNAPSHOT: the recorder's book right after the diff with the highest final id
        msg = {"lastUpdateId": g.max_final_id, "E": g.max_event_time, "bids": g.bids, "asks": g.asks}
        return RawMessage(g.line_no, receive, msg, time_unit_ns=MS, symbol=r["Symbol"], chained_snapshot=True)
    except (KeyError, ValueError) as e:
        return BadLine(g.line_no, f"{kind} rows: {e}")


# -- exponent inference for CSVs ---------------------------------------------------------------------
def scan_decimal_places(path: str | Path, info: FileInfo | None = None) -> dict[str, tuple[int, int]]:
    """{symbol: (max price decimals, max qty decimals)} over a whole CSV file.

    CSV writers print floats without Binance's fixed decimals ("9781.0"), so a symbol's exponents are
    only known after seeing every row. JSON captures need no scan (see providers.py).
    """
    info = info or sniff(path)
    out: dict[str, tuple[int, int]] = {}
    if info.container != "lasota-csv":
        return out
    with open_text(path) as f:
        lines = _numbered_data_lines(f)
        _, header_line = next(lines, (0, ""))
        header = next(csv.reader([header_line]), [])
        for _, row in _rows(header, lines):
            if row is None or not row.get("Price") or not row.get("Symbol"):
                continue
            try:
                pp, qp = decimal_places(row["Price"]), decimal_places(row["Quantity"])
            except ValueError:
                continue  # the reader reports the bad row
            symbol = row["Symbol"].upper()
            old = out.get(symbol, (0, 0))
            out[symbol] = (max(old[0], pp), max(old[1], qp))
    return out
