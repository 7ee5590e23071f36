"""`aerodesk tui --journal`: a path that is not a journal, or arguments that do not fit a replay, are
clear errors naming the path, before any screen is drawn (2: usage, 1: a journal that cannot be read)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.exit_codes import ExitCode
from cli.tui import tui
from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION, Heartbeat
from core.journal import JournalWriter
from tui.replay_source import NotAJournalError, open_journal, resolve_journal_path

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 120.0  # a guard against hangs on a loaded machine, never a performance limit
app = typer.Typer()
app.command()(tui)
runner = CliRunner()


def a_journal(path: Path, schema_id: int = SCHEMA_ID, records: int = 3) -> Path:
    """A real journal written by the journal writer (heartbeats, as the recorder journals them)."""
    writer = JournalWriter(path, schema_id=schema_id, schema_version=SCHEMA_VERSION, instance="cli-test")
    for i in range(records):
        payload = Heartbeat.encode_bytes(
            ts=1_000 + i,
            role="md",
            pid=1,
            state=1,
            seq=i,
            startedTs=1,
            strategyId=0,
            counters=[],
            instance="cli-test",
        )
        writer.append(
            payload, stream_id=70, receive_time_ns=1_000_000_000 * (i + 1), session_id=1, position=0
        )
    writer.close()
    return path


def test_a_missing_path_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["--journal", str(missing)])
    assert result.exit_code == ExitCode.USAGE
    assert str(missing) in result.output and "no such file or directory" in result.output


def test_a_file_or_directory_that_is_not_a_journal_exits_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = runner.invoke(app, ["--journal", str(text)])
    assert result.exit_code == ExitCode.USAGE and str(text) in result.output
    assert "aerodesk log ls" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["--journal", str(empty)])
    assert result.exit_code == ExitCode.USAGE and str(empty) in result.output
    assert "no segment files" in result.output


def test_an_unreadable_journal_exits_1_naming_it(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "00000000.seg").write_bytes(b"not a segment header " * 20)
    result = runner.invoke(app, ["--journal", str(garbage)])
    assert result.exit_code == ExitCode.FAILURE
    assert str(garbage) in result.output and "bad magic" in result.output
    foreign = a_journal(tmp_path / "foreign", schema_id=SCHEMA_ID + 1)
    result = runner.invoke(app, ["--journal", str(foreign)])
    assert result.exit_code == ExitCode.FAILURE
    assert str(foreign) in result.output and "schema id" in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--wait"], "cannot be used with --journal"),
        (["--speed", "0"], "from 0.25 to 64"),
        (["--speed", "100"], "from 0.25 to 64"),
        (["--speed", "fast"], "a number from 0.25 to 64, or max"),
        (["--theme", "pink"], "dark or light"),
    ],
)
def test_arguments_that_do_not_fit_a_replay_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    journal = a_journal(tmp_path / "j")
    result = runner.invoke(app, ["--journal", str(journal), *args])
    assert result.exit_code == ExitCode.USAGE and said in result.output


def test_replay_options_without_a_journal_exit_2() -> None:
    for args in (["--paused"], ["--speed", "4"]):
        result = runner.invoke(app, ["--instance", "x", "--wait", *args])
        assert result.exit_code == ExitCode.USAGE and "--journal" in result.output


def test_a_segment_file_opens_its_journal(tmp_path: Path) -> None:
    journal = a_journal(tmp_path / "j")
    segment = journal / "00000000.seg"
    assert resolve_journal_path(segment) == journal
    source = open_journal(segment)
    assert source.path == journal and source.total == 3 and source.instance == "cli-test"
    assert (source.first_ns, source.last_ns) == (1_000_000_000, 3_000_000_000)
    index = journal / "00000000.idx"
    with pytest.raises(NotAJournalError, match="not a journal"):
        resolve_journal_path(index)


def test_an_empty_journal_opens_and_replays_nothing(tmp_path: Path) -> None:
    from core.instruments import load_instruments
    from tui.replay_engine import ReplayEngine

    journal = a_journal(tmp_path / "empty", records=0)
    source = open_journal(journal)
    assert source.total == 0 and source.damage_text() == ""
    engine = ReplayEngine(source, load_instruments(), mono_ns=0)
    assert engine.advance(10**9) == 0 and engine.ended
    view = engine.view(10**9)
    assert view.books == {} and view.fills == () and engine.status(10**9).position == 0


def test_aerodesk_tui_journal_in_a_real_terminal_opens_paused_and_quits(tmp_path: Path) -> None:
    """The whole command in tmux: the replay bar is on screen, space plays to the end, q quits with 0."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    journal = a_journal(tmp_path / "demo" / "20260101T000000.000000Z", records=5)
    socket = f"aerodesk-test-journal-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color"}
    command = f"{shlex.quote(sys.executable)} -m cli tui --journal {shlex.quote(str(journal))} --paused"
    shell = f"cd {shlex.quote(str(REPO))} && {command}; echo TUI-EXIT=$?; sleep 600"

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], env=env, capture_output=True, text=True, timeout=30
        ).stdout

    def wait(what: str) -> str:
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            text = tmux("capture-pane", "-p", "-J")
            if what in text:
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what!r}; the terminal shows:\n{text}")
            time.sleep(0.2)

    tmux("new-session", "-d", "-x", "100", "-y", "30", shell)
    try:
        # (what is asserted fits 80 columns: a tmux server started from a test worker may ignore -x/-y)
        text = wait("rec 1/5 (20%)")
        assert "REPLAY 1x" in text and "PAUSED" in text and "00:00:01.000 UTC" in text
        assert "READ-ONLY" in text and "space Play" in text
        tmux("send-keys", "End")
        text = wait("END")
        assert "rec 5/5 (100%)" in text
        tmux("send-keys", "q")
        wait("TUI-EXIT=0")
    finally:
        tmux("kill-server")
