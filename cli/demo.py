"""`aerodesk demo`: the main job. Starts the demo desk (synthetic market, simulated venue, market maker)
on an instance, attaches the TUI, and on quit stops everything it started.

Lifecycle:
- the desk is started with the supervisor's own `up --detach` (core/supervisor/ops.py): a supervisor
  process in its own session owns the driver and the daemons;
- the TUI runs in the foreground, attached over the bus like any observer;
- on quit, Ctrl-C (also while starting), a crash of the TUI, SIGTERM or SIGHUP (the terminal closed),
  `down` stops the supervisor, which stops the daemons and the driver and removes
  /dev/shm/aerodesk-<instance>; what it cannot stop cleanly is killed by pid. Nothing is left behind.
- a desk already running on the instance is attached to and left running on quit (said so).

Register at the top level: `app.command("demo")(demo.demo)`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import typer

from cli.console import fail, info
from cli.exit_codes import ExitCode
from core.bus import InstanceNameError, resolve_instance
from core.config import ConfigError
from core.supervisor import ops
from core.supervisor.runtime import RuntimeDirError, instance_paths, lock_held

DEFAULT_INSTANCE = "demo"


class Hangup(BaseException):
    """SIGHUP or SIGTERM: unwind out of the TUI so the desk is stopped on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def demo(
    instance: str = typer.Option(
        DEFAULT_INSTANCE, "--instance", envvar="AERODESK_INSTANCE", help="Desk instance to run the demo on."
    ),
    profile: str = typer.Option(
        "demo", "--profile", help="Desk profile (built-in name or .toml).", hidden=True
    ),
    read_only: bool = typer.Option(False, "--read-only", help="Watch only: actions are hidden and refused."),
    theme: str = typer.Option(None, "--theme", help="dark or light (default from configs/tui.toml)."),
) -> None:
    """Run the demo desk (synthetic market, simulated venue, market maker) with the TUI.

    Quitting the TUI stops everything the demo started. If a desk already runs on the instance, the TUI
    attaches to it and leaves it running.
    """
    try:
        name = resolve_instance(instance)
        paths = instance_paths(name)
    except InstanceNameError as e:
        fail(str(e), ExitCode.USAGE)
    except RuntimeDirError as e:
        fail(str(e))
    if theme is not None and theme not in ("dark", "light"):
        fail(f"--theme must be dark or light, got {theme!r}", ExitCode.USAGE)

    started = False
    code = ExitCode.OK
    with _stop_signals():
        try:
            if lock_held(paths.lock):
                _say(
                    f"desk {name} is already running: attaching to it; it keeps running after you quit "
                    f"(stop it with `aerodesk down --instance {name}`)"
                )
            else:
                _say(f"starting the demo desk on instance {name} (profile {profile}) ...")
                started = True  # from here on, whatever happens, `down` runs
                outcome = ops.up(profile, name, detach=True, info=_say)
                if outcome.code != ExitCode.OK:
                    _say(f"error: {outcome.message}")
                    code = _exit_code(outcome.code)
                    return
                _say(outcome.message)
            code = _run_tui(name, read_only=read_only, theme=theme)
        except KeyboardInterrupt:
            _say("interrupted")
            code = ExitCode.FAILURE
        except Hangup as e:
            _say(f"received {e}: stopping")
            code = ExitCode.FAILURE
        finally:
            if started:
                _stop_desk(name)
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _run_tui(name: str, *, read_only: bool, theme: str | None) -> ExitCode:
    from tui.launch import build_app  # Textual loads only for this command

    try:
        app = build_app(name, read_only=read_only, theme=theme)
    except ConfigError as e:
        _say(f"error: {e}")
        return ExitCode.USAGE
    _running_app[0] = app
    try:
        app.run()
    finally:
        _running_app[0] = None
    if app.return_code not in (None, 0):
        _say(f"the TUI exited with code {app.return_code}")
        return ExitCode.FAILURE
    if app.link.failure is not None:
        _say(f"the TUI's bus worker failed: {app.link.failure}")
        return ExitCode.FAILURE
    return ExitCode.OK


def _stop_desk(name: str) -> None:
    """`down`, shielded: a second Ctrl-C or a hang-up must not leave half a desk behind."""
    with _ignoring(signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        _say(f"stopping the demo desk {name} ...")
        outcome = ops.down(name, info=_say)
        _say(
            outcome.message
            if outcome.code in (ExitCode.OK, ExitCode.NOT_RUNNING)
            else f"error: {outcome.message}"
        )


def _say(message: str) -> None:
    # The terminal may be gone (SIGHUP): never let a failed write stop the clean-up.
    with contextlib.suppress(OSError, ValueError):
        info(message)


def _exit_code(code: int) -> ExitCode:
    try:
        return ExitCode(code)
    except ValueError:
        return ExitCode.FAILURE


_running_app: list[Any] = [None]  # the TUI while it runs, for the signal handler
EXIT_GRACE_S = 5  # after a hang-up, the TUI gets this long to exit by itself before it is unwound


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGHUP and SIGTERM end the demo with its clean-up (their default would exit without it).

    While the TUI runs it is asked to exit (thread-safe, through its event loop), with an alarm as a
    backstop; before or after it, Hangup unwinds the main thread (e.g. out of a starting `up`).
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        app = _running_app[0]
        loop = getattr(app, "_loop", None) if app is not None else None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(app.exit, None, 128 + signum)
            signal.signal(signal.SIGALRM, lambda *_: _raise(Hangup(signum)))
            signal.alarm(EXIT_GRACE_S)
            return
        raise Hangup(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        signal.alarm(0)
        for s, h in previous.items():
            signal.signal(s, h)


def _raise(e: BaseException) -> None:
    raise e


@contextlib.contextmanager
def _ignoring(*signals: signal.Signals) -> Iterator[None]:
    previous: dict[signal.Signals, Callable[..., Any] | int | None] = {}
    for s in signals:
        previous[s] = signal.signal(s, signal.SIG_IGN)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


if __name__ == "__main__":  # `python -m cli.demo`, e.g. for tests that need the process's own pid
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(demo)
    app(prog_name="aerodesk demo")
    sys.exit(0)
