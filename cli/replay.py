"""`aerodesk replay JOURNAL --into INSTANCE`: republish a recorded journal into a running desk.
`aerodesk replay JOURNAL --verify`: re-run the oms's WAL through a fresh oms and compare its outputs
with those recorded in JOURNAL (core.oms.verify).

Market data by default (--streams picks others, by name), at the recorded pace scaled by --speed, or
as fast as the desk takes it with --max. Each record goes out byte for byte on the target desk's
stream of the same name. Progress goes to stderr once a second. Exit codes: 0 every selected record
delivered; 1 some were not (no subscriber, journal damage, interrupted), or the journal is unreadable;
2 usage; 3 the target desk is not running.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer

from cli.console import fail, info
from cli.exit_codes import ExitCode
from core.agent.signals import ShutdownSignals
from core.bus.errors import DeskNotRunning
from core.bus.instance import InstanceNameError, validate_instance
from core.journal import JournalError
from core.recorder.timespec import format_duration
from core.replay.engine import ReplayProgress
from core.replay.into import DEFAULT_STREAMS, ReplayResult, replay_into

# damage is reported by this command, once, on stderr: the journal reader's own log lines would repeat it
logging.getLogger("core.journal").addHandler(logging.NullHandler())


def replay(
    journal: Path = typer.Argument(..., help="Journal directory, as `aerodesk log ls` prints it."),
    into: str | None = typer.Option(None, "--into", help="The running desk instance to publish into."),
    speed: float | None = typer.Option(
        None, "--speed", help="Pace: recorded time / speed (default 1.0: as recorded; 2: twice as fast)."
    ),
    as_fast_as_possible: bool = typer.Option(
        False, "--max", help="Ignore recorded timing: as fast as possible."
    ),
    streams: str = typer.Option(
        ",".join(DEFAULT_STREAMS), "--streams", help="Comma-separated stream names (or ids) to replay."
    ),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Re-run the oms's write-ahead log through a fresh oms and compare its outputs with the ones "
        "recorded in JOURNAL (exit 0 identical, 1 diverged or nothing to compare).",
    ),
    wal: Path | None = typer.Option(
        None, "--wal", help="With --verify: the oms's WAL directory (default: the journal's instance's wal/)."
    ),
    connect_timeout: float = typer.Option(
        5.0,
        "--connect-timeout",
        min=0.0,
        help="Seconds to wait for subscribers on the target desk's streams.",
    ),
) -> None:
    """Republish a journal's market data into a running desk, or verify the oms against it.

    With --into: the recorded market data (or --streams) at the recorded pace times --speed, or as fast
    as possible with --max. With --verify: re-run the oms's WAL through a fresh oms and compare its
    outputs with those recorded in JOURNAL.
    """
    if verify:
        if into is not None or as_fast_as_possible or speed is not None:
            fail(
                "--verify re-runs the oms's WAL offline: it takes no --into, --speed or --max", ExitCode.USAGE
            )
        _verify(journal, wal)
        return
    if into is None:
        fail("give --into INSTANCE: the running desk to replay into", ExitCode.USAGE)
    if as_fast_as_possible and speed is not None:
        fail("--speed and --max exclude each other", ExitCode.USAGE)
    if speed is not None and not speed > 0:
        fail(f"--speed must be > 0, got {speed}", ExitCode.USAGE)
    try:
        validate_instance(into)
    except InstanceNameError as e:
        fail(str(e), ExitCode.USAGE)
    chosen = [s.strip() for s in streams.split(",") if s.strip()]
    if not chosen:
        fail("--streams names no stream", ExitCode.USAGE)
    pace = None if as_fast_as_possible else (speed or 1.0)
    interrupted: list[int] = []
    try:
        with ShutdownSignals(interrupted.append, (signal.SIGINT, signal.SIGTERM)):
            result = replay_into(
                journal,
                into,
                speed=pace,
                streams=chosen,
                connect_timeout_s=connect_timeout,
                on_progress=lambda p: info(_progress_line(p, pace)),
                should_stop=lambda: bool(interrupted),
            )
    except DeskNotRunning as e:
        fail(str(e), ExitCode.NOT_RUNNING)
    except (KeyError, ValueError) as e:
        fail(str(e).strip("'\""), ExitCode.USAGE)
    except JournalError as e:
        fail(str(e))
    _report(result)


def _verify(journal: Path, wal: Path | None) -> None:
    # imported here: the oms engine is only needed by --verify
    from core.oms.verify import VerifyError, verify_journal

    try:
        result = verify_journal(journal, wal)
    except VerifyError as e:
        fail(str(e))
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(int(ExitCode.FAILURE))


def _progress_line(p: ReplayProgress, pace: float | None) -> str:
    total = p.total or 0
    share = f" ({100 * (p.sent + p.dropped) / total:.1f}%)" if total else ""
    span = f" of {format_duration(p.recorded_span_ns)}" if p.recorded_span_ns is not None else ""
    speed = "max" if pace is None else f"{pace:g}x"
    dropped = f", {p.dropped} not delivered" if p.dropped else ""
    return (
        f"replay: {p.sent}/{total} messages{share}{dropped}, "
        f"recorded +{format_duration(p.recorded_ns)}{span}, speed {speed}"
    )


def _report(result: ReplayResult) -> None:
    for name in result.unconnected:
        info(f"warning: no subscriber on stream {name} in desk {result.instance} when the replay started")
    for (stream, reason), n in sorted(result.dropped.items()):
        info(f"error: {n} message(s) on stream {stream} not delivered: {reason}")
    for damage in result.damage:
        info(f"{'error' if damage.loses_data else 'warning'}: journal damage: {damage}")
    info(
        f"replayed {result.sent} of {result.selected} message(s) from {result.journal} into desk "
        f"{result.instance} in {format_duration(result.elapsed_ns)} "
        f"(recorded span {format_duration(result.recorded_span_ns)})"
    )
    if result.stopped:
        fail("replay interrupted before the end")
    if not result.complete:
        fail("not every selected message was delivered (see above)")


app = typer.Typer(add_completion=False)
app.command()(replay)

if __name__ == "__main__":
    app()
