"""`aerodesk up | down | status | restart`: start, stop, inspect a desk instance.

Register at the top level with `app.add_typer(desk.app)` (no group name: the commands merge into the
parent), or command by command: `app.command("up")(desk.up)` and so on. Also runnable on its own:
`python -m cli.desk up --profile demo`. The work is done by core/supervisor/ops.py; this module
parses arguments and prints. Data goes to stdout, diagnostics to stderr; exit codes are ExitCode's.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import typer

from cli.console import emit_json, info
from cli.exit_codes import ExitCode
from core.supervisor import ops

app = typer.Typer(
    help="Start, stop and inspect a desk instance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

INSTANCE_HELP = "Desk instance (several desks can run side by side)."


def _instance_option() -> Any:
    return typer.Option("default", "--instance", envvar="AERODESK_INSTANCE", help=INSTANCE_HELP)


@app.command("up")
def up(
    profile: str = typer.Option(
        "demo", "--profile", help="A built-in profile (e.g. demo) or a profile .toml."
    ),
    instance: str = _instance_option(),
    detach: bool = typer.Option(
        False, "--detach", help="Run the supervisor in the background and return once the desk is up."
    ),
    stop_with: int | None = typer.Option(
        None,
        "--stop-with",
        metavar="PID",
        help="Stop the desk once process PID is gone (a tool starting a desk for its own lifetime).",
    ),
) -> None:
    """Start a desk: the media driver, then every daemon of the profile in order.

    Returns once every daemon has sent its first heartbeat (exit 1 naming the one that did not, and
    stopping what was started). Without --detach the desk runs in the foreground until Ctrl-C or
    SIGTERM, then stops. Already running and healthy: exit 0.
    """
    if not detach:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
        )
    _finish(ops.up(profile, instance, detach=detach, stop_with=stop_with, info=info))


@app.command("down")
def down(instance: str = _instance_option()) -> None:
    """Stop a desk: daemons in reverse order, then the media driver. Exit 3 if it is not running."""
    _finish(ops.down(instance, info=info))


@app.command("status")
def status(
    instance: str = _instance_option(),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Per daemon: pid, state, heartbeat age, restarts, key counters.

    Exit 0 healthy, 3 not running, 4 unhealthy (a daemon down, failed, silent or degraded).
    """
    outcome = ops.status(instance)
    if as_json:
        emit_json(outcome.data)
    elif outcome.data.get("daemons"):
        sys.stdout.write(render_status(outcome.data))
    if outcome.code != ExitCode.OK or not as_json:
        info(outcome.message)
    raise typer.Exit(outcome.code)


@app.command("restart")
def restart(
    daemon: str = typer.Argument(..., help="The daemon's name in the desk's profile."),
    instance: str = _instance_option(),
) -> None:
    """Restart one daemon through the desk's supervisor; returns once it is running again."""
    _finish(ops.restart(daemon, instance))


def _finish(outcome: ops.Outcome) -> None:
    if outcome.message:
        info(outcome.message if outcome.code == ExitCode.OK else f"error: {outcome.message}")
    raise typer.Exit(outcome.code)


# -- rendering ------------------------------------------------------------------------------------
KEY_COUNTERS = 5


def render_status(data: dict[str, Any]) -> str:
    lines = []
    started = data.get("started_ns") or 0
    uptime = _duration((time.time_ns() - started) / 1e9) if started else "?"
    lines.append(
        f"desk {data['instance']}: {data.get('state')}, profile {data.get('profile_name')}, "
        f"supervisor pid {data.get('supervisor_pid')}, up {uptime}"
    )
    header = ("DAEMON", "PID", "STATE", "HEARTBEAT", "RESTARTS", "COUNTERS")
    rows = [header]
    for d in data["daemons"]:
        age = d.get("heartbeat_age_ms")
        beat = f"{age / 1000:.1f}s ago" if age is not None else "none"
        if d.get("heartbeat_state") and d["heartbeat_state"] != "Running":
            beat += f" ({d['heartbeat_state']})"
        state = d.get("state") or "?"
        if not d.get("healthy"):
            state += " !"
        rows.append(
            (d["name"], str(d.get("pid") or "-"), state, beat, str(d.get("restarts", 0)), key_counters(d))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
    return "\n".join(lines) + "\n"


def key_counters(d: dict[str, Any]) -> str:
    """The daemon's own counters (not the bus's), the non-zero ones first, a few of them."""
    prefix = f"{d['name']}."
    own = [(k[len(prefix) :], v) for k, v in (d.get("counters") or {}).items() if k.startswith(prefix)]
    own.sort(key=lambda kv: (kv[1] == 0, kv[0]))
    return " ".join(f"{k}={v}" for k, v in own[:KEY_COUNTERS])


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


if __name__ == "__main__":
    app()
