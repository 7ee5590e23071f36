"""`aerodesk log ...`: list, dump, summarise and export recorded journals (the recorder's, or a WAL).

Every command takes a journal's path as `aerodesk log ls` prints it. Damage (a torn tail after a
crash, a corrupted or missing record) is reported on stderr; the journal is read up to it, and dump,
stats and export exit 1 when damage lost records (a damaged index alone loses nothing: warning, 0).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from cli.console import emit_json, fail, info
from cli.exit_codes import ExitCode
from core.journal import JournalError, JournalReader, default_data_dir, journal_info
from core.recorder.columns import MalformedRecordError
from core.recorder.dump import Selection, record_json, record_text, select_records
from core.recorder.export import export_parquet
from core.recorder.listing import list_journals
from core.recorder.names import StreamNames, resolve_template
from core.recorder.stats import journal_stats
from core.recorder.timespec import parse_time

app = typer.Typer(help="Recorded journals: list, dump, statistics and Parquet export.", no_args_is_help=True)

# damage is reported by these commands, once, on stderr: the journal reader's own log lines would repeat it
logging.getLogger("core.journal").addHandler(logging.NullHandler())

JOURNAL_HELP = "Journal directory, as `aerodesk log ls` prints it."
TIME_HELP = "epoch ns, ISO-8601 (no zone = UTC, e.g. 2026-11-22T17:51:30.5Z) or +1.5s after the first record"


@app.command("ls")
def ls(
    directory: Path | None = typer.Argument(
        None, help="Data directory (default $AERODESK_DATA or ~/.local/share/aerodesk), or one journal."
    ),
    instance: str | None = typer.Option(None, "--instance", help="Only this desk instance's journals."),
    as_json: bool = typer.Option(False, "--json", help='A JSON list of objects, each with its "path".'),
) -> None:
    """Every journal, one per line: path, time range, duration, messages, size, counts per stream and
    message type."""
    root = directory if directory is not None else default_data_dir()
    if directory is not None and not root.is_dir():
        fail(f"no such directory: {root}")
    try:
        entries = list_journals(root, instance)
    except ValueError as e:  # a bad instance name
        fail(str(e), ExitCode.USAGE)
    names = StreamNames()
    if as_json:
        emit_json([e.to_dict(names) for e in entries])
        return
    if not entries:
        info(f"no journals under {root}" + (f" for instance {instance}" if instance else ""))
    for entry in entries:
        typer.echo(entry.to_text(names))


@app.command()
def dump(
    journal: Path = typer.Argument(..., help=JOURNAL_HELP),
    stream: list[str] = typer.Option(
        [], "--stream", help="Stream id or name (repeatable), e.g. market_data or 20; markers is 0."
    ),
    template: list[str] = typer.Option([], "--template", help="Message type, e.g. Trade (repeatable)."),
    start: str | None = typer.Option(None, "--from", help=f"First receive time, inclusive: {TIME_HELP}."),
    end: str | None = typer.Option(None, "--to", help=f"Last receive time, exclusive: {TIME_HELP}."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Decoded messages, one per line: receive time, journal sequence, stream, session, message type and
    fields (with --json: an object with receive_time_ns, stream, session_id, template and fields)."""
    names = StreamNames()
    with _reading(journal) as reader:
        selection = _selection(reader, names, stream, template, start, end)
        line = record_json if as_json else record_text
        out = sys.stdout
        try:
            for record in select_records(reader, selection):
                out.write(line(record, names) + "\n")
            out.flush()
        except BrokenPipeError:  # `| head`: the reader has seen enough
            _quiet_stdout()
            return


@app.command()
def stats(
    journal: Path = typer.Argument(..., help=JOURNAL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Rates per stream, market-data sequence gaps per instrument, the recorder's gap markers, and
    latency between stages (md publish -> order send -> oms ack / venue ack) as percentiles."""
    with _reading(journal) as reader:
        result = journal_stats(reader, StreamNames())
        if as_json:
            emit_json(result.to_dict())
        else:
            typer.echo(result.to_text())


@app.command()
def export(
    journal: Path = typer.Argument(..., help=JOURNAL_HELP),
    parquet: Path = typer.Option(
        ..., "--parquet", help="Output directory: one .parquet file per message type."
    ),
    template: list[str] = typer.Option([], "--template", help="Only these message types (repeatable)."),
) -> None:
    """One Parquet table per message type (and per repeating group): prices and quantities as int64
    mantissas with the instrument's exponent beside them (<field>_exponent)."""
    try:
        messages = [resolve_template(t) for t in template] or None
    except ValueError as e:
        fail(str(e), ExitCode.USAGE)
    with _reading(journal) as reader:
        written = export_parquet(reader, parquet, messages=messages)
        for table in written:
            typer.echo(f"{table.path}  {table.rows} rows")
        if not written:
            info("nothing to export: no messages of the aerodesk schema selected")


@contextmanager
def _reading(journal: Path) -> Iterator[JournalReader]:
    """Open the journal; afterwards report damage on stderr and exit 1 if it lost records."""
    try:
        reader = JournalReader(journal)
    except JournalError as e:
        fail(str(e))
    try:
        yield reader
    except (MalformedRecordError, JournalError, NotImplementedError) as e:
        fail(str(e))
    lossy = [d for d in reader.damage if d.loses_data]
    for damage in reader.damage:
        level = "error" if damage.loses_data else "warning"
        info(f"{level}: journal damage: {damage}")
    if lossy:
        fail(f"{journal}: read up to the damage; {len(lossy)} damaged place(s) lost records (see above)")


def _selection(
    reader: JournalReader,
    names: StreamNames,
    streams: list[str],
    templates: list[str],
    start: str | None,
    end: str | None,
) -> Selection:
    try:
        stream_ids = [names.resolve(s) for part in streams for s in part.split(",") if s] or None
        template_ids = [
            resolve_template(t).TEMPLATE_ID for part in templates for t in part.split(",") if t
        ] or None
        origin = None
        if any(t is not None and t.strip().startswith("+") for t in (start, end)):
            origin = journal_info(reader.path, verify=False).first_receive_ns
        start_ns = parse_time(start, origin) if start is not None else None
        end_ns = parse_time(end, origin) if end is not None else None
    except ValueError as e:
        fail(str(e), ExitCode.USAGE)
    return Selection(stream_ids, template_ids, start_ns, end_ns)


def _quiet_stdout() -> None:
    # the pipe is gone: point stdout at /dev/null so the interpreter's final flush cannot fail
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
