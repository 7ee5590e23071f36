"""`aerodesk tui`: the trader's terminal UI, attached to a running desk over the bus, or replaying a
recorded journal (`--journal`).

Register at the top level: `app.command("tui")(tui.tui)`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.console import fail, info
from cli.exit_codes import ExitCode
from core.bus import InstanceNameError, instance_dir, probe_driver, resolve_instance
from core.bus.config import load_bus_config
from core.config import ConfigError


def tui(
    instance: str = typer.Option(
        None, "--instance", envvar="AERODESK_INSTANCE", help="Desk instance to attach to (default: default)."
    ),
    read_only: bool = typer.Option(
        False,
        "--read-only",
        help="Watch only: every action (kill, flatten, cancel, orders) is hidden and refused.",
    ),
    theme: str = typer.Option(None, "--theme", help="dark or light (default from configs/tui.toml)."),
    config: Path = typer.Option(None, "--config", help="TUI settings (default configs/tui.toml)."),
    wait: bool = typer.Option(
        False, "--wait", help="Attach even if the desk is not running yet, and wait for it."
    ),
    journal: Path = typer.Option(
        None,
        "--journal",
        help="Replay this recorded journal instead of attaching to a desk: a journal directory as "
        "`aerodesk log ls` prints it (or a segment file in it). Read-only; --instance is not used.",
    ),
    speed: str = typer.Option(
        "1", "--speed", help="With --journal: replay speed, 0.25 to 64 (e.g. 0.5, 2, 16), or max."
    ),
    paused: bool = typer.Option(False, "--paused", help="With --journal: open paused at the first record."),
) -> None:
    """Attach the TUI to a desk: books, positions, orders, risk, kill switch, health.

    Actions go to the oms as control messages and show its answer. Exit 3 if the desk is not running
    (unless --wait).

    With --journal, the TUI replays a recording at its recorded pace instead: space pauses, `.` steps
    one record and `n` to the next market-data or state message, `[` / `]` change the speed, left and
    right seek 10 s, `g` seeks to a time, home / end go to the start / end. Actions are refused. A
    damaged journal is replayed up to the damage, which the screen reports. Exit 2 for a path that is
    not a journal, 1 for a journal that cannot be read.
    """
    if theme is not None and theme not in ("dark", "light"):
        fail(f"--theme must be dark or light, got {theme!r}", ExitCode.USAGE)
    if journal is not None:
        if wait:
            fail("--wait attaches to a live desk; it cannot be used with --journal", ExitCode.USAGE)
        _replay(journal, speed, paused, theme, config)
        return
    if paused:
        fail("--paused is for a journal replay: use it with --journal", ExitCode.USAGE)
    if speed.strip() != "1":
        fail("--speed is for a journal replay: use it with --journal", ExitCode.USAGE)
    from tui.launch import build_app  # Textual loads only for this command

    try:
        name = resolve_instance(instance)
    except InstanceNameError as e:
        fail(str(e), ExitCode.USAGE)
    if not wait and not desk_running(name):
        fail(
            f"desk {name} is not running (no media driver at {instance_dir(name)}); start it with "
            f"`aerodesk up --instance {name}`, or pass --wait",
            ExitCode.NOT_RUNNING,
        )
    try:
        app = build_app(name, read_only=read_only, theme=theme, config_path=config)
    except ConfigError as e:
        fail(str(e), ExitCode.USAGE)
    app.run()
    if app.link.failure is not None:
        info(f"the TUI's bus worker failed: {app.link.failure}")
        raise typer.Exit(int(ExitCode.FAILURE))


def _replay(journal: Path, speed_text: str, paused: bool, theme: str | None, config: Path | None) -> None:
    from core.journal import JournalError
    from tui.launch import build_replay_app
    from tui.replay_clock import parse_speed
    from tui.replay_source import NotAJournalError

    try:
        speed = parse_speed(speed_text)
    except ValueError as e:
        fail(f"--speed: {e}", ExitCode.USAGE)
    try:
        app = build_replay_app(journal, speed=speed, paused=paused, theme=theme, config_path=config)
    except ConfigError as e:
        fail(str(e), ExitCode.USAGE)
    except NotAJournalError as e:
        fail(f"--journal {e}", ExitCode.USAGE)
    except (JournalError, OSError) as e:
        fail(f"cannot read the journal {journal}: {e}", ExitCode.FAILURE)
    app.run()
    if app.link.failure is not None:
        info(f"the TUI's replay worker failed: {app.link.failure}")
        raise typer.Exit(int(ExitCode.FAILURE))


def desk_running(instance: str) -> bool:
    return probe_driver(instance_dir(instance), load_bus_config().driver.driver_timeout_ms).active
