"""A HostOutputs that records every output in order (tests, tools); `messages(kind)` decodes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.codec.messages import decode


@dataclass(frozen=True, slots=True)
class HostOutput:
    kind: str  # "order_request" or "heartbeat"
    strategy_id: int
    payload: bytes

    def message(self):
        return decode(self.payload)


@dataclass
class RequestCollector:
    outputs: list[HostOutput] = field(default_factory=list)

    def order_request(self, strategy_id: int, payload: bytes) -> None:
        self.outputs.append(HostOutput("order_request", strategy_id, payload))

    def heartbeat(self, strategy_id: int, payload: bytes) -> None:
        self.outputs.append(HostOutput("heartbeat", strategy_id, payload))

    def messages(self, kind: str | None = None, strategy_id: int = 0) -> list:
        return [
            o.message()
            for o in self.outputs
            if (kind is None or o.kind == kind) and (not strategy_id or o.strategy_id == strategy_id)
        ]

    def requests(self, strategy_id: int = 0) -> list:
        return self.messages("order_request", strategy_id)

    def heartbeats(self, strategy_id: int = 0) -> list:
        return self.messages("heartbeat", strategy_id)

    def clear(self) -> None:
        self.outputs.clear()

    def __len__(self) -> int:
        return len(self.outputs)
