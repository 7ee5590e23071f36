"""`aerodesk order new | cancel | replace`: manual orders, through exactly the oms's checks for any order.

Quantities and prices are decimals in the instrument's units, converted exactly with its exponents; a
value finer than its lot or tick is a usage error (exit 2), never rounded. `order new` prints the order
id and where it ended (acked, filled, rejected with the reason...). Exit codes: 0 done; 1 refused
(the reason is printed); 2 usage; 3 the desk is not running or no oms answers; 4 the oms is unhealthy.

Register in cli/main.py:
    app.add_typer(orders.app, name="order")
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from cli.console import emit_json, fail, info
from cli.control import desk, instance_option, oms_session, timeout_option, usage_errors
from cli.exit_codes import ExitCode
from core.codec.messages import AckStatus, ExecType, OrdStatus, OrdType, QueryType, Side, TimeInForce
from core.control.amounts import instrument, price_mantissa, qty_mantissa
from core.control.client import ControlClient, Reply
from core.control.errors import Refused
from core.control.views import dec_text, kebab
from core.instruments import Instrument

app = typer.Typer(
    help="Manual orders: new, cancel, replace (same risk checks as any strategy's).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class SideArg(StrEnum):
    buy = "buy"
    sell = "sell"


class TifArg(StrEnum):
    gtc = "gtc"
    ioc = "ioc"
    fok = "fok"
    day = "day"


class TypeArg(StrEnum):
    limit = "limit"
    market = "market"


_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK, "day": TimeInForce.Day}
_TERMINAL = frozenset({OrdStatus.Filled, OrdStatus.Canceled, OrdStatus.Rejected, OrdStatus.Expired})
_ENDED = _TERMINAL | {OrdStatus.New, OrdStatus.PartiallyFilled}


def _status(report: Any) -> str:
    return kebab(report.ordStatus.name) if not report.ordStatus.is_unknown else "unknown"


def _why(report: Any) -> str:
    reason = report.reason.name if not report.reason.is_unknown else str(int(report.reason))
    return f"{reason}: {report.text}" if report.text else reason


@app.command("new")
def new(
    symbol: str = typer.Argument(..., help="Instrument symbol, e.g. BTC-USD."),
    side: SideArg = typer.Argument(..., help="buy or sell."),
    qty: str = typer.Argument(..., help="Quantity in instrument units, e.g. 0.25."),
    price: str | None = typer.Option(None, "--price", help="Limit price (a limit order needs one)."),
    tif: TifArg = typer.Option(TifArg.gtc, "--tif", help="Time in force."),
    ord_type: TypeArg | None = typer.Option(
        None, "--type", help="limit or market (default: limit with --price, else market)."
    ),
    strategy: int = typer.Option(
        0, "--strategy", min=0, help="Book it to this strategy (0: the manual book)."
    ),
    as_json: bool = typer.Option(False, "--json", help="The outcome as JSON on stdout."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Send a manual order and print its id and final status (acked, filled, rejected with the reason)."""
    kind = ord_type or (TypeArg.limit if price is not None else TypeArg.market)
    if kind is TypeArg.limit and price is None:
        fail("a limit order needs --price", ExitCode.USAGE)
    if kind is TypeArg.market and price is not None:
        fail("a market order takes no --price", ExitCode.USAGE)
    _, config = desk(instance)
    with usage_errors():
        inst = instrument(config.catalog, symbol)
        q = qty_mantissa(inst, qty)
        p = price_mantissa(inst, price) if price is not None else None
    with oms_session(instance, timeout) as (client, config):
        cid = client.send_new_order(
            instrument_id=inst.id,
            side=Side.Buy if side is SideArg.buy else Side.Sell,
            qty=q,
            price=p,
            ord_type=OrdType.Limit if kind is TypeArg.limit else OrdType.Market,
            tif=_TIF[tif.value],
            strategy_id=strategy,
        )
        immediate = tif in (TifArg.ioc, TifArg.fok) or kind is TypeArg.market
        reply = client.wait(cid, lambda r: _order_settled(r, immediate), timeout)
    _report_new(reply, inst, as_json)


def _order_settled(reply: Reply, immediate: bool) -> bool:
    """Refused, or the order reached a status the venue decided: acked (resting), or ended for
    immediate orders (IOC, FOK, market) which live only for their first match."""
    if any(a.status == AckStatus.Refused for a in reply.acks):
        return True
    settled = _TERMINAL if immediate else _ENDED
    return any(r.ordStatus in settled for r in reply.reports)


