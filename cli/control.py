"""`aerodesk kill | release | flatten | cancel-all | limits set | limits ls`: commands to the oms.

Each sends one control message (correlation id, this client's id, the operator identity: user, host,
pid, tool "cli") and waits for the oms's acknowledgement up to --timeout. Data and outcomes go to
stdout, progress and diagnostics to stderr. Exit codes: 0 done; 1 refused or not done in time (the
oms's reason is printed); 2 usage; 3 the desk is not running (no media driver), or no oms answers;
4 the oms is unhealthy (it refused because it cannot write its WAL).

Register in cli/main.py:
    app.command("kill")(control.kill)
    app.command("release")(control.release)
    app.command("flatten")(control.flatten)
    app.command("cancel-all")(control.cancel_all)
    app.add_typer(control.limits_app, name="limits")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import typer

from cli.console import emit_json, fail, info
from cli.exit_codes import ExitCode
from core.bus.errors import DeskNotRunning
from core.bus.instance import InstanceNameError, resolve_instance
from core.codec.messages import AckStatus, QueryType, RiskEventType
from core.config import ConfigError
from core.control.amounts import instrument
from core.control.client import ControlClient, Reply
from core.control.errors import ControlTimeout, OmsNotAnswering, Refused, UsageError
from core.control.session import control_session
from core.control.views import Views
from core.daemons.oms.store import OmsConfig, desk_config
from core.risk.limits import SPECS

INSTANCE_HELP = "Desk instance (env AERODESK_INSTANCE)."
TIMEOUT_HELP = "Seconds to wait for the oms's answer."


def instance_option() -> Any:
    return typer.Option("default", "--instance", envvar="AERODESK_INSTANCE", help=INSTANCE_HELP)


def timeout_option(default: float = 5.0) -> Any:
    return typer.Option(default, "--timeout", min=0.1, help=TIMEOUT_HELP)


# -- the session every command runs in ---------------------------------------------------------------
def desk(instance: str) -> tuple[str, OmsConfig]:
    """The instance name and the configuration its oms runs with (symbols, exponents, accounts)."""
    try:
        name = resolve_instance(instance)
        return name, desk_config(name)
    except InstanceNameError as e:
        fail(str(e), ExitCode.USAGE)
    except ConfigError as e:
        fail(f"cannot read the desk's configuration: {e}", ExitCode.FAILURE)


@contextmanager
def usage_errors() -> Iterator[None]:
    try:
        yield
    except UsageError as e:
        fail(str(e), ExitCode.USAGE)


@contextmanager
def oms_session(instance: str, timeout: float) -> Iterator[tuple[ControlClient, OmsConfig]]:
    """A connected control client and the configuration the oms runs with; failures become exit codes."""
    name, config = desk(instance)
    try:
        with control_session(name, timeout) as client:
            yield client, config
    except DeskNotRunning as e:
        fail(str(e), ExitCode.NOT_RUNNING)
    except OmsNotAnswering as e:
        fail(str(e), ExitCode.NOT_RUNNING)
    except ConnectionError as e:
        fail(str(e), ExitCode.NOT_RUNNING)
    except UsageError as e:
        fail(str(e), ExitCode.USAGE)
    except Refused as e:
        refused(e)
    except ControlTimeout as e:
        fail(str(e), ExitCode.FAILURE)


def refused(e: Refused) -> NoReturn:
    fail(str(e), ExitCode.UNHEALTHY if e.unhealthy else ExitCode.FAILURE)


def final_ack(reply: Reply) -> Any:
    """The Done ack of a reply; a Refused one raises Refused (exit 1, or 4 when the WAL fails)."""
    ack = reply.last_ack
    if ack.status == AckStatus.Refused:
        raise Refused(ack.reason.name if not ack.reason.is_unknown else str(int(ack.reason)), ack.text or "")
    return ack


def _progress_printer() -> Any:
    shown = {"acks": 0, "events": 0}

    def show(reply: Reply) -> None:
        for ack in reply.acks[shown["acks"] :]:
            if ack.status == AckStatus.InProgress and ack.text:
                info(f"oms: {ack.text}")
        for ev in reply.events[shown["events"] :]:
            if ev.eventType in (RiskEventType.FlattenStarted, RiskEventType.FlattenProgress) and ev.text:
                info(f"oms: {ev.text}")
        shown["acks"], shown["events"] = len(reply.acks), len(reply.events)

    return show


def _working_orders(client: ControlClient, timeout: float) -> int | None:
    try:
        return sum(len(p.orders) for p in client.query(QueryType.Orders, timeout))
    except (ControlTimeout, OmsNotAnswering, Refused):
        return None


# -- kill switch ---------------------------------------------------------------------------------------
def kill(
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(10.0),
) -> None:
    """Engage the kill switch: new non-reducing orders are refused and every working order is cancelled.

    Returns once no working order is left (exit 1 if some are still working at the timeout)."""
    with oms_session(instance, timeout) as (client, _config):
        cid = client.send_kill(reason)
        try:
            reply = client.wait_ack(cid, timeout, progress=_progress_printer())
        except ControlTimeout as e:
            left = _working_orders(client, min(timeout, 5.0))
            detail = f"{left} working orders left" if left is not None else "working orders left"
            fail(f"kill switch engaged, but not every order is cancelled yet ({detail}): {e}")
        final_ack(reply)
        typer.echo("kill switch engaged: no working order left")


def release(
    reason: str = typer.Option(..., "--reason", help="Why it is safe to trade again (required)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Release the kill switch (a reason is required: it goes in the audit trail)."""
    if not reason.strip():
        fail("--reason must say why the kill switch is released", ExitCode.USAGE)
    with oms_session(instance, timeout) as (client, _config):
        reply = client.wait_ack(client.send_release(reason), timeout)
        ack = final_ack(reply)
        typer.echo(ack.text or "kill switch released")


