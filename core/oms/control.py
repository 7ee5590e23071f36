"""Control commands and automatic protections: kill switch, cancel-all, limits, dead-man, daily loss.

Kill switch: an Engage latches it (RiskEvent KillEngaged with who and why), cancels every working
order at every venue and answers InProgress; when the last working order is gone the oms reports
RiskEvent AllOrdersCanceled, KillSwitchState with workingOrders 0, and ControlAck Done. While it is
engaged only IOC orders that reduce the account position are accepted; an order acked meanwhile is
cancelled at once; a cancel the venue refused is retried every cancel_retry_ms. Only a Release
(with a reason) clears it. The daily-loss breach engages it automatically (operator "oms").
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from core.codec.messages import AckStatus, ExecType, KillAction, OrdStatus, Reason, RiskEventType
from core.oms.ledger import ACCOUNT, STRATEGY
from core.oms.order_flow import NO_REASON
from core.oms.orders import Order
from core.oms.venue_reports import VenueReports
from core.risk.limits import DESK, SPECS, LimitError
from core.risk.operator import SYSTEM, Operator


class Controls(VenueReports):
    # -- kill switch -------------------------------------------------------------------------------
    def kill_command(self, m, operator: Operator) -> None:
        text = m.reason or ""
        if m.action == KillAction.Engage:
            self.engage_kill(text or "operator kill", operator, Reason.Operator, m.correlationId, m.clientId)
        elif m.action == KillAction.Release:
            if not text.strip():  # the audit trail says why, always
                self._ack(
                    m.correlationId,
                    m.clientId,
                    AckStatus.Refused,
                    Reason.Operator,
                    "a release needs a reason",
                )
                return
            self.release_kill(text, operator, m.correlationId, m.clientId)
        else:
            self._ack(
                m.correlationId, m.clientId, AckStatus.Refused, Reason.InvalidOrder, "unknown kill action"
            )

    def engage_kill(
        self, text: str, operator: Operator, reason: Reason, correlation_id: int = 0, client_id: int = 0
    ) -> None:
        if self.kill.engage(self.now, text, operator):
            self._risk_event(
                RiskEventType.KillEngaged, reason, value=self.working_count, operator=operator, text=text
            )
        self.kill_draining = True
        for order in self._working_orders():
            self._system_cancel(order, "kill switch")
        self._kill_state()
        if correlation_id or client_id:
            self._ack(
                correlation_id,
                client_id,
                AckStatus.InProgress if self.working_count else AckStatus.Done,
                reason,
                f"{self.working_count} working orders to cancel",
            )
            if self.working_count:
                self.kill.awaiting_done.append((correlation_id, client_id))
        self._drain_check()

    def release_kill(self, text: str, operator: Operator, correlation_id: int, client_id: int) -> None:
        if not self.kill.release(self.now, text, operator):
            self._ack(correlation_id, client_id, AckStatus.Done, NO_REASON, "kill switch was not engaged")
            return
        self._risk_event(RiskEventType.KillReleased, Reason.Operator, operator=operator, text=text)
        for corr, client in self.kill.awaiting_done:
            self._ack(
                corr, client, AckStatus.Refused, Reason.Operator, "released before every order was cancelled"
            )
        self.kill.awaiting_done.clear()
        self.kill_draining = False
        self._kill_state()
        self._ack(correlation_id, client_id, AckStatus.Done, NO_REASON, "kill switch released")

    def _drain_check(self) -> None:
        if self.kill_draining and self.kill.engaged and self.working_count == 0:
            self.kill_draining = False
            self._risk_event(RiskEventType.AllOrdersCanceled, Reason.KillSwitch, text="no working order left")
            self._kill_state()
            for corr, client in self.kill.awaiting_done:
                self._ack(
                    corr, client, AckStatus.Done, NO_REASON, "kill switch engaged, no working order left"
                )
            self.kill.awaiting_done.clear()

    def _cancel_retry(self, order_id: int) -> None:
        order = self.orders.get(order_id)
        if order is None or not order.working or order_id not in self.cancel_intent:
            return
        if order.status in (OrdStatus.New, OrdStatus.PartiallyFilled):
            self._send_cancel(order, self._system_cl_ord_id(), 0)
        elif order.status == OrdStatus.PendingCancel:
            self.counters["cancel_resends"] += 1  # the venue has not answered: ask again
            self._resend_cancel(order)
        # after the time being advanced to: a long quiet gap resends once, not once per interval
        self.timers.schedule(
            ("cancel_retry", order_id), max(self.now, self.advancing_to) + self._cancel_retry_ns()
        )

    # -- cancel-all --------------------------------------------------------------------------------
    def cancel_all_command(self, m, operator: Operator) -> None:
        orders = self._working_orders(strategy_id=m.strategyId, instrument_id=m.instrumentId)
        for order in orders:
            self._system_cancel(order, "cancel-all")
        ids = {o.order_id for o in orders if o.working}
        if not ids:
            self._ack(
                m.correlationId, m.clientId, AckStatus.Done, NO_REASON, f"{len(orders)} orders cancelled"
            )
            return
        self._ack(
            m.correlationId, m.clientId, AckStatus.InProgress, NO_REASON, f"cancelling {len(ids)} orders"
        )
        self.cancel_waits.append((m.correlationId, m.clientId, ids))

    def _cancel_waits_check(self) -> None:
        if not self.cancel_waits:
            return
        left = []
        for corr, client, ids in self.cancel_waits:
            ids = {i for i in ids if self.orders.get(i) is not None and self.orders[i].working}
            if ids:
                left.append((corr, client, ids))
            else:
                self._ack(corr, client, AckStatus.Done, NO_REASON, "every order cancelled")
        self.cancel_waits = left

    # -- limits ------------------------------------------------------------------------------------
    def set_limit_command(self, m, operator: Operator) -> None:
        name = (m.name or "").strip()
        sid, iid = m.strategyId, m.instrumentId
        value = Decimal(m.value.mantissa).scaleb(m.value.exponent)
        if iid and self.catalog.get(iid) is None:
            self._ack(
                m.correlationId,
                m.clientId,
                AckStatus.Refused,
                Reason.UnknownInstrument,
                f"no instrument with id {iid}",
            )
            return
        old_effective = self.limits.get(name, sid, iid) if name in SPECS else None
        try:
            self.limits.set(name, sid, iid, value)
        except LimitError as e:
            self._ack(m.correlationId, m.clientId, AckStatus.Refused, Reason.Other, str(e))
            return
        why = m.reason or ""
        old_text = "unset" if old_effective is None else str(old_effective)
        self._risk_event(
            RiskEventType.LimitChanged,
            Reason.Operator,
            strategy_id=sid,
            instrument_id=iid,
            correlation_id=m.correlationId,
            value=value,
            limit=old_effective,
            operator=operator,
            text=f"{name} (strategy {sid or 'any'}, instrument {iid or 'any'}): {old_text} -> {value}"
            + (f": {why}" if why else ""),
        )
        self._ack(m.correlationId, m.clientId, AckStatus.Done, NO_REASON, f"{name} = {value}")
        if name == "deadman_ms" and sid:
            self._heard_from(sid)
        self._pnl_changed()

    # -- dead-man ----------------------------------------------------------------------------------
    def heartbeat(self, strategy_id: int) -> None:
        if not strategy_id:
            return
        self.last_seen[strategy_id] = self.now
        self.dead.discard(strategy_id)
        ns = self._deadman_ns(strategy_id)
        if ns:
            self.timers.schedule(("deadman", strategy_id), self.now + ns)

    def deadman_watched(self) -> list[int]:
        """Strategies whose dead-man is armed and has not fired."""
        return sorted(s for s in self.last_seen if s not in self.dead and self._deadman_ns(s))

    def restart_grace(self, ts: int) -> None:
        """The oms (re)started at ts: each watched strategy gets one dead-man interval from then.

        A strategy could not be heard while the oms was down, so its last heartbeat before the stop says
        nothing of whether it is alive now. Without this, the replayed (stale) heartbeats fire the dead-man
        at the first tick and cancel the orders of strategies that are running. One found dead before the
        stop stays dead; one that stays silent is cancelled an interval after the start.
        """
        for strategy_id in self.deadman_watched():
            self.last_seen[strategy_id] = max(self.last_seen[strategy_id], ts)
            self.timers.schedule(("deadman", strategy_id), ts + self._deadman_ns(strategy_id))

    def _deadman_fired(self, strategy_id: int) -> None:
        ns = self._deadman_ns(strategy_id)
        last = self.last_seen.get(strategy_id)
        if not ns or last is None or strategy_id in self.dead:
            return
        if self.now - last < ns:
            self.timers.schedule(("deadman", strategy_id), last + ns)
            return
        self.dead.add(strategy_id)
        orders = self._working_orders(strategy_id=strategy_id)
        self._risk_event(
            RiskEventType.DeadManTriggered,
            Reason.DeadMan,
            strategy_id=strategy_id,
            value=(self.now - last) // 1_000_000,
            limit=ns // 1_000_000,
            text=f"no heartbeat from strategy {strategy_id} for {(self.now - last) // 1_000_000} ms: "
            f"cancelling {len(orders)} working orders",
        )
        for order in orders:
            self._system_cancel(order, "dead-man")

    # -- daily loss --------------------------------------------------------------------------------
    def _pnl_changed(self) -> None:
        limit = self.limits.get("daily_loss")
        daily = self.day.daily(self.ledger.desk_total)
        breached = limit is not None and daily < 0 and -daily >= limit
        if breached and not self.risk.loss_breached_desk:
            self.risk.loss_breached_desk = True
            self._risk_event(
                RiskEventType.CheckFired,
                Reason.DailyLoss,
                value=-daily,
                limit=limit,
                text="desk daily loss limit reached",
            )
            self.engage_kill(
                f"daily loss {_money(-daily)} reached the limit {limit}", SYSTEM, Reason.DailyLoss
            )
        elif not breached:
            self.risk.loss_breached_desk = False
        for sid, slimit in self._strategy_loss_limits():
            total = self.ledger.totals.get((STRATEGY, sid), Fraction(0))
            sdaily = self.day.owner_daily((STRATEGY, sid), total)
            hit = sdaily < 0 and -sdaily >= slimit
            if hit and sid not in self.risk.loss_breached:
                self.risk.loss_breached.add(sid)
                self._risk_event(
                    RiskEventType.CheckFired,
                    Reason.DailyLoss,
                    strategy_id=sid,
                    value=-sdaily,
                    limit=slimit,
                    text=f"strategy {sid} daily loss limit reached: reducing orders only",
                )
            elif not hit:
                self.risk.loss_breached.discard(sid)

    def _strategy_loss_limits(self) -> list[tuple[int, Decimal]]:
        if self._loss_limits_version != self.limits.version:
            self._loss_limits = [
                (sid, v)
                for (name, sid, iid), v in self.limits.items()
                if name == "daily_loss" and sid != DESK and iid == DESK
            ]
            self._loss_limits_version = self.limits.version
        return self._loss_limits

    def _roll_day(self) -> None:
        ledger = self.ledger
        result = self.day.roll(
            self.now, ledger.desk_total, ledger.realized_desk(ACCOUNT), dict(ledger.totals)
        )
        self._risk_event(
            RiskEventType.DailyLossRolled,
            NO_REASON,
            value=result.pnl,
            limit=self.limits.get("daily_loss"),
            text=f"day from {result.start_ts} to {result.end_ts}: PnL {_money(result.pnl)}, "
            f"realized {_money(result.realized)}",
        )
        self.timers.schedule(("roll",), self.day.next_roll)
        self._pnl_changed()

    def _lost_order(self, order: Order, why: str) -> None:
        """An order the venue does not know (reconciliation): it is over, nothing more can fill."""
        leaves, working = order.leaves, order.working
        order.status = OrdStatus.Canceled
        order.pending = None
        order.updated_ts = self.now
        self._er(order, ExecType.Canceled, reason=Reason.Other, text=why)
        self._sync(order, leaves, working)


def _money(value: Fraction) -> str:
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.2f}"
