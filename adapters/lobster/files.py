"""Finding and reading LOBSTER file pairs: a zip as LOBSTER ships it, or a message CSV beside its
orderbook CSV.

Files are recognised by content (a message file has 6 numeric columns, an orderbook file 4 x LEVEL
integer columns); symbol, date, time window and level come from LOBSTER's naming convention
`TICKER_YYYY-MM-DD_STARTms_ENDms_{message|orderbook}_LEVEL.csv`. Rows are streamed in batches so a
full day of a deep book never has to fit in memory at once.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

MESSAGE_COLUMNS = 6
EMPTY_ASK_PRICE = 9_999_999_999  # LOBSTER's dummy price for an unoccupied ask level
EMPTY_BID_PRICE = -9_999_999_999
NS_PER_SECOND = 1_000_000_000
_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 1 << 20

NAME_PATTERN = re.compile(
    r"^(?P<symbol>[^_/\\]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<kind>message|orderbook)_(?P<level>\d+)\.csv$"
)
NAMING_HINT = "LOBSTER names its files TICKER_YYYY-MM-DD_STARTms_ENDms_{message|orderbook}_LEVEL.csv"


class LobsterFormatError(ValueError):
    """A file that is not (or not a consistent) LOBSTER message/orderbook pair; says which and why."""


@dataclass(frozen=True)
class LobsterName:
    """What LOBSTER's file name says about its content."""

    symbol: str
    date: date
    start_ms: int  # theoretical start of the file, ms after midnight
    end_ms: int
    kind: str  # "message" or "orderbook"
    level: int

    @classmethod
    def parse(cls, name: str, where: str = "") -> LobsterName:
        """Read a file or member name; errors name `where` (e.g. archive!member) when given."""
        where = where or name
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        m = NAME_PATTERN.match(base)
        if m is None:
            raise LobsterFormatError(
                f"{where}: cannot read symbol, date and level from the name ({NAMING_HINT})"
            )
        try:
            day = date.fromisoformat(m["date"])
        except ValueError:
            raise LobsterFormatError(f"{where}: {m['date']!r} is not a valid date") from None
        level = int(m["level"])
        if level < 1:
            raise LobsterFormatError(f"{where}: level must be at least 1, got {level}")
        return cls(m["symbol"], day, int(m["start"]), int(m["end"]), m["kind"], level)

    def same_dataset(self, other: LobsterName) -> bool:
        return (self.symbol, self.date, self.start_ms, self.end_ms, self.level) == (
            other.symbol,
            other.date,
            other.start_ms,
            other.end_ms,
            other.level,
        )


@dataclass(frozen=True)
class LobsterFileSet:
    """One LOBSTER dataset: where its message and orderbook files are and what their names say."""

    source: str  # the path the user gave
    archive: Path | None  # the zip holding both members, or None for plain CSV files
    message_file: str  # member name in the archive, or a file path
    orderbook_file: str
    name: LobsterName

    @property
    def symbol(self) -> str:
        return self.name.symbol

    @property
    def date(self) -> date:
        return self.name.date

    @property
    def level(self) -> int:
        return self.name.level

    def _open(self, member: str) -> BinaryIO:
        if self.archive is None:
            return open(member, "rb")
        zf = zipfile.ZipFile(self.archive)
        try:
            return _OwningMember(zf, zf.open(member))
        except Exception:
            zf.close()
            raise

    def open_messages(self) -> BinaryIO:
        return self._open(self.message_file)

    def open_orderbook(self) -> BinaryIO:
        return self._open(self.orderbook_file)

    def describe(self, member: str) -> str:
        return f"{self.archive}!{member}" if self.archive is not None else member


class _OwningMember:
    """A zip member stream that also closes its archive."""

    def __init__(self, zf: zipfile.ZipFile, stream: BinaryIO) -> None:
        self._zf = zf
        self._stream = stream
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._stream.close()
            self._zf.close()

    def __enter__(self) -> _OwningMember:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- recognising files by content --------------------------------------------------------------------
