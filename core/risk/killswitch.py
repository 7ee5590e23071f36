"""The latched kill switch: engaged by command or automatically, cleared only by an explicit release.

It survives restarts because every engage and release is an input in the oms WAL (a KillSwitch
command) or follows from one (the daily-loss breach), so replay latches it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.risk.operator import Operator


@dataclass
class KillSwitch:
    engaged: bool = False
    changed_ts: int = 0
    reason: str = ""
    operator: Operator = field(default_factory=Operator)
    engagements: int = 0
    # Kill commands whose ControlAck waits for the last working order to go: (correlationId, clientId).
    awaiting_done: list[tuple[int, int]] = field(default_factory=list)

    def engage(self, ts: int, reason: str, operator: Operator) -> bool:
        """Latch it; returns False (and changes nothing) when it already was engaged."""
        if self.engaged:
            return False
        self.engaged = True
        self.changed_ts = ts
        self.reason = reason
        self.operator = operator
        self.engagements += 1
        return True

    def release(self, ts: int, reason: str, operator: Operator) -> bool:
        if not self.engaged:
            return False
        self.engaged = False
        self.changed_ts = ts
        self.reason = reason
        self.operator = operator
        return True