# -- flatten, cancel-all -------------------------------------------------------------------------------
def flatten(
    symbols: list[str] = typer.Argument(None, help="Instruments to flatten (or --all)."),
    all_instruments: bool = typer.Option(False, "--all", help="Flatten every instrument."),
    strategy: int = typer.Option(0, "--strategy", min=0, help="Only this strategy's positions."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(60.0),
) -> None:
    """Cancel the working orders, then trade reducing orders until the positions are flat.

    Progress goes to stderr, the outcome per instrument to stdout; exit 1 if one is not flat."""
    if all_instruments == bool(symbols):
        fail("name the instruments to flatten, or give --all (not both)", ExitCode.USAGE)
    _, config = desk(instance)
    targets = [(0, "all instruments")] if all_instruments else []
    with usage_errors():
        for s in symbols or []:
            inst = instrument(config.catalog, s)
            targets.append((inst.id, inst.symbol))
    with oms_session(instance, timeout) as (client, config):
        cids = [(client.send_flatten(iid, strategy, reason), name) for iid, name in targets]
        failed = 0
        for cid, name in cids:
            try:
                reply = client.wait_ack(cid, timeout, progress=_progress_printer())
                ack = final_ack(reply)
                typer.echo(f"{name}: {ack.text or 'flat'}")
            except Refused as e:
                if e.unhealthy:
                    refused(e)
                typer.echo(f"{name}: not flat: {e.text or e.reason}")
                failed += 1
        if failed:
            fail(f"{failed} of {len(cids)} flatten requests did not end flat")


def cancel_all(
    symbol: str | None = typer.Option(None, "--symbol", help="Only this instrument's orders."),
    strategy: int = typer.Option(0, "--strategy", min=0, help="Only this strategy's orders."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(10.0),
) -> None:
    """Cancel working orders (all, or one instrument's, or one strategy's); returns when they are gone."""
    _, config = desk(instance)
    with usage_errors():
        iid = instrument(config.catalog, symbol).id if symbol else 0
    with oms_session(instance, timeout) as (client, config):
        reply = client.wait_ack(
            client.send_cancel_all(iid, strategy, reason), timeout, progress=_progress_printer()
        )
        ack = final_ack(reply)
        typer.echo(ack.text or "cancelled")


# -- limits --------------------------------------------------------------------------------------------
limits_app = typer.Typer(
    help="Risk limits of the oms: list them with their use, change one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@limits_app.command("set")
def limits_set(
    name: str = typer.Argument(..., help="Limit name, e.g. max_order_qty."),
    value: str = typer.Argument(..., help="New value, a decimal in the limit's unit."),
    strategy: int = typer.Option(0, "--strategy", min=0, help="For this strategy only."),
    symbol: str | None = typer.Option(None, "--symbol", help="For this instrument only."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Change a risk limit at run time (audited: the oms publishes a LimitChanged risk event)."""
    if name not in SPECS:
        fail(f"unknown limit {name!r}; limits: {', '.join(SPECS)}", ExitCode.USAGE)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        fail(f"value {value!r} is not a decimal number", ExitCode.USAGE)
    if not amount.is_finite():
        fail(f"value {value!r} is not a finite number", ExitCode.USAGE)
    _, config = desk(instance)
    with usage_errors():
        iid = instrument(config.catalog, symbol).id if symbol else 0
    with oms_session(instance, timeout) as (client, config):
        cid = client.send_set_limit(name, amount, strategy_id=strategy, instrument_id=iid, reason=reason)
        ack = final_ack(client.wait_ack(cid, timeout))
        typer.echo(ack.text or f"{name} = {amount}")


@limits_app.command("ls")
def limits_ls(
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout (docs/cli-json.md)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Every limit in force with its current use (from the oms's Risk query)."""
    with oms_session(instance, timeout) as (client, config):
        pages = client.query(QueryType.Risk, timeout)
        rows = Views(config).risk(pages, None, [])["limits"]
    if as_json:
        emit_json(rows)
        return
    print_table(
        ["name", "strategy", "instrument", "value", "used"],
        [[r["name"], r["strategy"] or "desk", r["instrument"] or "any", r["value"], r["used"]] for r in rows],
    )


def print_table(header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in header], *[[("" if c is None else str(c)) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
