"""The JSON views of the query replies, fed real replies of a real engine (core.oms), not hand-made ones."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import KillAction, KillSwitch, QueryType, Side, TimeInForce
from core.control.views import ORDER_STATUSES, Views
from core.daemons.oms.store import ConfigFiles, OmsConfig
from core.sim.config import load_venues
from tests.core.oms.harness import BTC, CATALOG, ETH, OPERATOR, Desk, config

MID = 6_000_000  # 60000.00


def views(desk: Desk) -> Views:
    return Views(OmsConfig(ConfigFiles.shipped(), CATALOG, desk.config, load_venues(instruments=CATALOG)))


def pages(desk: Desk, qtype: QueryType) -> list:
    mark = len(desk.out)
    desk.query(qtype)
    return [o.message() for o in desk.out.outputs[mark:] if o.kind == "query_reply"]


def test_positions_split_accounts_from_the_manual_book_strategy_0() -> None:
    d = Desk(config(strategies={1: {"account_id": 1}}))  # manual_strategy_id 0: rows of strategy 0 look
    d.book(BTC, MID - 50, MID + 50)  # like account rows; the view must still tell them apart
    d.book(ETH, 299_950, 300_050)
    d.order(0, 1, BTC, Side.Buy, 5_000, MID, flags=4)  # manual: strategy 0
    d.ack(1)
    d.fill(1, 5_000, MID)
    d.order(1, 2, ETH, Side.Sell, 2_000, 299_950)
    d.ack(2)
    d.fill(2, 2_000, 299_950)
    data = views(d).positions(pages(d, QueryType.Positions))
    accounts = {(p["account"], p["instrument"]): p["qty"] for p in data["accounts"]}
    strategies = {(p["strategy"], p["instrument"]): p["qty"] for p in data["strategies"]}
    assert accounts == {(1, "BTC-USD"): "0.5", (1, "ETH-USD"): "-2"}
    assert strategies == {(0, "BTC-USD"): "0.5", (1, "ETH-USD"): "-2"}
    btc = next(p for p in data["accounts"] if p["instrument"] == "BTC-USD")
    assert btc["avg_price"] == "60000" and btc["realized_pnl"] == "0" and btc["mark_price"] == "60000"


def test_orders_are_shown_in_instrument_units_with_kebab_statuses() -> None:
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.order(3, 7, BTC, Side.Sell, 12_345, MID + 50, tif=TimeInForce.IOC)
    d.order(3, 8, BTC, Side.Buy, 10_000, MID - 150)
    d.ack(2)
    d.fill(2, 2_500, MID - 150)
    rows = {r["cl_ord_id"]: r for r in views(d).orders(pages(d, QueryType.Orders))}
    ioc, partial = rows[7], rows[8]
    assert (ioc["side"], ioc["tif"], ioc["price"], ioc["qty"], ioc["status"]) == (
        "sell",
        "ioc",
        "60000.5",
        "1.2345",
        "pending-new",
    )
    assert (partial["filled_qty"], partial["leaves_qty"], partial["status"]) == (
        "0.25",
        "0.75",
        "partially-filled",
    )
    assert partial["venue"] == "sim" and partial["account"] == 1 and partial["strategy"] == 3
    assert set(ORDER_STATUSES) == {
        "pending-new",
        "new",
        "partially-filled",
        "filled",
        "pending-cancel",
        "canceled",
        "pending-replace",
        "replaced",
        "rejected",
        "expired",
    }


def test_risk_view_has_the_kill_switch_and_every_limit() -> None:
    d = Desk(
        config({"daily_loss": "5000", "max_open_orders": 10}, instruments={BTC: {"max_order_qty": "2.5"}})
    )
    d.send(
        KillSwitch.encode_bytes(
            correlationId=1,
            clientId=5,
            action=KillAction.Engage,
            sendTs=0,
            operator=OPERATOR,
            reason="test halt",
        )
    )
    data = views(d).risk(pages(d, QueryType.Risk), None, [])
    assert data["kill_switch"] == {"engaged": True, "reason": "test halt", "by": None, "since": None}
    limits = {(r["name"], r["strategy"], r["instrument"]): (r["value"], r["used"]) for r in data["limits"]}
    assert limits[("daily_loss", 0, None)] == ("5000", "0")
    assert limits[("max_order_qty", 0, "BTC-USD")] == ("2.5", "0")  # configured: listed though unused
    assert Decimal(data["daily_pnl"]) == 0 and data["events"] == []
