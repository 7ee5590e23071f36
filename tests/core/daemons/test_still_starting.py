"""DaemonHost.still_starting: a daemon in a long start (an oms replaying its WAL) publishes Starting
heartbeats with its progress, at most one per heartbeat interval, before its agents run."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from core.agent import SimulatedClock
from core.bus import BusClient, instance_dir, spawn_driver
from core.daemons.host import DaemonHost
from core.daemons.profile import load_profile
from core.supervisor.monitor import HeartbeatMonitor
from tests.desk import PROFILES, SAFETY_TIMEOUT_S


def test_a_long_start_publishes_starting_heartbeats_with_its_progress(tmp_path: Path) -> None:
    instance = f"test-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance, log_path=tmp_path / "driver.log")
    clients: list[BusClient] = []
    try:
        profile = load_profile(PROFILES / "oms_alone.toml")
        host = DaemonHost(instance, profile, profile.daemon("oms"))
        clients.append(host.bus)
        observer = BusClient(instance, role_name="test").connect()
        clients.append(observer)
        monitor = HeartbeatMonitor(observer)
        deadline = time.monotonic() + SAFETY_TIMEOUT_S
        done = 0
        while "oms" not in monitor.latest:
            assert time.monotonic() < deadline, "no Starting heartbeat arrived"
            done += 512
            host.still_starting({"oms.wal.replaying": done})  # connects the bus on first use
            monitor.poll()
            time.sleep(0.01)
        hb = monitor.latest["oms"]
        assert hb.state == "Starting" and 0 < hb.counters["oms.wal.replaying"] <= done
        # at most one per heartbeat interval, on the host's clock (held still here: a descheduled test
        # between two calls would otherwise make the second one due)
        clock = host.clock = SimulatedClock(max(host.heartbeat.next_due_ns, time.time_ns()))
        assert host.still_starting({"oms.wal.replaying": done}) is True  # due: sent
        sent = host.heartbeat.sent
        clock.advance(host.heartbeat.interval_ns - 1)
        assert host.still_starting({"oms.wal.replaying": done + 1}) is False
        assert host.heartbeat.sent == sent
        clock.advance(1)
        assert host.still_starting({"oms.wal.replaying": done + 2}) is True
        assert host.heartbeat.sent == sent + 1
    finally:
        for client in clients:
            client.close()
        driver.stop()
        shutil.rmtree(instance_dir(instance), ignore_errors=True)