def sniff(head: bytes) -> tuple[str, int] | None:
    """("message", 6) or ("orderbook", columns) when the first line looks like that LOBSTER file."""
    line = head.split(b"\n", 1)[0].strip()
    if not line:
        return None
    try:
        cells = line.decode("ascii").split(",")
    except UnicodeDecodeError:
        return None
    if len(cells) == MESSAGE_COLUMNS and _is_seconds(cells[0]) and all(_is_int(c) for c in cells[1:]):
        return "message", MESSAGE_COLUMNS
    if len(cells) % 4 == 0 and all(_is_int(c) for c in cells):
        return "orderbook", len(cells)
    return None


def _is_int(cell: str) -> bool:
    c = cell.strip()
    return c.lstrip("-").isdigit() and c.isascii()


def _is_seconds(cell: str) -> bool:
    whole, _, frac = cell.strip().partition(".")
    return whole.isdigit() and (frac == "" or frac.isdigit()) and cell.isascii()


def discover(path: str | Path) -> LobsterFileSet:
    """Find the message/orderbook pair at `path` (a zip, a message CSV or an orderbook CSV)."""
    p = Path(path)
    if not p.exists():
        raise LobsterFormatError(f"{p}: no such file")
    if p.is_dir():
        raise LobsterFormatError(f"{p}: is a directory; give the zip or the message CSV")
    if zipfile.is_zipfile(p):
        return _discover_zip(p, str(path))
    return _discover_csv(p, str(path))


def _discover_zip(p: Path, source: str) -> LobsterFileSet:
    found: dict[str, list[tuple[str, int]]] = {"message": [], "orderbook": []}
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                with zf.open(info) as f:
                    kind = sniff(f.read(_SNIFF_BYTES))
                if kind is not None:
                    found[kind[0]].append((info.filename, kind[1]))
    except zipfile.BadZipFile as e:
        raise LobsterFormatError(f"{p}: damaged zip archive: {e}") from None
    for kind in ("message", "orderbook"):
        if not found[kind]:
            raise LobsterFormatError(f"{p}: the archive holds no LOBSTER {kind} file (recognised by content)")
        if len(found[kind]) > 1:
            names = ", ".join(n for n, _ in found[kind])
            raise LobsterFormatError(
                f"{p}: the archive holds several {kind} files ({names}); extract one pair"
            )
    (msg, _), (book, columns) = found["message"][0], found["orderbook"][0]
    return _pair(source, p, msg, book, columns, lambda m: f"{p}!{m}")


def _discover_csv(p: Path, source: str) -> LobsterFileSet:
    with open(p, "rb") as f:
        kind = sniff(f.read(_SNIFF_BYTES))
    if kind is None:
        raise LobsterFormatError(
            f"{p}: not a LOBSTER file (expected a message CSV with 6 numeric columns, an orderbook CSV with "
            "4 x LEVEL integer columns, or a zip holding both)"
        )
    name = LobsterName.parse(p.name, str(p))
    other_kind = "orderbook" if kind[0] == "message" else "message"
    other = p.with_name(p.name.replace(f"_{name.kind}_", f"_{other_kind}_"))
    if not other.is_file():
        raise LobsterFormatError(f"{p}: its {other_kind} file {other.name} is not beside it")
    with open(other, "rb") as f:
        other_sniff = sniff(f.read(_SNIFF_BYTES))
    if other_sniff is None or other_sniff[0] != other_kind:
        raise LobsterFormatError(f"{other}: does not look like a LOBSTER {other_kind} file")
    if kind[0] == "message":
        msg, book, columns = p, other, other_sniff[1]
    else:
        msg, book, columns = other, p, kind[1]
    return _pair(source, None, str(msg), str(book), columns, str)


def _pair(source: str, archive: Path | None, msg: str, book: str, columns: int, where) -> LobsterFileSet:
    msg_name, book_name = LobsterName.parse(msg, where(msg)), LobsterName.parse(book, where(book))
    if msg_name.kind != "message" or book_name.kind != "orderbook":
        raise LobsterFormatError(
            f"{where(msg)} / {where(book)}: content and names disagree about which is the message file"
        )
    if not msg_name.same_dataset(book_name):
        raise LobsterFormatError(f"{where(msg)} and {where(book)} name different datasets")
    if columns != 4 * book_name.level:
        raise LobsterFormatError(
            f"{where(book)}: {columns} columns, but level {book_name.level} in the name means "
            f"{4 * book_name.level}"
        )
    return LobsterFileSet(source, archive, msg, book, msg_name)


