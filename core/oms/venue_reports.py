"""ExecutionReports from venues: acks, fills, cancels, rejects, replaces, restatements.

Reports arrive duplicated and out of order; none is ever applied twice:
- a report whose execId was applied before for the same order at the same venue is dropped and counted
  (duplicate_reports). The order is part of the key: a venue gateway that restarts may number its
  executions from 1 again, and its new reports (for new orders) must not be taken for old ones;
- a fill before the ack moves PendingNew straight to PartiallyFilled / Filled; the ack that follows
  changes nothing (stale_acks);
- a cancel / expiry after the fill that completed the order changes nothing (late_reports), nor does
  a refused cancel or replace that the fill overtook;
- a fill after a cancel was acknowledged is still booked (it happened: late_fills), the status stays;
- a report for an order the oms does not know is counted and reported (RiskEvent, Reason.UnknownOrder),
  never booked; reconciliation restates such differences. Executions are remembered with their order
  (working, or among the last `finished_memory` finished ones): a late duplicate for an order already
  forgotten is an unknown-order report, still never booked;
- a report that would make a transition the state machine refuses is counted and reported
  (invalid_reports), and changes nothing.
"""

from __future__ import annotations

from fractions import Fraction

from core.codec.messages import ExecType, OrdStatus, OrdType, Reason, RiskEventType, TimeInForce
from core.oms.order_flow import NO_REASON, OrderFlow
from core.oms.orders import TERMINAL, InvalidTransition, Order

S = OrdStatus
_LIVE = (S.New, S.PartiallyFilled)


