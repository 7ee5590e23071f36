"""`aerodesk up / down / status / restart` through the real CLI, on real desks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import desk as desk_cli
from core.bus import instance_dir
from core.supervisor import processes
from core.supervisor.runtime import recorded_processes
from tests.desk import CLI, PROFILES, REPO_ROOT, SAFETY_TIMEOUT_S, Desk, desk_fixture, new_instance

runner = CliRunner()
desk = desk_fixture(PROFILES / "md_exec.toml")


# -- without a desk -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["down"], ["restart", "md"]])
def test_commands_on_a_desk_that_is_not_running_exit_3(command: list[str]) -> None:
    result = runner.invoke(desk_cli.app, [*command, "--instance", new_instance()])
    assert result.exit_code == 3, result.output
    assert "not running" in result.output


def test_status_json_of_a_desk_that_is_not_running() -> None:
    name = new_instance()
    result = runner.invoke(desk_cli.app, ["status", "--json", "--instance", name])
    data = json.loads(result.stdout.splitlines()[0])
    assert data == {"instance": name, "healthy": False, "state": "not running"}


def test_the_instance_comes_from_the_environment() -> None:
    name = new_instance()
    result = runner.invoke(desk_cli.app, ["status"], env={"AERODESK_INSTANCE": name})
    assert result.exit_code == 3 and f"desk {name} is not running" in result.output


@pytest.mark.parametrize(
    ("profile", "says"),
    [
        ("no-such-profile", "no such profile: built-in profiles are demo"),
        ("/nonexistent/desk.toml", "file not found"),
        (str(PROFILES / "instruments.toml"), "desk: required table is missing"),
    ],
)
def test_up_with_a_bad_profile_is_a_usage_error(profile: str, says: str) -> None:
    name = new_instance()
    result = runner.invoke(desk_cli.app, ["up", "--profile", profile, "--instance", name, "--detach"])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert not instance_dir(name).exists()


def test_up_with_an_unknown_profile_key_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text('[desk]\nheartbeat_intervall_ms = 100\n[[daemon]]\nname = "md"\nkind = "md"\n')
    result = runner.invoke(desk_cli.app, ["up", "--profile", str(bad), "--instance", new_instance()])
    assert result.exit_code == 2
    assert f"{bad}: desk.heartbeat_intervall_ms: unknown key" in result.output


def test_invalid_instance_name_is_a_usage_error() -> None:
    result = runner.invoke(desk_cli.app, ["status", "--instance", "../etc"])
    assert result.exit_code == 2 and "invalid desk instance name" in result.output


# -- one desk for the module ----------------------------------------------------------------------
def test_status_prints_a_table_of_healthy_daemons(desk: Desk) -> None:
    result = desk.cli("status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"desk {desk.instance}: running, profile md_exec")
    assert lines[1].split() == ["DAEMON", "PID", "STATE", "HEARTBEAT", "RESTARTS", "COUNTERS"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"exec-sim", "md"}
    assert rows["md"][1] == str(desk.pid("md")) and rows["md"][2] == "running"
    assert "published=" in result.stdout
    assert "is healthy" in result.stderr


def test_status_json_has_every_daemon_with_pid_heartbeat_and_counters(desk: Desk) -> None:
    code, data = desk.status_cli()
    assert code == 0, data
    assert data["healthy"] is True and data["state"] == "running"
    assert data["profile"] == str(PROFILES / "md_exec.toml")
    assert [d["name"] for d in data["daemons"]] == ["exec-sim", "md"]
    for d in data["daemons"]:
        assert d["pid"] == desk.pid(d["name"]) and processes.alive(d["pid"])
        assert d["heartbeat_state"] == "Running" and 0 <= d["heartbeat_age_ms"] < 3000
        assert d["restarts"] == 0 and d["healthy"] is True
        assert d["counters"]["heartbeats.sent"] > 0
    assert data["driver"]["dir"] == str(instance_dir(desk.instance))


def test_up_again_is_idempotent(desk: Desk) -> None:
    before = desk.runtime()
    result = desk.up()
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stderr
    after = desk.runtime()
    assert after["supervisor"]["pid"] == before["supervisor"]["pid"]
    assert [d["pid"] for d in after["daemons"]] == [d["pid"] for d in before["daemons"]]


def test_up_with_another_profile_is_refused(desk: Desk) -> None:
    result = desk.cli("up", "--profile", str(PROFILES / "md_only.toml"), "--detach")
    assert result.returncode == 1
    assert "already running with profile md_exec" in result.stderr


def test_restart_replaces_one_daemon(desk: Desk) -> None:
    old_exec, old_md = desk.pid("exec-sim"), desk.pid("md")
    result = desk.cli("restart", "exec-sim")
    assert result.returncode == 0, result.stderr
    assert "exec-sim restarted" in result.stderr
    assert desk.pid("exec-sim") != old_exec and not processes.alive(old_exec)
    assert desk.pid("md") == old_md
    data = desk.wait_for(lambda: _healthy(desk), "a healthy desk")
    assert next(d for d in data["daemons"] if d["name"] == "exec-sim")["restarts"] == 1


def test_restart_of_an_unknown_daemon_is_a_usage_error(desk: Desk) -> None:
    result = desk.cli("restart", "oms")
    assert result.returncode == 2
    assert "no daemon 'oms' in this desk" in result.stderr


def test_down_leaves_no_process_and_no_shared_memory(desk: Desk) -> None:
    """Last of the module's desk tests: it takes the desk down."""
    data = desk.runtime()
    pids = [(p["pid"], p.get("start_ticks")) for p in [data["supervisor"], data["driver"], *data["daemons"]]]
    result = desk.cli("down")
    assert result.returncode == 0, result.stderr
    assert f"desk {desk.instance} stopped" in result.stderr
    assert "left-over" not in result.stderr  # the supervisor stopped everything itself
    assert not any(processes.alive(pid, ticks) for pid, ticks in pids)
    assert desk.leftover_processes() == []
    assert not instance_dir(desk.instance).exists()
    assert desk.runtime() is None
    assert desk.cli("status").returncode == 3
    again = desk.cli("down")
    assert again.returncode == 3 and "not running" in again.stderr


