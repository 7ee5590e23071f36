"""`aerodesk data ...`: offline books from real recordings, checked against the venue's own truth."""

from __future__ import annotations

import importlib
import re
import zipfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from cli.console import emit_json, fail, info
from core.book.truth import BookView, TruthCheck
from core.marketdata.fixedpoint import format_fixed, to_decimal

app = typer.Typer(
    help="Offline order books from real recordings (Binance captures and CSVs, LOBSTER), checked against "
    "the venue's own truth.",
    no_args_is_help=True,
)


class DataFormat(StrEnum):
    BINANCE_SPOT = "binance-spot"
    BINANCE_USDM = "binance-usdm"
    LOBSTER = "lobster"


FORMAT_HELP = "Data format. Omit it to recognise the file by its content."
AT_HELP = (
    "Show the book as of this time, compared with the venue's event time: epoch nanoseconds (17 digits "
    "or more), epoch milliseconds (up to 14 digits), or ISO-8601 such as 2024-08-08T23:55:00.5Z "
    "(no zone means UTC). Default: the end of the file."
)
NS_MIN, MS_MAX = 10**16, 10**14
_ISO_FRACTION = re.compile(r"^(?P<head>[^.]*T\d\d:\d\d:\d\d)\.(?P<frac>\d+)(?P<tail>.*)$")


# -- commands ------------------------------------------------------------------------------------------
@app.command()
def book(
    file: Path = typer.Argument(..., help="Recorded data file (gzip or plain; zip for LOBSTER)."),
    fmt: DataFormat | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    depth: int = typer.Option(10, "--depth", "-n", min=1, help="Levels per side to show."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document; prices as exact decimals."),
) -> None:
    """Reconstruct the order book from FILE and print it (best levels first)."""
    at_ns = parse_at(at) if at is not None else None
    chosen = _format(file, fmt)
    view = _run(lambda: _book_at(file, chosen, at_ns, depth))
    if as_json:
        emit_json(book_json(view))
    else:
        typer.echo(book_text(view))


@app.command()
def check(
    file: Path = typer.Argument(..., help="Recorded data file (gzip or plain; zip for LOBSTER)."),
    fmt: DataFormat | None = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
) -> None:
    """Replay FILE and compare the book with the venue's own truth at every state where both exist.

    Exit 0 when states were compared and none mismatched; 1 on any mismatch, or when the file holds
    no truth to compare.
    """
    chosen = _format(file, fmt)
    result = _run(lambda: _check(file, chosen))
    if as_json:
        emit_json(result.to_dict())
    else:
        typer.echo(check_text(result))
    for note in result.notes:
        if note.startswith("bad lines"):
            info(f"warning: {note} (see the notes for the first ones)")
    if result.states_compared == 0:
        fail(f"{file} holds no truth to compare: nothing was checked (see the notes)")
    if result.states_mismatched or result.levels_mismatched:
        fail(
            f"{result.states_mismatched} of {result.states_compared} states mismatched the venue's truth "
            f"({result.levels_mismatched} levels)"
        )


# -- dispatch ------------------------------------------------------------------------------------------
def _format(file: Path, fmt: DataFormat | None) -> DataFormat:
    if not file.exists():
        fail(f"{file}: no such file")
    if not file.is_file():
        fail(f"{file}: not a regular file")
    if fmt is not None:
        return fmt
    from adapters.binance.files import sniff

    detected = _run(lambda: sniff(file))
    if detected.format is None:
        fail(f"{file}: the content does not tell the format ({detected.describe()}); give --format")
    return DataFormat(detected.format)


def _book_at(file: Path, fmt: DataFormat, at_ns: int | None, depth: int) -> BookView:
    if fmt is DataFormat.LOBSTER:
        return _lobster("book_at")(str(file), at_ns, depth)
    from adapters.binance.replay import book_at

    return book_at(str(file), at_ns, depth, fmt.value)


def _check(file: Path, fmt: DataFormat) -> TruthCheck:
    if fmt is DataFormat.LOBSTER:
        return _lobster("check_file")(str(file))
    from adapters.binance.replay import check_file

    return check_file(str(file), fmt.value)


def _lobster(name: str) -> Any:
    """adapters.lobster's function, imported only when needed (it may not be built yet)."""
    try:
        lobster = importlib.import_module("adapters.lobster")
    except ImportError as e:
        fail(f"the LOBSTER adapter is not available ({e})")
    func = getattr(lobster, name, None)
    if func is None:
        fail(f"the LOBSTER adapter does not provide {name}() yet")
    return func


def _run(action: Any) -> Any:
    """Run an adapter call; bad input becomes a clear error and exit 1, never a traceback."""
    from adapters.binance.replay import NotSynchronisedError

    try:
        return action()
    except NotSynchronisedError as e:
        fail(str(e))
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        fail(f"cannot read the file: {e}")
    except ValueError as e:  # FileFormatError, ConfigError, LOBSTER format errors
        fail(str(e))


# -- --at --------------------------------------------------------------------------------------------
def parse_at(text: str) -> int:
    """Epoch ns (>= 1e16), epoch ms (< 1e14) or ISO-8601 -> epoch ns; typer.BadParameter otherwise."""
    t = text.strip()
    if t.isdigit() and t.isascii():
        value = int(t)
        if value >= NS_MIN:
            return value
        if value < MS_MAX:
            return value * 1_000_000
        raise typer.BadParameter(
            f"{t} is ambiguous: give epoch ns (17+ digits), epoch ms (up to 14 digits) or ISO-8601",
            param_hint="--at",
        )
    extra_ns = 0
    m = _ISO_FRACTION.match(t)
    if m:  # datetime keeps microseconds: carry the nanosecond digits ourselves
        frac = m["frac"].ljust(9, "0")
        if len(frac) > 9:
            raise typer.BadParameter(f"{t}: more than 9 fractional digits", param_hint="--at")
        t = f"{m['head']}.{frac[:6]}{m['tail']}"
        extra_ns = int(frac[6:])
    try:
        when = datetime.fromisoformat(t)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither epoch ns, epoch ms nor ISO-8601 (e.g. 2024-08-08T23:55:00Z)",
            param_hint="--at",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000 + extra_ns


def iso_ns(ts_ns: int) -> str:
    if ts_ns <= 0:
        return "unknown"
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns:09d}Z"