class VenueReports(OrderFlow):
    def venue_report(self, m) -> None:
        venue, exec_id, order_id = m.venueId, m.execId, m.orderId
        order = self.orders.get(order_id)
        if order is None:
            if exec_id:
                unknown = self.unknown_exec
                key3 = (venue, order_id, exec_id)
                if key3 in unknown:
                    self.counters["duplicate_reports"] += 1
                    return
                unknown[key3] = None
                if len(unknown) > self.finished_memory:
                    unknown.popitem(last=False)
            self._unknown_report(m)
            return
        if exec_id:
            seen = self.seen_exec.get(order_id)
            if seen is None:
                seen = self.seen_exec[order_id] = set()
            key = (venue, exec_id)
            if key in seen:
                self.counters["duplicate_reports"] += 1
                return
            seen.add(key)
        leaves, working = order.leaves, order.working
        et = m.execType
        try:
            if et == ExecType.Trade:
                self._fill(order, m)
            elif et == ExecType.New:
                self._acked(order, m)
            elif et in (ExecType.Canceled, ExecType.Expired):
                self._done(order, m, S.Canceled if et == ExecType.Canceled else S.Expired)
            elif et == ExecType.Rejected:
                self._rejected(order, m)
            elif et == ExecType.Replaced:
                self._replaced(order, m)
            elif et == ExecType.CancelRejected:
                self._cancel_rejected(order, m)
            elif et == ExecType.ReplaceRejected:
                self._replace_rejected(order, m)
            elif et == ExecType.Restated:
                self._restated(order, m)
            else:  # the venue's own pending states say nothing the oms does not know
                pass
        except InvalidTransition as e:
            self.counters["invalid_reports"] += 1
            self._risk_event(
                RiskEventType.CheckFired,
                Reason.Other,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                cl_ord_id=order.cl_ord_id,
                text=f"venue {venue} {et.name} report refused: {e}",
            )
        self._sync(order, leaves, working)

    def _unknown_report(self, m) -> None:
        self.counters["unknown_order_reports"] += 1
        self._risk_event(
            RiskEventType.CheckFired,
            Reason.UnknownOrder,
            strategy_id=m.strategyId,
            instrument_id=m.instrumentId,
            cl_ord_id=m.clOrdId,
            value=m.lastQty if m.execType == ExecType.Trade else None,
            text=f"venue {m.venueId} {m.execType.name} report for unknown order {m.orderId} "
            f"(venue order {m.venueOrderId!r}): not booked",
        )

    # -- acks --------------------------------------------------------------------------------------
    def _acked(self, order: Order, m) -> None:
        if m.venueOrderId:
            order.venue_order_id = m.venueOrderId
        first = not order.acked
        order.acked = True
        if order.status == S.PendingNew:
            order.move(S.New, self.now)
            self._er(order, ExecType.New, transact_ts=m.transactTs)
        elif order.status == S.PendingCancel and order.prior == S.PendingNew:
            order.prior = S.New
        else:
            self.counters["stale_acks"] += 1
            if not first:
                return
        # An order acked while the desk is killed, or its strategy is dead, is cancelled at once.
        if order.status in _LIVE and (self.kill.engaged or order.strategy_id in self.dead):
            self._system_cancel(
                order, "acked while killed" if self.kill.engaged else "strategy heartbeat lost"
            )

    # -- fills -------------------------------------------------------------------------------------
    def _fill(self, order: Order, m) -> None:
        qty, px = m.lastQty, m.lastPx
        if (
            qty is None
            or qty <= 0
            or px is None
            or (px <= 0 and self.ledger.scales[order.instrument_id].inverse)
        ):
            raise InvalidTransition(order, order.status)
        signed = qty if order.is_buy else -qty
        order.cum_qty += qty
        order.fill_value += Fraction(px) * qty
        fee = self._fee(order, m, px, qty)
        keys = self.ledger.fill(order.strategy_id, order.account_id, order.instrument_id, signed, px, fee)
        self.exposure.add_fill(order.strategy_id, order.account_id, order.instrument_id, signed)
        if order.instrument_id not in self.risk.mid2:
            self.exposure.set_mark(order.instrument_id, 2 * px)  # no mid yet: value exposure at the last fill
        if order.cum_qty > order.qty:
            self.counters["overfills"] += 1
            self._risk_event(
                RiskEventType.CheckFired,
                Reason.Other,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                cl_ord_id=order.cl_ord_id,
                value=order.cum_qty,
                limit=order.qty,
                text="venue filled more than the order quantity",
            )
        if order.status in TERMINAL:
            self.counters["late_fills"] += 1  # booked; the order stays as it ended
        elif order.cum_qty >= order.qty:
            order.move(S.Filled, self.now)
        elif order.status in (S.PendingCancel, S.PendingReplace):
            if order.prior in (S.PendingNew, S.New):
                order.prior = S.PartiallyFilled
            order.move(order.status, self.now)
        else:
            order.move(S.PartiallyFilled, self.now)
        order.acked = order.acked or order.status != S.PendingNew
        self._er(order, ExecType.Trade, last_px=px, last_qty=qty, fee=fee, transact_ts=m.transactTs)
        for key in keys:
            self._position_update(key)
        self._pnl_changed()
        self._flatten_fill(order)

    def _fee(self, order: Order, m, px: int, qty: int) -> Fraction:
        """The report's fee when it carries one; else the venue's bps: maker when the order rested (acked,
        a limit order that is not IOC/FOK), taker otherwise."""
        if m.fee is not None and m.fee.mantissa:
            return Fraction(m.fee.mantissa) * Fraction(10) ** m.fee.exponent
        maker = (
            order.acked
            and order.ord_type == OrdType.Limit
            and order.tif not in (TimeInForce.IOC, TimeInForce.FOK)
        )
        bps = self.fees.bps(order.venue_id, maker)
        if not bps:
            return Fraction(0)
        return abs(self.ledger.scales[order.instrument_id].value(qty, px)) * bps / 10_000

    # -- endings -----------------------------------------------------------------------------------
    def _done(self, order: Order, m, status: OrdStatus) -> None:
        if order.status in TERMINAL:
            self.counters["late_reports"] += 1
            return
        order.move(status, self.now)
        order.pending = None
        self._er(
            order,
            ExecType.Canceled if status == S.Canceled else ExecType.Expired,
            reason=m.reason or NO_REASON,
            transact_ts=m.transactTs,
            text=m.text or "",
        )
        self._flatten_order_done(order)

    def _rejected(self, order: Order, m) -> None:
        if order.status in TERMINAL:
            self.counters["late_reports"] += 1
            return
        if not (
            order.status == S.PendingNew or (order.status == S.PendingCancel and order.prior == S.PendingNew)
        ):
            raise InvalidTransition(order, S.Rejected)
        order.status = S.PendingNew  # a reject answers the new order; a cancel pending on it is moot
        order.move(S.Rejected, self.now)
        self._er(
            order,
            ExecType.Rejected,
            reason=m.reason or Reason.VenueReject,
            transact_ts=m.transactTs,
            text=m.text or "",
        )
        self._flatten_order_done(order)

    # -- replaces ----------------------------------------------------------------------------------
    def _replaced(self, order: Order, m) -> None:
        if order.status != S.PendingReplace or order.pending is None:
            raise InvalidTransition(order, S.Replaced)
        cl_ord_id, corr, price, qty = order.pending
        old_cl = order.cl_ord_id
        order.move(S.Replaced, self.now)
        # the new terms first: the Replaced report states the order as it now stands (price, qty, leaves)
        order.cl_ord_id, order.correlation_id, order.price, order.qty = cl_ord_id, corr, price, qty
        order.pending = None
        self._er(order, ExecType.Replaced, orig_cl_ord_id=old_cl, transact_ts=m.transactTs)
        order.move(order.fill_status() if order.cum_qty else S.New, self.now)
        if self.kill.engaged and order.working:
            self._system_cancel(order, "replaced while killed")

    def _replace_rejected(self, order: Order, m) -> None:
        if order.status in TERMINAL:
            self.counters["late_reports"] += 1  # a fill completed it while the replace was pending
            order.pending = None
            return
        if order.status != S.PendingReplace:
            raise InvalidTransition(order, order.prior)
        cl_ord_id, corr, _, _ = order.pending or (0, order.correlation_id, None, 0)
        order.move(order.prior, self.now)
        order.pending = None
        self._er(
            order,
            ExecType.ReplaceRejected,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
            correlation_id=corr,
            reason=m.reason or Reason.VenueReject,
            text=m.text or "",
        )
        if self.kill.engaged and order.working:
            self._system_cancel(order, "replace refused while killed")

    def _cancel_rejected(self, order: Order, m) -> None:
        if order.status in TERMINAL:
            self.counters["late_reports"] += 1  # the fill won the race; nothing to restore
            return
        if order.status != S.PendingCancel:
            raise InvalidTransition(order, order.prior)
        order.move(order.prior, self.now)
        self._er(order, ExecType.CancelRejected, reason=m.reason or Reason.VenueReject, text=m.text or "")
        # Still killed (or dead): try again shortly; an order not yet acked is cancelled on its ack.
        if order.status in _LIVE and (self.kill.engaged or order.strategy_id in self.dead):
            self.timers.schedule(("cancel_retry", order.order_id), self.now + self._cancel_retry_ns())

    # -- restatements (reconciliation) -------------------------------------------------------------
    def _restated(self, order: Order, m) -> None:
        """The venue's statement of an order wins: book fills it knows and we missed, take its status."""
        self._reconciled_orders.add(order.order_id)
        missing = (m.cumQty or 0) - order.cum_qty
        if missing > 0:
            inst = self.catalog.by_id(order.instrument_id)
            venue_value = (
                Fraction(m.avgPx.mantissa)
                * Fraction(10) ** m.avgPx.exponent
                / Fraction(10) ** inst.price_exponent
                * m.cumQty
            )
            px = (venue_value - order.fill_value) / missing
            signed = missing if order.is_buy else -missing
            order.cum_qty += missing
            order.fill_value = venue_value
            keys = self.ledger.fill(
                order.strategy_id, order.account_id, order.instrument_id, signed, px, Fraction(0)
            )
            self.exposure.add_fill(order.strategy_id, order.account_id, order.instrument_id, signed)
            for key in keys:
                self._position_update(key)
            self._pnl_changed()
            self._reconcile_fixes += 1
        elif missing < 0:
            self._risk_event(
                RiskEventType.Reconciled,
                Reason.Other,
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                cl_ord_id=order.cl_ord_id,
                value=m.cumQty,
                limit=order.cum_qty,
                text="venue reports less filled than booked: left as booked",
            )
        status = m.ordStatus
        known = status is not None and not status.is_unknown and status != order.status
        if known and (status in TERMINAL or status in _LIVE or status == S.PendingNew):
            order.status = status  # the venue's word, without the state machine's guard
            order.updated_ts = self.now
            if status in TERMINAL:
                order.pending = None
            self._reconcile_fixes += 1
        self._er(order, ExecType.Restated, transact_ts=m.transactTs, text="restated by the venue")
