"""`aerodesk replay JOURNAL --into INSTANCE`: exit codes, usage errors, and a run into a real desk in a
separate process (`python -m cli.replay`), as an operator would start it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.replay import app
from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION
from core.journal import FsyncPolicy, JournalWriter
from tests.core.recorder.desk import REPO_ROOT, DeskFactory, desk_environment, execution_report, trade

runner = CliRunner()
T0 = 1_800_000_000_000_000_000


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """40 trades on market data 1 ms apart, and 5 execution reports on state."""
    path = tmp_path / "journal"
    with JournalWriter(
        path, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="t", fsync=FsyncPolicy.never()
    ) as w:
        for i in range(40):
            w.append(trade(i), stream_id=20, receive_time_ns=T0 + i * 1_000_000, session_id=5)
            if i % 8 == 0:
                w.append(execution_report(i), stream_id=60, receive_time_ns=T0 + i * 1_000_000, session_id=6)
    return path


@pytest.fixture
def desks(tmp_path: Path) -> Iterator[DeskFactory]:
    with desk_environment(tmp_path) as (factory, _data):
        yield factory


def test_a_desk_that_is_not_running_exits_3(journal):
    result = runner.invoke(app, [str(journal), "--into", "test-not-running-here"])
    assert result.exit_code == 3 and "desk test-not-running-here is not running" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --into INSTANCE"),
        (["--into", "x", "--speed", "2", "--max"], "--speed and --max exclude each other"),
        (["--into", "x", "--speed", "0"], "--speed must be > 0"),
        (["--into", "../etc"], "invalid desk instance name"),
        (["--into", "x", "--streams", ","], "names no stream"),
    ],
)
def test_usage_errors_exit_2(journal, args, message):
    result = runner.invoke(app, [str(journal), *args])
    assert result.exit_code == 2 and message in result.stderr


def test_verify_needs_the_oms_wal_and_takes_no_replay_options(journal, tmp_path):
    result = runner.invoke(app, [str(journal), "--verify"])
    assert result.exit_code == 1 and f"no WAL at {journal.parent / 'wal'}" in result.stderr
    (tmp_path / "wal").mkdir()
    result = runner.invoke(app, [str(journal), "--verify", "--wal", str(tmp_path / "wal")])
    assert result.exit_code == 1 and "no copy of the configuration it was written with" in result.stderr
    result = runner.invoke(app, [str(journal), "--verify", "--into", "x"])
    assert result.exit_code == 2 and "takes no --into" in result.stderr


def test_an_unknown_journal_exits_1(tmp_path):
    result = runner.invoke(app, [str(tmp_path / "none"), "--into", "x"])
    assert result.exit_code == 1 and "no journal at" in result.stderr


def _replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.replay", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_replay_into_a_running_desk_delivers_everything_and_reports_progress(desks, journal):
    desk = desks()
    got: list[bytes] = []
    md = desk.bus.subscriber("market_data", lambda b, _h: got.append(b.tobytes()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.replay", str(journal), "--into", desk.instance, "--max"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert desk.poll_until(lambda: len(got) == 40, [md])
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert got == [trade(i) for i in range(40)]
    assert "replay: 40/40 messages (100.0%)" in err and "replayed 40 of 40 message(s)" in err


def test_messages_nobody_received_make_it_exit_1(desks, journal):
    desk = desks()
    result = _replay(str(journal), "--into", desk.instance, "--streams", "state", "--connect-timeout", "0.2")
    assert result.returncode == 1
    assert "no subscriber on stream state" in result.stderr
    assert "5 message(s) on stream state not delivered: not_connected" in result.stderr