# -- rendering ---------------------------------------------------------------------------------------
def book_json(v: BookView) -> dict[str, Any]:
    pe, qe = v.price_exponent, v.qty_exponent
    best_bid = v.bids[0] if v.bids else None
    best_ask = v.asks[0] if v.asks else None
    out: dict[str, Any] = {
        "source": v.source,
        "format": v.format,
        "symbol": v.symbol,
        "update_id": v.update_id,
        "ts_ns": v.ts_ns,
        "ts": iso_ns(v.ts_ns),
        "price_exponent": pe,
        "qty_exponent": qe,
        "bids": [[format_fixed(p, pe), format_fixed(q, qe)] for p, q in v.bids],
        "asks": [[format_fixed(p, pe), format_fixed(q, qe)] for p, q in v.asks],
        "mid": None,
        "spread": None,
        "crossed": bool(best_bid and best_ask and best_bid[0] >= best_ask[0]),
    }
    if best_bid and best_ask:
        # mid = (bid + ask) / 2 exactly: five times the sum, one more decimal place.
        out["mid"] = str(to_decimal((best_bid[0] + best_ask[0]) * 5, pe - 1))
        out["spread"] = format_fixed(best_ask[0] - best_bid[0], pe)
    return out


def book_text(v: BookView) -> str:
    j = book_json(v)
    lines = [
        f"{v.symbol} ({v.format})  update {v.update_id}  event time {j['ts']}",
        f"source {v.source}",
        f"mid {j['mid']}  spread {j['spread']}" + ("  CROSSED" if j["crossed"] else ""),
    ]
    rows = max(len(j["bids"]), len(j["asks"]))
    width = max([len(x) for side in (j["bids"], j["asks"]) for lvl in side for x in lvl] + [8])
    lines.append(f"{'bid qty':>{width}} {'bid':>{width}} | {'ask':<{width}} {'ask qty':<{width}}")
    for i in range(rows):
        bq, bp = (j["bids"][i][1], j["bids"][i][0]) if i < len(j["bids"]) else ("", "")
        ap, aq = (j["asks"][i][0], j["asks"][i][1]) if i < len(j["asks"]) else ("", "")
        lines.append(f"{bq:>{width}} {bp:>{width}} | {ap:<{width}} {aq:<{width}}")
    return "\n".join(lines)


def check_text(c: TruthCheck) -> str:
    verdict = (
        "NO TRUTH"
        if c.states_compared == 0
        else "OK"
        if not (c.states_mismatched or c.levels_mismatched)
        else "MISMATCH"
    )
    lines = [
        f"check {c.source} ({c.format}): {verdict}",
        f"  truth: {c.truth}",
        f"  messages replayed: {c.messages}",
        f"  states compared: {c.states_compared}, mismatched: {c.states_mismatched}",
        f"  levels compared: {c.levels_compared}, mismatched: {c.levels_mismatched}",
    ]
    lines.extend(f"  note: {n}" for n in c.notes)
    lines.extend(f"  mismatch: {m}" for m in c.first_mismatches)
    return "\n".join(lines)
