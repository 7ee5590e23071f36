"""The supervisor with real processes: restarts after a crash, a freeze or a request; gives up on a
daemon that cannot run; cleans up after a failed start."""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path

from core.bus import instance_dir
from core.supervisor import control, ops, processes
from tests.desk import PROFILES, SAFETY_TIMEOUT_S, Desk, desk_fixture, running_desk

desk = desk_fixture(PROFILES / "md_exec.toml")


def _running_with_new_pid(desk: Desk, name: str, old_pid: int) -> dict | None:
    d = desk.daemon(name)
    return d if d["pid"] not in (0, old_pid) and d["state"] == "running" else None


def _healthy(desk: Desk) -> dict | None:
    code, status = desk.status()
    return status if code == 0 else None


def test_a_killed_daemon_is_restarted_and_status_shows_it(desk: Desk) -> None:
    old = desk.kill("md", signal.SIGKILL)
    d = desk.wait_for(lambda: _running_with_new_pid(desk, "md", old), "md to be restarted")
    assert d["restarts"] == 1
    assert d["last_exit"] == -signal.SIGKILL
    assert not processes.alive(old)
    status = desk.wait_for(lambda: _healthy(desk), "the desk to be healthy again")
    row = next(r for r in status["daemons"] if r["name"] == "md")
    assert row["pid"] == d["pid"] and row["restarts"] == 1 and row["heartbeat_state"] == "Running"
    assert "md: killed by SIGKILL" in desk.log("supervisor")


def test_a_frozen_daemon_is_unhealthy_then_killed_and_restarted(desk: Desk) -> None:
    old = desk.kill("exec-sim", signal.SIGSTOP)  # alive, but silent: SIGTERM cannot stop it either
    try:
        desk.wait_for(lambda: desk.status()[0] == ops.UNHEALTHY, "status to report the frozen daemon")
        d = desk.wait_for(lambda: _running_with_new_pid(desk, "exec-sim", old), "exec-sim to be replaced")
    finally:
        processes.signal_pid(old, signal.SIGCONT)
    assert d["last_exit"] == -signal.SIGKILL  # the supervisor had to escalate
    assert "silent" in d["error"]
    desk.wait_for(lambda: _healthy(desk), "the desk to be healthy again")


def test_restart_request_replaces_the_process(desk: Desk) -> None:
    old = desk.pid("md")
    before = desk.daemon("md")["restarts"]
    outcome = ops.restart("md", desk.instance)
    assert outcome.code == 0, outcome.message
    d = desk.daemon("md")
    assert outcome.data["pid"] == d["pid"] != old
    assert d["state"] == "running" and d["restarts"] == before + 1
    assert not processes.alive(old)
    unknown = ops.restart("no-such-daemon", desk.instance)
    assert unknown.code == ops.USAGE and "exec-sim, md" in unknown.message


def test_a_supervisor_that_did_not_run_does_not_count_that_time_as_the_daemons_silence(desk: Desk) -> None:
    """Suspended for longer than heartbeat_timeout_ms (a paused VM, a stopped job): the daemons beat on
    meanwhile, unheard. Waking, the supervisor must not restart them all as silent."""
    desk.wait_for(lambda: _healthy(desk), "a healthy desk")
    before = {name: (desk.pid(name), desk.daemon(name)["restarts"]) for name in ("md", "exec-sim")}
    supervisor = desk.runtime()["supervisor"]
    mark = len(desk.log("supervisor"))
    timeout_s = 3.0  # heartbeat_timeout_ms of tests/profiles/md_exec.toml
    assert processes.signal_pid(supervisor["pid"], signal.SIGSTOP, supervisor["start_ticks"])
    try:
        time.sleep(timeout_s + 1.5)
    finally:
        processes.signal_pid(supervisor["pid"], signal.SIGCONT, supervisor["start_ticks"])
    time.sleep(timeout_s + 1.0)  # a heartbeat timeout after waking: the daemons have been heard again
    assert {name: (desk.pid(name), desk.daemon(name)["restarts"]) for name in before} == before
    log = desk.log("supervisor")[mark:]
    assert "did not run for" in log and "silent for" not in log, log
    desk.wait_for(lambda: _healthy(desk), "the desk to be healthy")


