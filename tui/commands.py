"""What the trader asks the oms to do, and what came of it. Plain data passed between the UI thread and
the bus worker (the worker sends every command with the ControlClient, as any other client would)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.codec.messages import OrdType, Side, TimeInForce


class ReadOnlyRefused(PermissionError):
    """A desk action asked of a read-only TUI."""

    def __init__(self, label: str) -> None:
        super().__init__(f"read-only session: {label} refused")
        self.label = label


@dataclass(frozen=True, slots=True)
class EngageKill:
    reason: str
    label: str = "engage kill switch"


@dataclass(frozen=True, slots=True)
class ReleaseKill:
    reason: str
    label: str = "release kill switch"


@dataclass(frozen=True, slots=True)
class Flatten:
    instrument_id: int  # 0: every instrument
    reason: str = ""
    label: str = "flatten"


@dataclass(frozen=True, slots=True)
class CancelAll:
    instrument_id: int = 0
    reason: str = ""
    label: str = "cancel all"


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: int
    instrument_id: int
    strategy_id: int = 0
    label: str = "cancel order"


@dataclass(frozen=True, slots=True)
class NewOrder:
    instrument_id: int
    side: Side
    qty: int  # mantissa
    price: int | None  # mantissa; None for a market order
    ord_type: OrdType
    tif: TimeInForce
    label: str = "new order"


@dataclass(frozen=True, slots=True)
class Query:
    """Internal: the worker's own snapshot queries (never from the UI)."""

    what: str
    label: str = "query"


Command = EngageKill | ReleaseKill | Flatten | CancelAll | CancelOrder | NewOrder


class Outcome(StrEnum):
    SENT = "sent"  # on the bus, no answer yet
    IN_PROGRESS = "in progress"  # the oms is working on it (e.g. cancelling before a kill completes)
    ACCEPTED = "accepted"
    DONE = "done"
    REFUSED = "refused"  # the oms said no (reason given)
    UNANSWERED = "unanswered"  # no answer within the action timeout
    FAILED = "failed"  # could not be sent (no oms, desk down) or refused locally

    @property
    def final(self) -> bool:
        return self not in (Outcome.SENT, Outcome.IN_PROGRESS)

    @property
    def severity(self) -> str:
        if self in (Outcome.REFUSED, Outcome.FAILED, Outcome.UNANSWERED):
            return "error"
        return "information"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    label: str
    outcome: Outcome
    text: str
    correlation_id: int = 0

    def describe(self) -> str:
        return f"{self.label}: {self.outcome.value}" + (f" — {self.text}" if self.text else "")
