"""Where the engine's outputs go: the daemon implements OmsOutputs with bus publishers, tests and replay
with OutputCollector. Every payload is one encoded SBE message (header included), ready to offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.codec.messages import decode


class OmsOutputs(Protocol):
    def execution_report(self, payload: bytes) -> None:
        """ExecutionReport to strategies and clients (state stream; carries strategyId and clientId)."""

    def venue_order(self, venue_id: int, payload: bytes) -> None:
        """NewOrder / CancelOrder / ReplaceOrder (orderId set), or a reconciliation Query, to one venue."""

    def position_update(self, payload: bytes) -> None: ...

    def account_state(self, payload: bytes) -> None: ...

    def risk_event(self, payload: bytes) -> None: ...

    def kill_switch_state(self, payload: bytes) -> None: ...

    def control_ack(self, client_id: int, payload: bytes) -> None:
        """ControlAck to the client that sent the command (or manual order)."""

    def query_reply(self, client_id: int, payload: bytes) -> None:
        """OrdersSnapshot / PositionsSnapshot / RiskSnapshot pages, to the asking client only."""


@dataclass(frozen=True, slots=True)
class Output:
    kind: str  # the OmsOutputs method name
    target: int  # venue id for venue_order, client id for control_ack / query_reply, else 0
    payload: bytes

    def message(self):
        return decode(self.payload)


@dataclass
class OutputCollector:
    """Records every output in order; `messages(kind)` decodes them for assertions."""

    outputs: list[Output] = field(default_factory=list)

    def execution_report(self, payload: bytes) -> None:
        self.outputs.append(Output("execution_report", 0, payload))

    def venue_order(self, venue_id: int, payload: bytes) -> None:
        self.outputs.append(Output("venue_order", venue_id, payload))

    def position_update(self, payload: bytes) -> None:
        self.outputs.append(Output("position_update", 0, payload))

    def account_state(self, payload: bytes) -> None:
        self.outputs.append(Output("account_state", 0, payload))

    def risk_event(self, payload: bytes) -> None:
        self.outputs.append(Output("risk_event", 0, payload))

    def kill_switch_state(self, payload: bytes) -> None:
        self.outputs.append(Output("kill_switch_state", 0, payload))

    def control_ack(self, client_id: int, payload: bytes) -> None:
        self.outputs.append(Output("control_ack", client_id, payload))

    def query_reply(self, client_id: int, payload: bytes) -> None:
        self.outputs.append(Output("query_reply", client_id, payload))

    def messages(self, kind: str | None = None) -> list:
        return [o.message() for o in self.outputs if kind is None or o.kind == kind]

    def clear(self) -> None:
        self.outputs.clear()

    def __len__(self) -> int:
        return len(self.outputs)