def test_a_supervisor_starved_into_long_gaps_still_sees_a_daemon_that_hung(desk: Desk) -> None:
    """Nearly every loop a stall (stopped 0.8 s, let run 20 ms): had each gap been discounted whole, the
    frozen exec-sim would have been silent for heartbeat_timeout_ms (3 s) in the supervisor's eyes only
    after some 150 cycles, two minutes; now each gap counts STALL_S and it takes about 6."""
    desk.wait_for(lambda: _healthy(desk), "a healthy desk")
    supervisor = desk.runtime()["supervisor"]
    old = desk.kill("exec-sim", signal.SIGSTOP)
    deadline = time.monotonic() + 40.0  # a hang guard, and far short of the two minutes
    replaced = None
    try:
        while replaced is None and time.monotonic() < deadline:
            assert processes.signal_pid(supervisor["pid"], signal.SIGSTOP, supervisor["start_ticks"])
            try:
                time.sleep(0.8)
            finally:
                processes.signal_pid(supervisor["pid"], signal.SIGCONT, supervisor["start_ticks"])
            time.sleep(0.02)
            replaced = _running_with_new_pid(desk, "exec-sim", old)
    finally:
        processes.signal_pid(old, signal.SIGCONT)
    assert replaced is not None, desk.log("supervisor")[-2000:]
    assert "silent for" in replaced["error"]
    assert "did not run for" in desk.log("supervisor")  # the gaps were stalls, and said so
    desk.wait_for(lambda: _healthy(desk), "the desk to be healthy again")


def test_a_killed_media_driver_is_started_again_and_the_desk_recovers(desk: Desk) -> None:
    """The new driver first waits (driver_timeout_ms, 10 s) for the killed one's heartbeat to go stale;
    the supervisor goes on meanwhile: it answers, reports the driver as starting, holds a requested
    restart until the driver serves, and restarts nobody for the silence the missing driver causes."""
    desk.wait_for(lambda: _healthy(desk), "a healthy desk")
    mark = len(desk.log("supervisor"))
    exec_restarts = desk.daemon("exec-sim")["restarts"]
    old = desk.runtime()["driver"]
    assert old["state"] == "running"
    assert processes.signal_pid(old["pid"], signal.SIGKILL, old.get("start_ticks"))
    new = desk.wait_for(
        lambda: (d := (desk.runtime() or {}).get("driver")) and d["pid"] != old["pid"] and d,
        "a new media driver",
    )
    assert new["state"] == "starting" and new["start_ticks"] == processes.start_ticks(new["pid"]), new
    answer = control.request(Path(desk.runtime()["control_socket"]), {"cmd": "ping"}, 5.0)
    assert answer["ok"] and answer["state"] == "running"
    code, status = desk.status()
    assert code == ops.UNHEALTHY, status
    [problem] = status["problems"]  # the cause alone, not every daemon's silence it causes
    assert f"media driver is starting (pid {new['pid']})" in problem
    restarted: list[ops.Outcome] = []
    request = threading.Thread(target=lambda: restarted.append(ops.restart("md", desk.instance)))
    request.start()  # answered once md runs again, on the new driver
    try:
        desk.wait_for(lambda: "md: waits for the media driver" in desk.log("supervisor")[mark:], "md to wait")
        assert desk.runtime()["driver"]["state"] == "starting"  # all this while the driver was not serving
    finally:
        request.join(SAFETY_TIMEOUT_S)
    [outcome] = restarted
    assert outcome.code == ops.OK, outcome.message
    assert desk.runtime()["driver"]["state"] == "running"
    assert processes.alive(new["pid"]) and not processes.alive(old["pid"])
    desk.wait_for(lambda: _healthy(desk), "the desk to be healthy on the new driver")
    log = desk.log("supervisor")[mark:]
    assert f"media driver pid {old['pid']} exited" in log, log
    assert "silent for" not in log and desk.daemon("exec-sim")["restarts"] == exec_restarts, log
    # the loop never blocked on the driver: a loaded machine may show short gaps, never its ~10 s wait
    gaps = [float(g) for g in re.findall(r"did not run for ([0-9.]+) s", log)]
    assert all(g < 5.0 for g in gaps), log


