"""Risk as the oms reports it: the latched kill switch, every limit with its use, recent risk events.

Kill-switch state comes from the oms only: KillSwitchState (on every change and periodically),
AccountState.killEngaged and RiskSnapshot replies. Until one of them arrives the state is *unknown*,
and the TUI says so rather than guess. Limits and their use come from RiskSnapshot replies to the Risk
query the TUI repeats every few seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.codec.messages import Reason, RiskEventType
from core.control.operator import describe
from tui.model.money import ZERO, dec


@dataclass(frozen=True, slots=True)
class LimitRow:
    name: str
    strategy_id: int  # 0: desk-wide
    instrument_id: int  # 0: every instrument
    value: Decimal
    used: Decimal

    @property
    def use_fraction(self) -> Decimal | None:
        """used / value, None for a zero limit (or one with no meaningful ratio)."""
        if self.value == 0:
            return None
        return abs(self.used) / abs(self.value)


@dataclass(frozen=True, slots=True)
class RiskEventRow:
    seq: int
    ts: int
    event: RiskEventType
    reason: Reason
    strategy_id: int
    instrument_id: int
    value: Decimal
    limit: Decimal
    operator: str
    text: str


@dataclass(frozen=True, slots=True)
class KillState:
    engaged: bool | None  # None: not heard from the oms yet
    reason: str
    changed_ts: int
    operator: str
    working_orders: int


class RiskState:
    def __init__(self, events_kept: int = 100) -> None:
        self.kill = KillState(None, "", 0, "", 0)
        self.limits: list[LimitRow] = []
        self.limits_ts = 0
        self.daily_pnl: Decimal = ZERO
        self.events: deque[RiskEventRow] = deque(maxlen=events_kept)
        self.version = 0

    def on_kill_switch_state(self, m: Any) -> None:
        self.kill = KillState(
            engaged=bool(m.engaged),
            reason=m.reason,
            changed_ts=m.changedTs,
            operator=describe(m.operator) if m.operator.pid else "",
            working_orders=m.workingOrders,
        )
        self.version += 1

    def on_account_kill_flag(self, engaged: bool) -> None:
        if self.kill.engaged is not engaged:
            k = self.kill
            self.kill = KillState(engaged, k.reason, k.changed_ts, k.operator, k.working_orders)
            self.version += 1

    def on_risk_snapshot(self, pages: list[Any]) -> None:
        """Every page of one Risk query reply."""
        if not pages:
            return
        first = pages[0]
        self.limits = [
            LimitRow(e.name, e.strategyId, e.instrumentId, dec(e.value), dec(e.used))
            for page in pages
            for e in page.limits
        ]
        self.limits_ts = first.ts
        self.daily_pnl = dec(first.dailyPnl)
        engaged = bool(first.killEngaged)
        k = self.kill
        reason = first.killReason if engaged else k.reason
        self.kill = KillState(engaged, reason, k.changed_ts, k.operator, k.working_orders)
        self.version += 1

    def on_risk_event(self, m: Any) -> None:
        self.events.appendleft(
            RiskEventRow(
                seq=m.seq,
                ts=m.ts,
                event=m.eventType,
                reason=m.reason,
                strategy_id=m.strategyId,
                instrument_id=m.instrumentId,
                value=dec(m.value),
                limit=dec(m.limit),
                operator=describe(m.operator) if m.operator.pid else "",
                text=m.text,
            )
        )
        if m.eventType == RiskEventType.KillEngaged:
            self.on_account_kill_flag(True)
        elif m.eventType == RiskEventType.KillReleased:
            self.on_account_kill_flag(False)
        self.version += 1
