"""Driver loss and reconnection with real processes: driver, a publishing daemon, and this subscriber.

The test config sets driver_timeout_ms = 2000, so a lost driver is noticed in about 2 s and the
replacement driver starts once the old heartbeat is 2 s stale.
"""

from __future__ import annotations

import json
import signal

from core.bus import BusClient, MessageDispatcher
from core.codec import messages
from tests.core.bus.conftest import Processes
from tests.core.bus.helpers import poll_until


def test_traffic_resumes_after_the_driver_is_killed_and_restarted(procs: Processes, instance, channels_path):
    first = procs.driver(instance, channels_path)
    daemon = procs.python("-m", "tests.core.bus.procs", "stream", "--instance", instance,
                          "--stream", "heartbeats", "--interval-ms", "20")  # fmt: skip
    seqs: list[int] = []

    def on_heartbeat(heartbeat: messages.Heartbeat, header) -> None:
        assert heartbeat.role == "heartbeat-stream" and heartbeat.pid == daemon.pid
        seqs.append(heartbeat.seq)

    # Real Heartbeat messages, decoded by the generated codec.
    dispatcher = MessageDispatcher(messages.SCHEMA_ID, messages.SCHEMA_VERSION, decoder=messages.decode)
    dispatcher.on(messages.Heartbeat.TEMPLATE_ID, on_heartbeat)
    bus = BusClient(instance, reconnect_interval_ns=100_000_000).connect()
    try:
        sub = bus.subscriber("heartbeats", dispatcher)
        assert poll_until(lambda: len(seqs) >= 5, [bus], [sub])

        first.kill()
        assert poll_until(lambda: bus.counters.driver_lost == 1, [bus], [sub])
        assert not bus.is_connected
        assert "keepalive" in (bus.last_error or "")  # the error handler was told why
        received_before = len(seqs)
        last_before = seqs[-1]
        assert sub.poll() == 0  # detached: polls are idle, nothing raises

        procs.driver(instance, channels_path)
        assert poll_until(
            lambda: bus.counters.reconnects == 1 and len(seqs) > received_before + 5, [bus], [sub]
        )
        assert seqs[-1] > last_before
        assert seqs == sorted(seqs)  # one publisher session, in order; seqs sent during the outage are gaps

        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=30)
    finally:
        bus.close()
    assert daemon.returncode == 0  # it survived the loss and shut down cleanly
    assert sub.counters.bad_input() == 0
    report = json.loads(out.strip().splitlines()[-1])
    c = report["counters"]
    assert c["bus.driver_lost"] == 1 and c["bus.reconnects"] == 1
    # Every tick either went out or was counted as not sent: nothing vanished silently.
    assert c["heartbeats.sent"] + c["heartbeats.dropped"] == report["seq"]
    assert c["heartbeats.dropped_closed"] > 0


def test_a_client_without_a_duty_cycle_finds_a_replaced_driver(procs: Processes, instance, channels_path):
    """A daemon in a long start (an oms replaying its WAL) runs no duty cycle, only the occasional
    Starting heartbeat: ensure_connected() must notice the lost driver and reconnect to the new one."""
    bus = BusClient(instance, reconnect_interval_ns=100_000_000)
    try:
        assert bus.ensure_connected() is False  # no driver yet: no error, not connected
        first = procs.driver(instance, channels_path)
        assert bus.ensure_connected() is True and bus.counters.reconnects == 0  # first use: a connect
        first.kill()
        procs.driver(instance, channels_path)  # starts once the old heartbeat is stale (2 s)
        assert poll_until(lambda: bus.ensure_connected() and bus.counters.reconnects == 1, [], [])
        assert bus.counters.driver_lost == 1
    finally:
        bus.close()
