"""`aerodesk log ls|dump|stats|export` on a journal the recorder daemon wrote of a desk session (real
driver, real daemon, real SBE messages), and on damaged copies of it."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.log import app
from core.codec.messages import decode
from core.journal import JournalReader
from core.journal.paths import DATA_ENV
from tests.core.recorder.desk import desk_environment, execution_report, new_order, trade

runner = CliRunner()
ORDERS = 12
MD = 60
SKIPPED_SEQ = 30  # one market data sequence number never published: a gap of 1


@dataclass
class Session:
    data: Path
    instance: str
    journal: Path
    md: list[bytes]
    orders: list[bytes]
    records: int


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Session:
    """A desk session: trades, orders triggered by them, oms and venue acks, recorded by the daemon."""
    with desk_environment(tmp_path_factory.mktemp("log")) as (desks, data):
        desk = desks()
        recorder = desk.start_recorder()
        desk.wait_heartbeat("recorder", recorder.pid)
        pubs = {
            n: desk.publisher(n)
            for n in ("market_data", "order_requests", "venue_orders", "venue_reports", "state")
        }
        desk.wait_connected(list(pubs.values()))
        md, orders = [], []
        for i in range(MD + 1):
            if i == SKIPPED_SEQ:
                continue
            published = time.time_ns()
            payload = trade(i, publish_ts=published)
            desk.offer(pubs["market_data"], payload)
            md.append(payload)
            if i % 5 == 0 and len(orders) < ORDERS:
                n = len(orders)
                send = time.time_ns()
                order = new_order(n, send_ts=send, trigger_ts=published)
                desk.offer(pubs["order_requests"], order)
                orders.append(order)
                desk.offer(pubs["venue_orders"], new_order(n, send_ts=send, order_id=500 + n))
                desk.offer(pubs["state"], execution_report(n, ts=time.time_ns()))
                desk.offer(pubs["venue_reports"], execution_report(n, ts=time.time_ns(), order_id=500 + n))
        assert desk.stop(recorder) == 0
        [journal] = desk.journals(data)
        records = len(list(JournalReader(journal).records()))
        return Session(data, desk.instance, journal, md, orders, records)


def test_ls_lists_every_journal_with_its_path_first(session):
    result = runner.invoke(app, ["ls"], env={DATA_ENV: str(session.data)})
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert line.split("  ")[0] == str(session.journal)
    assert f"{session.records} msgs" in line and f"market_data={len(session.md)}" in line
    assert f"Trade={len(session.md)}" in line and f"NewOrder={2 * ORDERS}" in line

    as_json = runner.invoke(app, ["ls", str(session.data), "--instance", session.instance, "--json"])
    [entry] = json.loads(as_json.output)
    assert entry["path"] == str(session.journal) and entry["record_count"] == session.records
    assert entry["counts_by_stream"]["order_requests"] == ORDERS and entry["damaged"] is False
    other = runner.invoke(app, ["ls", str(session.data), "--instance", "test-nothing-here"])
    assert other.exit_code == 0 and other.stdout == ""


def test_dump_decodes_every_record_and_filters(session):
    result = runner.invoke(app, ["dump", str(session.journal)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == session.records

    trades = runner.invoke(app, ["dump", str(session.journal), "--stream", "market_data", "--json"])
    rows = [json.loads(line) for line in trades.stdout.splitlines()]
    assert all(r["stream"] == "market_data" and r["template"] == "Trade" for r in rows)
    assert [r["fields"] for r in rows] == [decode(p).to_dict() for p in session.md]
    times = [r["receive_time_ns"] for r in rows]
    assert times == sorted(times)

    orders = runner.invoke(
        app, ["dump", str(session.journal), "--template", "neworder", "--stream", "30", "--json"]
    )
    assert [json.loads(line)["fields"]["clOrdId"] for line in orders.stdout.splitlines()] == [
        decode(o).clOrdId for o in session.orders
    ]
    # a time window: from the 10th trade's receive time (inclusive) to the 20th's (exclusive)
    window = runner.invoke(
        app,
        [
            "dump",
            str(session.journal),
            "--stream",
            "market_data",
            "--from",
            str(times[10]),
            "--to",
            str(times[20]),
        ],
    )
    assert len(window.stdout.splitlines()) == sum(times[10] <= t < times[20] for t in times)
    text = window.stdout.splitlines()[0]
    assert "market_data(20)" in text and "Trade" in text and "aggressorSide=" in text


def test_dump_refuses_bad_filters_with_a_usage_error(session):
    bad = runner.invoke(app, ["dump", str(session.journal), "--stream", "no_such_stream"])
    assert bad.exit_code == 2 and "unknown stream 'no_such_stream'" in bad.output
    bad = runner.invoke(app, ["dump", str(session.journal), "--template", "Nope"])
    assert bad.exit_code == 2 and "unknown message type" in bad.output
    bad = runner.invoke(app, ["dump", str(session.journal), "--from", "yesterday"])
    assert bad.exit_code == 2 and "bad time" in bad.output
    missing = runner.invoke(app, ["dump", str(session.journal.parent / "nope")])
    assert missing.exit_code == 1 and "no journal at" in missing.output


def test_stats_reports_rates_gaps_and_stage_latencies(session):
    result = runner.invoke(app, ["stats", str(session.journal), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    rates = {r["name"]: r["count"] for r in stats["rates"]}
    assert rates["market_data"] == len(session.md) and rates["order_requests"] == ORDERS
    [gaps] = stats["seq_gaps"]
    assert (gaps["gaps"], gaps["missing"], gaps["messages"]) == (1, 1, len(session.md))
    latency = {s["stage"]: s for s in stats["latency"]}
    for stage in ("md -> order", "order -> oms ack", "order -> venue ack", "md -> venue ack"):
        assert latency[stage]["count"] == ORDERS, stage
        p = latency[stage]["percentiles_ns"]
        assert 0 < p["p50"] <= p["p99"] <= p["max"]
    assert stats["recorder_gaps"] == []
    text = runner.invoke(app, ["stats", str(session.journal)]).stdout
    assert "market data sequence gaps: 1 gap(s), 1 message(s) missing" in text and "md -> order" in text


def test_export_writes_one_parquet_table_per_message_type(session, tmp_path):
    out = tmp_path / "parquet"
    result = runner.invoke(app, ["export", str(session.journal), "--parquet", str(out)])
    assert result.exit_code == 0, result.output
    trades = pq.read_table(out / "Trade.parquet")
    assert trades.num_rows == len(session.md)
    assert trades.column("price").to_pylist() == [decode(p).price for p in session.md]
    assert set(trades.column("price_exponent").to_pylist()) == {
        -2
    }  # instrument 1 of configs/instruments.toml
    assert pq.read_table(out / "NewOrder.parquet").num_rows == 2 * ORDERS
    assert (out / "Heartbeat.counters.parquet").exists()
    only = runner.invoke(
        app, ["export", str(session.journal), "--parquet", str(tmp_path / "o"), "--template", "Trade"]
    )
    assert only.exit_code == 0 and sorted(p.name for p in (tmp_path / "o").iterdir()) == ["Trade.parquet"]


def _copy(session: Session, tmp_path: Path) -> tuple[Path, Path, list]:
    copy = tmp_path / "copy"
    shutil.copytree(session.journal, copy)
    [segment] = sorted(copy.glob("*.seg"))
    rows = JournalReader(copy).scan()
    return copy, segment, rows


def test_a_torn_tail_is_read_up_to_the_damage_and_exits_1(session, tmp_path):
    copy, segment, rows = _copy(session, tmp_path)
    for index in copy.glob("*.idx"):
        index.unlink()  # as a crash leaves it: the last segment was never sealed
    last = rows[-1]
    cut = int(last["offset"]) + 20  # inside the last record's frame header
    with open(segment, "r+b") as f:
        f.truncate(cut)
    for command in (["dump", str(copy)], ["stats", str(copy)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, command
        assert "torn-tail" in result.stderr and "read up to the damage" in result.stderr
    dumped = runner.invoke(app, ["dump", str(copy)]).stdout.splitlines()
    assert len(dumped) == len(rows) - 1


def test_a_corrupted_record_is_read_up_to_the_damage_and_exits_1(session, tmp_path):
    copy, segment, rows = _copy(session, tmp_path)
    victim = rows[len(rows) // 2]
    with open(segment, "r+b") as f:
        f.seek(int(victim["offset"]) + 48)  # a byte of the message's fixed block
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = runner.invoke(app, ["dump", str(copy), "--json"])
    assert result.exit_code == 1
    assert "corrupt" in result.stderr and f"at sequence {int(victim['sequence'])}" in result.stderr
    seqs = [json.loads(line)["seq"] for line in result.stdout.splitlines()]
    assert seqs == list(range(int(victim["sequence"])))  # everything before it, nothing after
    stats = runner.invoke(app, ["stats", str(copy)])
    assert stats.exit_code == 1 and "corrupt" in stats.stderr
    ls = runner.invoke(app, ["ls", str(copy)])
    assert ls.exit_code == 0 and "DAMAGED" in ls.stdout
