"""The recorder daemon: journals every stream of the desk (core.recorder).

Part of every profile, first in start order and so last to stop: a desk stopped by `aerodesk down`
is recorded whole. Its heartbeat goes Degraded while the journal is not taking records.
"""

from __future__ import annotations

from core.agent.agent import Agent
from core.codec.messages import DaemonState
from core.daemons.host import DaemonHost
from core.daemons.profile import DaemonSpec
from core.recorder.agent import RecorderAgent
from core.recorder.config import parse_recorder_config


def build(host: DaemonHost, spec: DaemonSpec) -> list[Agent]:
    config = parse_recorder_config(spec.config)

    def on_health(degraded: bool) -> None:
        host.heartbeat.state = DaemonState.Degraded if degraded else DaemonState.Running

    return [
        RecorderAgent(host.bus, config, host.instance, host.clock, on_health=on_health, role_name=spec.name)
    ]