# -- the foreground desk ----------------------------------------------------------------------------
def test_up_in_the_foreground_runs_until_ctrl_c(tmp_path: Path) -> None:
    d = Desk(PROFILES / "md_only.toml", tmp_path)
    proc = subprocess.Popen(
        [*CLI, "up", "--profile", d.profile, "--instance", d.instance],
        cwd=REPO_ROOT,
        env=d.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _read_until(proc, "Ctrl-C stops it")
        assert any(f"desk {d.instance} is up: md (pid" in line for line in lines)
        assert d.status()[0] == 0
        pids = [p for _what, p, _t in _recorded(d)]
        proc.send_signal(signal.SIGINT)
        code = proc.wait(SAFETY_TIMEOUT_S)
        rest = proc.stderr.read() if proc.stderr else ""
        assert code == 0, rest
        assert f"desk {d.instance} stopped" in rest
        assert not any(processes.alive(pid) for pid in pids if pid != proc.pid)
        assert d.leftover_processes() == []
        assert not instance_dir(d.instance).exists()
        assert d.runtime() is None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        d.stop()


def _read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), True)
    lines: list[str] = []
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            pytest.fail(f"`aerodesk up` exited ({proc.wait()}) before saying {marker!r}:\n{''.join(lines)}")
        lines.append(line)
        if marker in line:
            return lines
    pytest.fail(f"`aerodesk up` did not say {marker!r}")


def _healthy(d: Desk) -> dict | None:
    code, data = d.status()
    return data if code == 0 else None


def _recorded(d: Desk) -> list[tuple[str, int, int | None]]:
    data = d.runtime()
    assert data is not None
    return recorded_processes(data)


def test_a_desk_started_with_stop_with_stops_when_its_owner_is_gone(tmp_path: Path) -> None:
    owner = subprocess.Popen(["sleep", "600"])
    d = Desk(PROFILES / "md_only.toml", tmp_path)
    try:
        result = d.cli("up", "--profile", d.profile, "--detach", "--stop-with", str(owner.pid))
        assert result.returncode == 0, result.stderr
        assert d.runtime()["stop_with"] == owner.pid
        owner.kill()
        owner.wait()
        d.wait_for(lambda: d.runtime() is None and not d.leftover_processes(), "the desk to stop by itself")
        assert "its owner, pid" in d.log("supervisor")
        assert not instance_dir(d.instance).exists()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        d.stop()


def test_stop_with_a_process_that_does_not_exist_is_a_usage_error() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    result = runner.invoke(
        desk_cli.app,
        [
            "up",
            "--profile",
            str(PROFILES / "md_only.toml"),
            "--instance",
            new_instance(),
            "--detach",
            "--stop-with",
            str(gone.pid),
        ],
    )
    assert result.exit_code == 2 and "no such process" in result.output
