"""Who asked: the operator identity every control message and manual order carries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operator:
    user: str = ""
    host: str = ""
    pid: int = 0
    tool: str = ""

    def __str__(self) -> str:
        return f"{self.user or '?'}@{self.host or '?'} pid {self.pid} via {self.tool or '?'}"


SYSTEM = Operator(user="oms", tool="oms")  # automatic actions: daily-loss kill, dead-man, reconciliation
