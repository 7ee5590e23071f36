"""The oms's state end to end: positions agree with what the simulated venue filled, flatten brings them
to zero, a kill -9 of the oms (quiet, or in the middle of a burst of orders) loses nothing once the
restarted oms has replayed its WAL and reconciled with the venue, and `replay --verify` reproduces,
byte for byte, what the oms published during the session."""

from __future__ import annotations

import signal
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.codec.messages import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    ExecType,
    ExecutionReport,
    OrdStatus,
    OrdType,
    Side,
    TimeInForce,
    decode,
)
from core.control.events import latest_recording
from core.control.session import control_session
from core.instruments import load_instruments
from core.journal import JournalReader, JournalWriter, wal_dir
from core.oms.verify import verify_journal
from tests.desk import PROFILES, Desk, desk_fixture
from tests.e2e.cli import DeskCli

desk = desk_fixture(PROFILES / "oms.toml")
CATALOG = load_instruments(PROFILES / "instruments.toml")
VENUE_REPORTS, STATE = 50, 60


def venue_fills(desk: Desk) -> tuple[dict[str, Decimal], int]:
    """Net quantity the venue filled per instrument (its Trade reports in the recording), and how many."""
    net: dict[str, Decimal] = defaultdict(Decimal)
    count = 0
    rec = latest_recording(desk.instance, desk.data_dir)
    assert rec is not None
    with JournalReader(rec, expected_schema_id=SCHEMA_ID) as reader:
        for r in reader.records(stream_ids=[VENUE_REPORTS], template_ids=[ExecutionReport.TEMPLATE_ID]):
            m = decode(r.payload)
            if m.execType != ExecType.Trade:
                continue
            inst = CATALOG.by_id(m.instrumentId)
            qty = inst.qty(m.lastQty)
            net[inst.symbol] += qty if m.side == Side.Buy else -qty
            count += 1
    return dict(net), count


def exec_fills(desk: Desk) -> int:
    hb = desk.wait_for(lambda: desk.heartbeats().get("exec-sim"), "an exec heartbeat")
    return hb.counters["exec-sim.fills"]


def recorded_venue_fills(desk: Desk) -> dict[str, Decimal]:
    """Once the recording holds every fill the venue reports having made."""

    def caught_up() -> tuple[dict[str, Decimal]] | None:
        net, count = venue_fills(desk)
        return (net,) if count == exec_fills(desk) else None

    return desk.wait_for(caught_up, "the recording to hold every venue fill")[0]


def account_positions(cli: DeskCli) -> dict[str, Decimal]:
    return {p["instrument"]: Decimal(p["qty"]) for p in cli.positions()["accounts"]}


def agree(oms: dict[str, Decimal], venue: dict[str, Decimal]) -> None:
    for symbol in set(oms) | set(venue):
        assert oms.get(symbol, Decimal(0)) == venue.get(symbol, Decimal(0)), (symbol, oms, venue)


def test_positions_agree_with_the_venues_fills(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    trades = [
        ("BTC-USD", "buy", "0.05"),
        ("ETH-USD", "sell", "0.3"),
        ("BTC-USD", "sell", "0.02"),
        ("ETH-USD", "buy", "0.1"),
        ("BTC-PERP", "buy", "7"),
    ]
    for symbol, side, qty in trades:
        out = cli.new(symbol, side, qty, "--type", "market", "--tif", "ioc")
        assert out["exit"] == 0 and out["status"] in ("filled", "expired", "canceled"), out
    oms = account_positions(cli)
    assert oms["BTC-USD"] != 0 and oms["ETH-USD"] != 0
    agree(oms, recorded_venue_fills(desk))


def test_flatten_brings_every_position_to_zero(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    run = cli("flatten", "--all", "--reason", "e2e flat", "--timeout", "60")
    assert run.code == 0, run
    assert "flat" in run.stdout and "left of" in run.stderr  # outcome on stdout, progress on stderr
    data = cli.positions()
    assert data["accounts"] and all(p["qty"] == "0" and p["avg_price"] is None for p in data["accounts"])
    assert all(p["qty"] == "0" for p in data["strategies"])
    agree(account_positions(cli), recorded_venue_fills(desk))
    types = [e["type"] for e in cli.risk()["events"]]
    assert "flatten-started" in types and "flatten-done" in types


def _state(cli: DeskCli) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], list]:
    moving = ("unrealized_pnl", "mark_price")  # follow the market, not the oms's state
    orders = sorted(cli.orders(), key=lambda o: o["order_id"])
    positions = {
        k: [{f: v for f, v in p.items() if f not in moving} for p in rows]
        for k, rows in cli.positions().items()
    }
    limits = cli.risk()["limits"]
    return orders, positions, [(r["name"], r["strategy"], r["instrument"], r["value"]) for r in limits]


def _restart_oms(desk: Desk, cli: DeskCli) -> None:
    old = desk.kill("oms", signal.SIGKILL)
    desk.wait_for(
        lambda: (d := desk.daemon("oms"))["pid"] not in (0, old) and d["state"] == "running",
        "the supervisor to restart the oms",
    )
    desk.wait_for(lambda: cli("orders", "--json", "--timeout", "2").code == 0, "the restarted oms to answer")


