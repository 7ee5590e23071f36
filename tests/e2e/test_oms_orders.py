"""Manual orders through the CLI into a real desk: acks, pre-trade refusals with their reasons, usage
errors for amounts finer than the instrument allows, replace, cancel, cancel-all, limits, and the
stable JSON shapes of `orders`, `positions` and `risk` (docs/cli-json.md)."""

from __future__ import annotations

from decimal import Decimal

from core.control.views import ORDER_STATUSES
from tests.desk import PROFILES, Desk, desk_fixture
from tests.e2e.cli import DeskCli

desk = desk_fixture(PROFILES / "oms.toml")

ORDER_KEYS = {
    "order_id",
    "cl_ord_id",
    "strategy",
    "account",
    "instrument",
    "venue",
    "side",
    "type",
    "tif",
    "price",
    "qty",
    "filled_qty",
    "leaves_qty",
    "status",
    "created_ts",
    "updated_ts",
}
POSITION_KEYS = {
    "account",
    "instrument",
    "qty",
    "avg_price",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
    "mark_price",
}


def test_a_limit_order_is_acked_and_listed_exactly(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    out = cli.new("ETH-USD", "buy", "0.5", "--price", "2400.25")
    assert out["exit"] == 0 and out["status"] == "new" and out["order_id"] > 0, out
    [row] = [o for o in cli.orders() if o["order_id"] == out["order_id"]]
    assert set(row) == ORDER_KEYS
    assert row["instrument"] == "ETH-USD" and row["venue"] == "sim"
    assert (row["side"], row["type"], row["tif"], row["status"]) == ("buy", "limit", "gtc", "new")
    assert (row["price"], row["qty"], row["filled_qty"], row["leaves_qty"]) == ("2400.25", "0.5", "0", "0.5")
    assert row["strategy"] == 0 and row["account"] == 1 and row["status"] in ORDER_STATUSES
    assert row["created_ts"] <= row["updated_ts"]
    text = cli.ok("orders").stdout
    assert f"{out['order_id']} " in text and "2400.25" in text


def test_each_pre_trade_check_refuses_with_its_reason(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    too_big = cli.new("BTC-USD", "buy", "3", "--price", "59500")
    assert too_big["exit"] == 1 and too_big["reason"] == "MaxOrderQty"
    assert "MaxOrderQty" in too_big["stderr"] and "3" in too_big["text"]
    fat_finger = cli.new("BTC-USD", "buy", "0.01", "--price", "50000")
    assert fat_finger["exit"] == 1 and fat_finger["reason"] == "PriceBand"
    assert "from the mid" in fat_finger["text"]

    tighter = cli.ok("limits", "set", "max_order_notional", "100", "--symbol", "ETH-USD", "--reason", "e2e")
    assert "max_order_notional" in tighter.stdout
    notional = cli.new("ETH-USD", "buy", "0.5", "--price", "2400")  # 1200 USD
    assert notional["exit"] == 1 and notional["reason"] == "MaxOrderNotional"
    limits = {(r["name"], r["instrument"]): r for r in cli.ok("limits", "ls", "--json").json()}
    assert limits[("max_order_notional", "ETH-USD")]["value"] == "100"
    cli.ok("limits", "set", "max_order_notional", "1000000", "--symbol", "ETH-USD", "--reason", "e2e undo")
    assert cli.new("ETH-USD", "buy", "0.5", "--price", "2400")["exit"] == 0

    events = cli.risk()["events"]
    fired = {e["reason"] for e in events if e["type"] == "check-fired"}
    assert {"MaxOrderQty", "PriceBand", "MaxOrderNotional"} <= fired
    changed = [e for e in events if e["type"] == "limit-changed"]
    assert changed and changed[0]["text"].endswith(": e2e") and "(cli)" in changed[0]["by"]


def test_amounts_finer_than_the_instrument_are_usage_errors(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    before = len(cli.orders())
    cases = {
        ("BTC-USD", "buy", "0.01", "--price", "59500.005"): "finer than",
        ("BTC-USD", "buy", "0.0105", "--price", "59500"): "lot size",
        ("BTC-PERP", "buy", "1", "--price", "60000.2"): "tick size",
        ("NOPE-USD", "buy", "1", "--price", "1"): "unknown instrument",
        ("BTC-USD", "buy", "0.01", "--type", "limit"): "needs --price",
        ("BTC-USD", "buy", "0.01", "--type", "market", "--price", "1"): "no --price",
        ("BTC-USD", "buy", "0", "--price", "59500"): "positive",
    }
    for args, says in cases.items():
        run = cli("order", "new", *args)
        assert run.code == 2 and says in run.stderr, run
    assert cli("order", "new", "BTC-USD", "hold", "1").code == 2
    assert len(cli.orders()) == before  # nothing was sent


def test_replace_then_cancel(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    oid = cli.new("ETH-USD", "sell", "0.4", "--price", "3600")["order_id"]
    run = cli.ok("order", "replace", str(oid), "--qty", "0.6", "--price", "3650.5")
    assert f"order {oid} replaced" in run.stdout
    [row] = [o for o in cli.orders() if o["order_id"] == oid]
    assert (row["price"], row["qty"], row["status"]) == ("3650.5", "0.6", "new")
    bad = cli("order", "replace", str(oid), "--price", "100")  # 97 % off the mid
    assert bad.code == 1 and "PriceBand" in bad.stderr
    assert cli.ok("order", "cancel", str(oid)).stdout.strip() == f"order {oid} canceled"
    assert oid not in {o["order_id"] for o in cli.orders()}
    again = cli("order", "cancel", str(oid))
    assert again.code == 1 and "TooLateToCancel" in again.stderr
    assert cli("order", "replace", str(oid), "--qty", "1").code == 1  # not working any more


def test_cancel_all_by_instrument_then_everything(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    eth = [cli.new("ETH-USD", "buy", "0.1", "--price", p)["order_id"] for p in ("2300", "2310")]
    btc = cli.new("BTC-USD", "buy", "0.01", "--price", "59500")["order_id"]
    cli.ok("cancel-all", "--symbol", "ETH-USD")
    working = {o["order_id"] for o in cli.orders()}
    assert btc in working and not working & set(eth)
    cli.ok("cancel-all")
    assert cli.orders() == []


def test_fills_make_positions_with_exact_decimals(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    bought = cli.new("BTC-USD", "buy", "0.03", "--type", "market", "--tif", "ioc")
    assert bought["status"] == "filled" and bought["filled_qty"] == "0.03"
    cli.new("BTC-USD", "sell", "0.01", "--type", "market", "--tif", "ioc")
    data = cli.positions()
    assert set(data) == {"accounts", "strategies"}
    [acct] = [p for p in data["accounts"] if p["instrument"] == "BTC-USD"]
    [manual] = [p for p in data["strategies"] if p["instrument"] == "BTC-USD"]
    assert set(acct) == POSITION_KEYS and set(manual) == POSITION_KEYS | {"strategy"}
    assert acct["qty"] == "0.02" and manual["qty"] == "0.02" and manual["strategy"] == 0
    assert Decimal(acct["avg_price"]) > 0 and Decimal(acct["fees"]) > 0
    for key in ("realized_pnl", "unrealized_pnl", "fees", "avg_price"):
        assert "e" not in acct[key].lower()  # plain decimals, never exponent notation
    cli.new("BTC-USD", "sell", "0.02", "--type", "market", "--tif", "ioc")


def test_the_oms_heartbeat_counts_inputs_rejects_and_wal_writes(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    working = len(cli.orders())
    hb = desk.wait_for(lambda: desk.heartbeats().get("oms"), "an oms heartbeat")
    c = hb.counters
    assert c["oms.in.new_order"] >= 12 and c["oms.in.query"] > 0 and c["oms.in.reference"] > 0
    assert c["oms.rej.MaxOrderQty"] >= 1 and c["oms.rej.PriceBand"] >= 1
    assert c["oms.wal.appends"] > 0 and c["oms.wal.fsyncs"] == c["oms.wal.appends"]  # every-record
    assert c["oms.wal.errors"] == 0 and c["oms.working_orders"] == working
    assert hb.state == "Running"