# -- reading ----------------------------------------------------------------------------------------
@dataclass
class MessageBatch:
    """Columns of consecutive message rows; `first` is the 1-based row number of the first one."""

    first: int
    ns_after_midnight: list[int]  # the time column, exactly, in ns
    types: list[int]
    order_ids: list[int]
    sizes: list[int]
    prices: list[int]
    directions: list[int]

    def __len__(self) -> int:
        return len(self.types)


_SECONDS = r"^(?P<s>\d{1,6})(?:\.(?P<f>\d{1,9}))?$"


def seconds_to_ns(seconds: pa.Array, where: str, first_row: int) -> list[int]:
    """Exact ns after midnight from LOBSTER's decimal seconds ('34200.015105074'), vectorised."""
    parts = pc.extract_regex(seconds, _SECONDS)
    bad = pc.is_null(parts)
    if pc.any(bad).as_py():
        i = pc.index(bad, True).as_py()
        raise LobsterFormatError(
            f"{where}: row {first_row + i}: time {seconds[i].as_py()!r} is not seconds after midnight "
            "with at most 9 decimals"
        )
    whole = pc.cast(parts.field("s"), pa.int64())
    frac = pc.cast(pc.utf8_rpad(parts.field("f"), width=9, padding="0"), pa.int64())
    return pc.add(pc.multiply(whole, NS_PER_SECOND), frac).to_numpy().tolist()


def iter_messages(files: LobsterFileSet) -> Iterator[MessageBatch]:
    names = [f"f{i}" for i in range(MESSAGE_COLUMNS)]
    types = {n: pa.int64() for n in names} | {"f0": pa.string()}
    where = files.describe(files.message_file)
    row = 1
    for batch in _stream(files.open_messages, where, names, types):
        cols = [batch.column(i) for i in range(MESSAGE_COLUMNS)]
        out = MessageBatch(
            row,
            seconds_to_ns(cols[0], where, row),
            *(c.to_numpy(zero_copy_only=False).tolist() for c in cols[1:]),
        )
        row += len(out)
        yield out


def iter_orderbook(files: LobsterFileSet) -> Iterator[tuple[int, list[list[int]]]]:
    """(first 1-based row number, rows) batches of the orderbook file."""
    columns = 4 * files.level
    names = [f"f{i}" for i in range(columns)]
    where = files.describe(files.orderbook_file)
    row = 1
    for batch in _stream(files.open_orderbook, where, names, dict.fromkeys(names, pa.int64())):
        rows = _rows(batch, columns)
        yield row, rows
        row += len(rows)


def _rows(batch: pa.RecordBatch, columns: int) -> list[list[int]]:
    if batch.num_rows == 0:
        return []
    matrix = np.column_stack([batch.column(i).to_numpy(zero_copy_only=False) for i in range(columns)])
    return matrix.tolist()


def _stream(opener, where: str, names: list[str], types: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    read = pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES)
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    parse = pacsv.ParseOptions(delimiter=",")
    with opener() as f:
        try:
            reader = pacsv.open_csv(f, read_options=read, parse_options=parse, convert_options=convert)
            first_row = 1
            for batch in reader:
                for i in range(batch.num_columns):
                    column = batch.column(i)
                    if column.null_count:
                        row = first_row + pc.index(pc.is_null(column), True).as_py()
                        raise LobsterFormatError(f"{where}: row {row}, column {i + 1}: empty cell")
                first_row += batch.num_rows
                yield batch
        except pa.ArrowInvalid as e:
            raise LobsterFormatError(f"{where}: {_locate_bad_cell(opener, len(names)) or e}") from None


def _locate_bad_cell(opener, columns: int) -> str | None:
    """Row and column of the first cell the fast reader refused (only runs when reading failed)."""
    with opener() as f:
        for row, raw in enumerate(f.read().split(b"\n"), start=1):
            line = raw.strip()
            if not line:
                continue
            cells = line.split(b",")
            if len(cells) != columns:
                return f"row {row}: {len(cells)} columns, expected {columns}"
            for col, cell in enumerate(cells, start=1):
                text = cell.decode("ascii", "replace")
                is_time = col == 1 and columns == MESSAGE_COLUMNS
                if not (_is_seconds(text) if is_time else _is_int(text)):
                    return f"row {row}, column {col}: {text!r} is not {'a time' if is_time else 'an integer'}"
    return None
