"""`aerodesk orders | positions | risk [--json]`: the oms's state, answered by the oms over the bus.

Tables for people, `--json` for scripts (stable shapes: docs/cli-json.md). Exit codes: 0 answered;
1 refused; 2 usage; 3 the desk is not running, or no oms answers within --timeout.

Register in cli/main.py:
    app.command("orders")(queries.orders)
    app.command("positions")(queries.positions)
    app.command("risk")(queries.risk)
"""

from __future__ import annotations

import time

import typer

from cli.console import emit_json, info
from cli.control import instance_option, oms_session, print_table, timeout_option
from core.codec.messages import QueryType
from core.control.events import recent_risk_events
from core.control.views import Views


def orders(
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout (docs/cli-json.md)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Working orders (every order not yet filled, cancelled, rejected or expired)."""
    with oms_session(instance, timeout) as (client, config):
        rows = Views(config).orders(client.query(QueryType.Orders, timeout))
    if as_json:
        emit_json(rows)
        return
    print_table(
        ["order", "strategy", "instrument", "side", "type", "tif", "price", "qty", "filled", "status"],
        [
            [
                r["order_id"],
                r["strategy"],
                r["instrument"],
                r["side"],
                r["type"],
                r["tif"],
                r["price"] or "market",
                r["qty"],
                r["filled_qty"],
                r["status"],
            ]
            for r in rows
        ],
    )


def positions(
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout (docs/cli-json.md)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Net positions with average price and PnL, per account and per strategy."""
    with oms_session(instance, timeout) as (client, config):
        data = Views(config).positions(client.query(QueryType.Positions, timeout))
    if as_json:
        emit_json(data)
        return
    header = ["owner", "instrument", "qty", "avg price", "realized", "unrealized", "fees"]
    rows = [[f"account {r['account']}", *_position_cells(r)] for r in data["accounts"]]
    rows += [[f"strategy {r['strategy']}", *_position_cells(r)] for r in data["strategies"]]
    print_table(header, rows)


def _position_cells(r: dict) -> list:
    return [
        r["instrument"],
        r["qty"],
        r["avg_price"] or "-",
        r["realized_pnl"],
        r["unrealized_pnl"],
        r["fees"],
    ]


def risk(
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout (docs/cli-json.md)."),
    events: int = typer.Option(20, "--events", min=0, help="How many recent risk events to show."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Kill switch, every limit with its use, and the recent risk events."""
    with oms_session(instance, timeout) as (client, config):
        pages = client.query(QueryType.Risk, timeout)
        if pages and int(pages[0].killEngaged):
            _wait_kill_state(client, timeout)  # who engaged it and when: the periodic KillSwitchState says
        kill_state = client.kill_state
        instance_name = client.bus.instance
    recent, source = recent_risk_events(instance_name, events)
    if not recent and events:
        info(f"no recent risk events: {source}")
    data = Views(config).risk(pages, kill_state, recent)
    if as_json:
        emit_json(data)
        return
    k = data["kill_switch"]
    if k["engaged"]:
        typer.echo(f"kill switch: ENGAGED ({k['reason'] or 'no reason given'}; by {k['by'] or '?'})")
    else:
        typer.echo("kill switch: released")
    typer.echo(f"daily PnL: {data['daily_pnl']}")
    print_table(
        ["limit", "strategy", "instrument", "value", "used"],
        [
            [r["name"], r["strategy"] or "desk", r["instrument"] or "any", r["value"], r["used"]]
            for r in data["limits"]
        ],
    )
    for e in data["events"]:
        typer.echo(f"event {e['seq']} {e['type']} {e['reason']}: {e['text']}")


def _wait_kill_state(client, timeout: float) -> None:
    """Until a KillSwitchState arrives (the oms publishes one every status interval), at most `timeout`."""
    deadline = time.monotonic() + timeout
    while client.kill_state is None and time.monotonic() < deadline:
        if not client.bus.do_work() + client.do_work():
            time.sleep(0.005)
