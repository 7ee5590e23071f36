"""A blocking control session for command-line tools: connect to the desk, wait until the oms can be
reached, hand out the ControlClient, close everything after.

    with control_session("demo", timeout_s=5.0) as client:
        cid = client.send_kill("end of day")
        reply = client.wait_ack(cid, 5.0)

Raises DeskNotRunning (no media driver: nothing runs) or OmsNotAnswering (the driver runs, but no oms
takes requests within the timeout).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from core.bus.client import BusClient
from core.bus.config import BusConfig
from core.control.client import ControlClient


@contextmanager
def control_session(
    instance: str | None, timeout_s: float, *, tool: str = "cli", bus_config: BusConfig | None = None
) -> Iterator[ControlClient]:
    bus = BusClient(instance, config=bus_config, role_name=tool, client_name=f"aerodesk-{tool}-{os.getpid()}")
    try:
        bus.connect()
        client = ControlClient(bus, tool)
        client.wait_ready(timeout_s)
        yield client
    finally:
        bus.close()