def test_down_while_a_dead_driver_is_being_replaced_stops_everything(tmp_path: Path) -> None:
    """The replacement waits for the dead driver's heartbeat to go stale (10 s): a `down` meanwhile
    stops it too, and leaves no process, runtime file or driver directory behind."""
    with running_desk(PROFILES / "md_exec.toml", tmp_path) as desk:
        desk.wait_for(lambda: _healthy(desk), "a healthy desk")
        old = desk.runtime()["driver"]
        assert processes.signal_pid(old["pid"], signal.SIGKILL, old.get("start_ticks"))
        new = desk.wait_for(
            lambda: (d := (desk.runtime() or {}).get("driver")) and d["state"] == "starting" and d,
            "a replacement driver",
        )
        outcome = desk.down()
        assert outcome.code == ops.OK, outcome.message
        assert f"media driver pid {new['pid']} at" not in desk.log("supervisor"), "it served before the down"
        assert not processes.alive(new["pid"], new["start_ticks"])
        assert desk.leftover_processes() == []
        assert not instance_dir(desk.instance).exists()
        assert desk.status()[0] == ops.NOT_RUNNING


def test_a_daemon_that_crashes_at_once_fails_the_start_after_its_retry_budget(tmp_path: Path) -> None:
    with running_desk(PROFILES / "crash.toml", tmp_path, start=False) as desk:
        result = desk.up()
        assert result.returncode == 1, result.stderr
        assert "crasher did not start" in result.stderr
        assert "3 failures within 60 s: giving up" in result.stderr
        assert str(desk.log_path("crasher")) in result.stderr
        log = desk.log("crasher")
        assert log.count("aerodesk supervisor pid") == 3  # launched exactly max_restarts times
        assert "crashes on purpose" in log
        # the start failed: everything it started is stopped and cleaned
        assert desk.leftover_processes() == []
        assert not instance_dir(desk.instance).exists()
        assert desk.runtime() is None
        assert desk.status()[0] == ops.NOT_RUNNING


def test_a_configuration_error_fails_at_once_without_retries(tmp_path: Path) -> None:
    with running_desk(PROFILES / "bad_config.toml", tmp_path, start=False) as desk:
        result = desk.up()
        assert result.returncode == 1, result.stderr
        assert "replay did not start" in result.stderr
        assert "configuration error (exit code 2)" in result.stderr
        assert "no-such-lobster-file.zip" in result.stderr  # the daemon's own reason, from its log
        assert desk.log("replay").count("aerodesk supervisor pid") == 1
        assert desk.leftover_processes() == []
        assert not instance_dir(desk.instance).exists()


def test_a_daemon_without_a_first_heartbeat_fails_the_start_when_its_time_is_up(tmp_path: Path) -> None:
    with running_desk(PROFILES / "stuck.toml", tmp_path, start=False) as desk:
        result = desk.up()
        assert result.returncode == 1, result.stderr
        assert "stuck did not start: no heartbeat within startup_timeout_ms (4000 ms)" in result.stderr
        assert str(desk.log_path("stuck")) in result.stderr
        assert "stuck: no heartbeat within startup_timeout_ms" in desk.log("supervisor")
        assert desk.leftover_processes() == []
        assert not instance_dir(desk.instance).exists()


def test_down_stops_the_daemons_of_a_supervisor_killed_with_sigkill(desk: Desk) -> None:
    """Last in the module: it takes the shared desk down."""
    data = desk.runtime()
    assert data is not None
    sup = data["supervisor"]
    recorded = [(d["pid"], d["start_ticks"]) for d in data["daemons"]]
    assert processes.signal_pid(sup["pid"], signal.SIGKILL, sup["start_ticks"])
    assert processes.wait_gone(sup["pid"], sup["start_ticks"], 60), "the supervisor survived SIGKILL"
    code, status = desk.status()
    assert code == ops.UNHEALTHY and status["state"] == "orphaned", status
    assert all(processes.alive(pid, ticks) for pid, ticks in recorded)  # orphaned, not stopped
    outcome = desk.down()
    assert outcome.code == 0, outcome.message
    assert "stopped left-over" in outcome.message
    assert not any(processes.alive(pid, ticks) for pid, ticks in recorded)
    assert desk.leftover_processes() == []
    assert not instance_dir(desk.instance).exists()
    assert desk.runtime() is None
    assert desk.status()[0] == ops.NOT_RUNNING
