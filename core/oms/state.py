"""The oms engine's state and the helpers every part of it uses to change it and to report.

The engine (engine.py) is this state plus the handlers of order_flow.py, venue_reports.py,
control.py, flatten.py and queries.py. Only the engine writes it; nothing in here reads a clock: `now`
is the time of the input being applied.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from fractions import Fraction

from core.codec.messages import ExecType, OrdStatus, Reason, RiskEventType
from core.instruments import InstrumentCatalog
from core.oms import wire
from core.oms.daily import TradingDay
from core.oms.fees import FeeSchedule
from core.oms.ledger import Ledger
from core.oms.orders import Order
from core.oms.outputs import OmsOutputs
from core.oms.timers import TimerQueue
from core.risk.checks import PreTradeRisk
from core.risk.config import RiskConfig
from core.risk.exposure import ExposureBook
from core.risk.killswitch import KillSwitch
from core.risk.operator import SYSTEM, Operator

# clOrdIds the oms generates itself (system cancels, flatten orders) have the top bit set; clients keep
# to the lower 63 bits, so the two never collide.
SYSTEM_CL_ORD_ID = 1 << 63
NO_REASON = Reason(0)
ZERO64 = wire.dec64(0)


def inst_unit(inst) -> Fraction:
    """The value of one price mantissa step (10^price_exponent), exact."""
    return Fraction(10) ** inst.price_exponent


class EngineState:
    def __init__(
        self,
        catalog: InstrumentCatalog,
        config: RiskConfig,
        outputs: OmsOutputs,
        fees: FeeSchedule | None = None,
        venue_ids: dict[str, int] | None = None,
        finished_memory: int = 100_000,
    ) -> None:
        self.catalog = catalog
        self.config = config
        self.limits = config.limits.copy()  # SetLimit changes this engine's copy only
        self.out = outputs
        self.fees = fees or FeeSchedule()
        self.venue_ids = dict(venue_ids or {})
        self.finished_memory = finished_memory

        self.now = 0
        self.advancing_to = 0  # the time of the input being applied (deadlines fire before it, at their own)
        self.started = False
        self.next_order_id = 1
        self.next_exec_id = 1
        self.seq = 0  # sequence of every state output (PositionUpdate, AccountState, RiskEvent, ER)
        self.next_system_id = 1

        self.orders: dict[int, Order] = {}  # working orders and the last `finished_memory` finished ones
        self.working: dict[int, Order] = {}  # working orders by orderId, oldest first
        self.finished: OrderedDict[int, None] = OrderedDict()
        # Request ids and applied executions are remembered as long as their order is (working, or among
        # the last `finished_memory` finished ones), so a long session's memory stays bounded.
        self.cl_ord_ids: dict[tuple[int, int], int] = {}  # (strategy, clOrdId) -> orderId (0: refused)
        self._cl_ord_keys: dict[int, list[tuple[int, int]]] = {}  # orderId -> its keys in cl_ord_ids
        self._refused_ids: OrderedDict[tuple[int, int], None] = OrderedDict()  # the last refused ones
        self.working_count = 0
        self.seen_exec: dict[int, set[tuple[int, int]]] = {}  # orderId -> (venueId, execId) applied
        # (venueId, orderId, execId) of reports for orders the oms does not know, the last ones
        self.unknown_exec: OrderedDict[tuple[int, int, int], None] = OrderedDict()

        self.exposure = ExposureBook(config, catalog)
        self.kill = KillSwitch()
        self.risk = PreTradeRisk(config, self.limits, catalog, self.exposure, self.kill)
        self.ledger = Ledger(catalog, config)
        self.day = TradingDay(config.daily_roll_ns)
        self.timers = TimerQueue()

        self.kill_draining = False  # engaged and waiting for the last working order to go
        self.last_seen: dict[int, int] = {}  # strategy -> time of its last heartbeat
        self._deadman_off: set[int] = set()  # strategies without a dead-man limit (cache)
        self._deadman_version = -1
        self.dead: set[int] = set()  # strategies whose heartbeat was lost (dead-man fired)
        self.cancel_waits: list[tuple[int, int, set[int]]] = []  # CancelAll: (corr, client, order ids)
        self.cancel_intent: set[int] = set()  # orders the oms itself wants cancelled (retried until gone)
        self._loss_limits: list = []
        self._loss_limits_version = -1
        self._reconciled_orders: set[int] = set()  # restated since the last reconciliation ended
        self._reconcile_fixes = 0
        self.flatten_jobs: dict = {}  # job id -> flatten.FlattenJob
        self.flatten_orders: dict[int, int] = {}  # order id -> flatten job id
        self.next_flatten_id = 0
        self.counters: dict[str, int] = {
            "inputs": 0,
            "bad_inputs": 0,
            "duplicate_reports": 0,
            "late_reports": 0,
            "unknown_order_reports": 0,
            "invalid_reports": 0,
            "stale_acks": 0,
            "late_fills": 0,
            "overfills": 0,
            "reference_ignored": 0,
            "cancel_resends": 0,
        }

    # -- ids ---------------------------------------------------------------------------------------
    def _seq(self) -> int:
        self.seq += 1
        return self.seq

    def _exec_id(self) -> int:
        e = self.next_exec_id
        self.next_exec_id += 1
        return e

    def _system_cl_ord_id(self) -> int:
        n = self.next_system_id
        self.next_system_id += 1
        return SYSTEM_CL_ORD_ID | n

    # -- reports -----------------------------------------------------------------------------------
    def _er(
        self,
        order: Order,
        exec_type: ExecType,
        *,
        status: OrdStatus | None = None,
        cl_ord_id: int | None = None,
        orig_cl_ord_id: int = 0,
        correlation_id: int | None = None,
        last_px: int | None = None,
        last_qty: int = 0,
        fee: Fraction = Fraction(0),
        reason: Reason = NO_REASON,
        transact_ts: int = 0,
        text: str = "",
    ) -> None:
        inst = self.catalog.by_id(order.instrument_id)
        self.out.execution_report(
            wire.execution_report(
                orderId=order.order_id,
                clOrdId=order.cl_ord_id if cl_ord_id is None else cl_ord_id,
                origClOrdId=orig_cl_ord_id,
                strategyId=order.strategy_id,
                clientId=order.client_id,
                correlationId=order.correlation_id if correlation_id is None else correlation_id,
                instrumentId=order.instrument_id,
                venueId=order.venue_id,
                venueOrderId=order.venue_order_id,
                execId=self._exec_id(),
                execType=exec_type,
                ordStatus=order.status if status is None else status,
                side=order.side,
                ordType=order.ord_type,
                timeInForce=order.tif,
                flags=order.flags,
                price=order.price,
                qty=order.qty,
                lastPx=last_px,
                lastQty=last_qty,
                cumQty=order.cum_qty,
                leavesQty=order.leaves,
                avgPx=wire.dec64(order.avg_px() * inst_unit(inst)) if order.cum_qty else ZERO64,
                fee=wire.dec64(fee) if fee else ZERO64,
                reason=reason,
                transactTs=transact_ts,
                ts=self.now,
                seq=self._seq(),
                text=text,
            )
        )

    def _risk_event(
        self,
        event: RiskEventType,
        reason: Reason,
        *,
        strategy_id: int = 0,
        instrument_id: int = 0,
        cl_ord_id: int = 0,
        correlation_id: int = 0,
        value: Fraction | Decimal | int | None = None,
        limit: Fraction | Decimal | int | None = None,
        operator: Operator = SYSTEM,
        text: str = "",
    ) -> None:
        self.out.risk_event(
            wire.risk_event(
                ts=self.now,
                eventType=event,
                reason=reason,
                strategyId=strategy_id,
                instrumentId=instrument_id,
                clOrdId=cl_ord_id,
                correlationId=correlation_id,
                value=wire.dec64(value or 0),
                limit=wire.dec64(limit or 0),
                operator=operator,
                seq=self._seq(),
                text=text,
            )
        )

    def _ack(self, correlation_id: int, client_id: int, status, reason: Reason, text: str = "") -> None:
        self.out.control_ack(
            client_id,
            wire.control_ack(
                correlationId=correlation_id,
                clientId=client_id,
                status=status,
                reason=reason,
                ts=self.now,
                text=text,
            ),
        )

    def _kill_state(self) -> None:
        k = self.kill
        self.out.kill_switch_state(
            wire.kill_switch_state(
                ts=self.now,
                engaged=k.engaged,
                changedTs=k.changed_ts,
                workingOrders=self.working_count,
                operator=k.operator,
                reason=k.reason,
            )
        )

    def _position_update(self, key: tuple[str, int, int]) -> None:
        kind, owner, inst_id = key
        p = self.ledger.positions[key]
        inst = p.instrument
        avg = p.avg_price()
        unit = Fraction(10) ** inst.price_exponent
        self.ledger.dirty.discard(key)
        self.out.position_update(
            wire.position_update(
                accountId=owner if kind == "a" else self.order_account(owner),
                strategyId=owner if kind == "s" else 0,
                instrumentId=inst_id,
                netQty=p.net,
                avgPx=wire.dec64(0 if avg is None else avg * unit),
                realizedPnl=wire.dec64(p.realized),
                unrealizedPnl=wire.dec64(p.unrealized()),
                fees=wire.dec64(p.fees),
                markPx=None if p.mark is None else round(p.mark),
                ts=self.now,
                seq=self._seq(),
            )
        )

    def order_account(self, strategy_id: int) -> int:
        return self.config.account_of(strategy_id)

    # -- order bookkeeping -------------------------------------------------------------------------
    def _add_order(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.working[order.order_id] = order
        self.working_count += 1
        s = order.strategy_id
        self.risk.open_orders[s] = self.risk.open_orders.get(s, 0) + 1
        self.exposure.add_working(s, order.account_id, order.instrument_id, order.is_buy, order.leaves)

    def _sync(self, order: Order, leaves_before: int, working_before: bool) -> None:
        """Bring the working quantities and counts in line after the order changed."""
        delta = order.leaves - leaves_before
        if delta:
            self.exposure.add_working(
                order.strategy_id, order.account_id, order.instrument_id, order.is_buy, delta
            )
        if working_before and not order.working:
            self.working_count -= 1
            self.working.pop(order.order_id, None)
            s = order.strategy_id
            self.risk.open_orders[s] -= 1
            self.timers.cancel(("cancel_retry", order.order_id))
            self.cancel_intent.discard(order.order_id)
            self.finished[order.order_id] = None
            while len(self.finished) > self.finished_memory:
                old, _ = self.finished.popitem(last=False)
                if old not in self.working:
                    self._forget_order(old)
        elif order.working and not working_before:  # a restatement brought a finished order back
            self.working_count += 1
            self.working[order.order_id] = order
            self.risk.open_orders[order.strategy_id] = self.risk.open_orders.get(order.strategy_id, 0) + 1
            self.finished.pop(order.order_id, None)

    def _forget_order(self, order_id: int) -> None:
        """Drops a finished order and what is remembered for it: its request ids and executions. A late
        report for it is then an unknown-order report (counted, reported, never booked)."""
        self.orders.pop(order_id, None)
        self.seen_exec.pop(order_id, None)
        ids = self.cl_ord_ids
        for key in self._cl_ord_keys.pop(order_id, ()):
            if ids.get(key) == order_id:
                del ids[key]

    def _remember_cl_ord_id(self, key: tuple[int, int], order_id: int) -> None:
        """Records a request id for an order (0: the request was refused). Ids of refused requests are
        remembered for the last `finished_memory` of them."""
        self.cl_ord_ids[key] = order_id
        if order_id:
            keys = self._cl_ord_keys.get(order_id)
            if keys is None:
                self._cl_ord_keys[order_id] = [key]
            else:
                keys.append(key)
            return
        refused = self._refused_ids
        refused[key] = None
        refused.move_to_end(key)
        if len(refused) > self.finished_memory:
            old, _ = refused.popitem(last=False)
            if self.cl_ord_ids.get(old) == 0:
                del self.cl_ord_ids[old]

    def _working_orders(
        self, strategy_id: int = 0, instrument_id: int = 0, account_id: int = 0
    ) -> list[Order]:
        return [
            o
            for o in self.working.values()
            if (not strategy_id or o.strategy_id == strategy_id)
            and (not instrument_id or o.instrument_id == instrument_id)
            and (not account_id or o.account_id == account_id)
        ]

    def _cancel_message(self, order: Order, cl_ord_id: int, correlation_id: int) -> bytes:
        return wire.cancel_order(
            correlationId=correlation_id,
            clientId=order.client_id,
            strategyId=order.strategy_id,
            clOrdId=cl_ord_id,
            origClOrdId=order.cl_ord_id,
            orderId=order.order_id,
            instrumentId=order.instrument_id,
            venueId=order.venue_id,
            sendTs=self.now,
            operator=SYSTEM,
        )

    def _send_cancel(self, order: Order, cl_ord_id: int, correlation_id: int) -> None:
        """Ask the venue to cancel a working order; the order goes PendingCancel."""
        before, working = order.leaves, order.working
        order.move(OrdStatus.PendingCancel, self.now)
        order.cancel_sent_ts = self.now
        order.cancel_cl_ord_id = cl_ord_id
        self.out.venue_order(order.venue_id, self._cancel_message(order, cl_ord_id, correlation_id))
        self._er(
            order,
            ExecType.PendingCancel,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
            correlation_id=correlation_id,
        )
        self._sync(order, before, working)

    def _resend_cancel(self, order: Order) -> None:
        order.cancel_sent_ts = self.now
        self.out.venue_order(order.venue_id, self._cancel_message(order, order.cancel_cl_ord_id, 0))

    def _system_cancel(self, order: Order, why: str) -> bool:
        """Cancel on the oms's own account (kill, dead-man, cancel-all, flatten): retried every
        cancel_retry_ms until the order is gone. False when no cancel could be sent now."""
        if not order.working:
            return False
        self.cancel_intent.add(order.order_id)
        self.timers.schedule(("cancel_retry", order.order_id), self.now + self._cancel_retry_ns())
        if order.status in (OrdStatus.PendingCancel, OrdStatus.PendingReplace):
            return False  # already going, or cancelled once the replace is answered (the retry does it)
        self._send_cancel(order, self._system_cl_ord_id(), 0)
        return True

    def _cancel_retry_ns(self) -> int:
        ms = self.limits.get("cancel_retry_ms")
        return int(ms if ms is not None else 500) * 1_000_000