def _report_new(reply: Reply, inst: Instrument, as_json: bool) -> None:
    refused = next((a for a in reply.acks if a.status == AckStatus.Refused), None)
    last = reply.reports[-1] if reply.reports else None
    order_id = next((r.orderId for r in reply.reports if r.orderId), 0)
    if refused is not None:
        reason = refused.reason.name if not refused.reason.is_unknown else str(int(refused.reason))
        outcome = {
            "order_id": order_id or None,
            "status": "rejected",
            "filled_qty": "0",
            "reason": reason,
            "text": refused.text or "",
        }
    else:
        assert last is not None
        outcome = {
            "order_id": order_id,
            "status": _status(last),
            "filled_qty": dec_text(inst.qty(last.cumQty)),
            "reason": last.reason.name if last.ordStatus == OrdStatus.Rejected else None,
            "text": last.text or "",
        }
    if as_json:
        emit_json(outcome)
    elif outcome["status"] == "rejected":
        typer.echo(f"order {outcome['order_id'] or '-'} rejected: {outcome['reason']}: {outcome['text']}")
    else:
        typer.echo(f"order {outcome['order_id']} {outcome['status']} (filled {outcome['filled_qty']})")
    if outcome["status"] == "rejected":
        err = Refused(outcome["reason"], outcome["text"] or "")
        fail(str(err), ExitCode.UNHEALTHY if err.unhealthy else ExitCode.FAILURE)


@app.command("cancel")
def cancel(
    order_id: int = typer.Argument(..., min=1, help="The oms's order id (see `aerodesk orders`)."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Cancel one working order; returns once the venue confirmed (or refused) it."""
    with oms_session(instance, timeout) as (client, _config):
        cid = client.send_cancel_order(order_id=order_id)
        client.watch_order(order_id, cid)
        reply = client.wait(cid, lambda r: _request_done(r, order_id, ExecType.CancelRejected), timeout)
    _report_request(reply, order_id, "cancel", ExecType.CancelRejected)


@app.command("replace")
def replace(
    order_id: int = typer.Argument(..., min=1, help="The oms's order id (see `aerodesk orders`)."),
    qty: str | None = typer.Option(None, "--qty", help="New total quantity."),
    price: str | None = typer.Option(None, "--price", help="New limit price."),
    instance: str = instance_option(),
    timeout: float = timeout_option(),
) -> None:
    """Change a working order's quantity and/or price (checked again by pre-trade risk)."""
    if qty is None and price is None:
        fail("give --qty and/or --price", ExitCode.USAGE)
    with oms_session(instance, timeout) as (client, config):
        order = _working_order(client, config, order_id, timeout)
        inst = config.catalog.by_id(order.instrumentId)
        q = qty_mantissa(inst, qty) if qty is not None else order.qty
        p = price_mantissa(inst, price) if price is not None else order.price
        cid = client.send_replace_order(order_id=order_id, qty=q, price=p, instrument_id=inst.id)
        client.watch_order(order_id, cid)
        reply = client.wait(cid, lambda r: _request_done(r, order_id, ExecType.ReplaceRejected), timeout)
    _report_request(reply, order_id, "replace", ExecType.ReplaceRejected)


def _working_order(client: ControlClient, config: Any, order_id: int, timeout: float) -> Any:
    for page in client.query(QueryType.Orders, timeout):
        for o in page.orders:
            if o.orderId == order_id:
                return o
    fail(f"order {order_id} is not a working order (see `aerodesk orders`)")


def _request_done(reply: Reply, order_id: int, refused: ExecType) -> bool:
    for r in reply.reports:
        if r.execType == refused:
            return True
        if r.orderId == order_id and r.execType in (ExecType.Canceled, ExecType.Replaced, ExecType.Expired):
            return True
        if r.orderId == order_id and r.ordStatus in (OrdStatus.Filled, OrdStatus.Canceled, OrdStatus.Expired):
            return True
    return False


def _report_request(reply: Reply, order_id: int, what: str, refused: ExecType) -> None:
    for r in reply.reports:
        if r.execType == refused:
            err = Refused(r.reason.name if not r.reason.is_unknown else str(int(r.reason)), r.text or "")
            code = ExitCode.UNHEALTHY if err.unhealthy else ExitCode.FAILURE
            fail(f"{what} of order {order_id} refused: {_why(r)}", code)
    last = reply.reports[-1]
    if what == "replace" and last.execType == ExecType.Replaced:
        typer.echo(f"order {order_id} replaced")
        return
    status = _status(last)
    if what == "cancel" and last.ordStatus == OrdStatus.Canceled:
        typer.echo(f"order {order_id} canceled")
        return
    info(f"order {order_id} ended {status} before the {what} took effect")
    typer.echo(f"order {order_id} {status}")
    if what == "replace" or last.ordStatus != OrdStatus.Canceled:
        fail(f"the {what} of order {order_id} did not take effect: the order is {status}")