def test_kill_9_then_restart_restores_orders_positions_and_pnl(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    cli.new("BTC-USD", "buy", "0.04", "--type", "market", "--tif", "ioc")
    cli.new("ETH-USD", "sell", "0.2", "--type", "market", "--tif", "ioc")
    for price in ("2300", "2350.5"):
        assert cli.new("ETH-USD", "buy", "0.25", "--price", price)["status"] == "new"
    assert cli.new("BTC-USD", "sell", "0.01", "--price", "60800")["status"] == "new"
    cli.ok("limits", "set", "max_position", "15", "--symbol", "BTC-USD", "--reason", "e2e")
    before = _state(cli)
    assert len(before[0]) == 3 and any(Decimal(p["realized_pnl"]) != 0 for p in before[1]["accounts"])

    _restart_oms(desk, cli)
    after = _state(cli)
    assert after == before
    assert "replayed" in desk.log("oms")


def test_kill_9_in_a_burst_of_orders_loses_nothing_the_venue_did(desk: Desk) -> None:
    cli = DeskCli.of(desk)
    btc, eth = CATALOG.resolve("BTC-USD"), CATALOG.resolve("ETH-USD")
    with control_session(desk.instance, 10.0, tool="e2e-burst") as client:

        def send(i: int) -> int:
            inst = btc if i % 2 else eth
            return client.send_new_order(
                instrument_id=inst.id,
                side=Side.Buy if i % 3 else Side.Sell,
                qty=inst.lot_size * (10 if inst is btc else 50),
                price=None,
                ord_type=OrdType.Market,
                tif=TimeInForce.IOC,
            )

        first = [send(i) for i in range(15)]
        client.wait(first[9], lambda r: any(rep.ordStatus == OrdStatus.Filled for rep in r.reports), 60)
        for i in range(15, 30):  # the oms is trading these when it is killed
            send(i)
        old = desk.kill("oms", signal.SIGKILL)
        for i in range(30, 40):  # these wait in the stream for the next oms
            send(i)
    desk.wait_for(
        lambda: (d := desk.daemon("oms"))["pid"] not in (0, old) and d["state"] == "running",
        "the supervisor to restart the oms",
    )
    desk.wait_for(
        lambda: (hb := desk.heartbeats().get("oms")) and hb.counters.get("oms.reconciles", 0) >= 1,
        "the restarted oms to reconcile with the venue",
    )
    venue = recorded_venue_fills(desk)
    assert venue  # the venue did fill some of the burst
    desk.wait_for(lambda: _agrees(account_positions(cli), venue), "the oms to agree with the venue")
    assert all(o["type"] == "limit" for o in cli.orders())  # no market order left hanging


def test_a_restarted_venue_gateway_is_reconciled_at_once(desk: Desk) -> None:
    """The restarted exec daemon has lost its orders: the oms's query, sent when the gateway joins
    venue_reports, is heard at the first attempt (the gateway opens venue_reports only once it listens
    on venue_orders), so the orders end as unknown to the venue without waiting for a retry."""
    cli = DeskCli.of(desk)
    resting = cli.new("ETH-USD", "buy", "0.25", "--price", "2100")
    assert resting["status"] == "new", resting
    oms = desk.heartbeats()["oms"].counters
    reconciles, timeouts = oms.get("oms.reconciles", 0), oms.get("oms.reconcile_timeouts", 0)
    result = desk.cli("restart", "exec-sim")
    assert result.returncode == 0, result.stderr

    def ended() -> bool:
        return all(o["order_id"] != resting["order_id"] for o in cli.orders())  # working ones only

    desk.wait_for(ended, "the oms to end the order the restarted venue does not know")
    after = desk.wait_for(
        lambda: (hb := desk.heartbeats()["oms"].counters).get("oms.reconciles", 0) > reconciles and hb,
        "a heartbeat of the oms that counts the reconciliation",
    )
    assert after.get("oms.reconcile_timeouts", 0) == timeouts  # answered at the first attempt


def _agrees(oms: dict[str, Decimal], venue: dict[str, Decimal]) -> bool:
    return all(oms.get(s, Decimal(0)) == venue.get(s, Decimal(0)) for s in set(oms) | set(venue))


def test_replay_verify_reproduces_the_sessions_outputs(desk: Desk, tmp_path: Path) -> None:
    recording = latest_recording(desk.instance, desk.data_dir)
    assert recording is not None
    result = verify_journal(recording, wal_dir(desk.instance, desk.data_dir))
    assert result.ok, result.summary()
    assert result.compared["state"] > 100 and result.compared["venue_orders"] > 10
    assert result.oms_sessions >= 3  # the first oms and the two restarted by the kill -9s
    assert result.wal_records > 0

    # the same recording with one execution report changed must diverge exactly there
    tampered = tmp_path / "tampered"
    target = _copy_changing_one_report(recording, tampered)
    bad = verify_journal(tampered, wal_dir(desk.instance, desk.data_dir))
    assert not bad.ok and bad.divergence is not None, bad.summary()
    assert bad.divergence.stream == "state" and bad.divergence.index == bad.compared["state"]
    assert bad.divergence.recorded is not None and bad.divergence.replayed is not None
    assert f"'execId': {target}" in bad.divergence.replayed
    assert bad.divergence.recorded != bad.divergence.replayed


def _copy_changing_one_report(source: Path, target: Path) -> int:
    """Copy a journal record by record, the 20th ExecutionReport on the state stream with its seq one
    higher (any field would do); returns that report's execId."""
    seen = exec_id = 0
    writer = JournalWriter(target, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="tampered")
    with writer, JournalReader(source, expected_schema_id=SCHEMA_ID) as reader:
        for r in reader.records():
            payload = r.payload
            if r.stream_id == STATE and r.template_id == ExecutionReport.TEMPLATE_ID:
                seen += 1
                if seen == 20:
                    fields = decode(payload).to_dict()
                    exec_id = fields["execId"]
                    payload = ExecutionReport.encode_bytes(**{**fields, "seq": fields["seq"] + 1})
            writer.append(
                payload,
                stream_id=r.stream_id,
                receive_time_ns=r.receive_time_ns,
                session_id=r.session_id,
                position=r.position,
            )
    assert exec_id, "the recording has fewer than 20 execution reports"
    return exec_id
