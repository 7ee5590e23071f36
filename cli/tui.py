"""`aerodesk tui`: the trader's terminal UI, attached to a running desk over the bus.

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
) -> None:
    """Attach the TUI to a desk: books, positions, orders, risk, kill switch, health.

    Actions go to the oms as control messages and show its answer. Exit 3 if the desk is not running
    (unless --wait).
    """
    from tui.launch import build_app  # Textual loads only for this command

    try:
        name = resolve_instance(instance)
    except InstanceNameError as e:
        fail(str(e), ExitCode.USAGE)
    if theme is not None and theme not in ("dark", "light"):
        fail(f"--theme must be dark or light, got {theme!r}", ExitCode.USAGE)
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


def desk_running(instance: str) -> bool:
    return probe_driver(instance_dir(instance), load_bus_config().driver.driver_timeout_ms).active
