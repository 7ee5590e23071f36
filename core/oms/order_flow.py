"""Order requests from strategies and operators: NewOrder, CancelOrder, ReplaceOrder.

A new order is validated, checked by pre-trade risk, given the next orderId and sent to its venue;
a refused one gets an ExecutionReport Rejected with the reason, a RiskEvent CheckFired and, when it
is a manual order, a ControlAck Refused. clOrdIds are unique per strategy (new, cancel and replace
requests alike); a reused one is refused with Reason.DuplicateClOrdId.
"""

from __future__ import annotations

from core.codec.messages import (
    AckStatus,
    ExecType,
    OrdStatus,
    OrdType,
    Reason,
    RiskEventType,
    Side,
    TimeInForce,
)
from core.instruments import Instrument
from core.oms import wire
from core.oms.orders import Order
from core.oms.state import NO_REASON, EngineState
from core.risk.checks import Breach
from core.risk.operator import Operator

POST_ONLY, REDUCE_ONLY, MANUAL, FLATTEN = 1, 2, 4, 8
__all__ = ["FLATTEN", "MANUAL", "NO_REASON", "POST_ONLY", "REDUCE_ONLY", "OrderFlow", "OrderRequest"]


class OrderRequest:
    """A NewOrder as the engine takes it (from a decoded message or built by the oms itself).

    `send_ts` and `trigger_ts` are the requester's sendTs and triggerTs (the market-data publishTs
    that led to the order): the venue order carries them on unchanged so the exec gateway can measure
    tick-to-order. The oms's own orders (flatten) have neither: their venue order says the oms's time
    and triggerTs 0.
    """

    __slots__ = (
        "account_id",
        "cl_ord_id",
        "client_id",
        "correlation_id",
        "flags",
        "instrument_id",
        "operator",
        "ord_type",
        "price",
        "qty",
        "send_ts",
        "side",
        "strategy_id",
        "tif",
        "trigger_ts",
        "venue_id",
    )

    def __init__(
        self,
        correlation_id: int,
        client_id: int,
        strategy_id: int,
        cl_ord_id: int,
        instrument_id: int,
        venue_id: int,
        side,
        ord_type,
        tif,
        flags: int,
        price: int | None,
        qty: int,
        operator: Operator,
        account_id: int = 0,
        *,
        send_ts: int = 0,
        trigger_ts: int = 0,
    ) -> None:
        self.correlation_id = correlation_id
        self.client_id = client_id
        self.strategy_id = strategy_id
        self.cl_ord_id = cl_ord_id
        self.instrument_id = instrument_id
        self.venue_id = venue_id
        self.side = side
        self.ord_type = ord_type
        self.tif = tif
        self.flags = flags
        self.price = price
        self.qty = qty
        self.operator = operator
        self.account_id = account_id
        self.send_ts = send_ts
        self.trigger_ts = trigger_ts


_SIDES = frozenset(Side)
_ORD_TYPES = frozenset(OrdType)
_TIFS = frozenset(TimeInForce)


class OrderFlow(EngineState):
    # -- new orders --------------------------------------------------------------------------------
    def submit(self, req: OrderRequest) -> Order | None:
        """Validate, check and send one order; returns it, or None when refused."""
        manual = bool(req.flags & MANUAL)
        if manual and req.strategy_id == 0:
            req.strategy_id = self.config.manual_strategy_id
        sid = req.strategy_id
        key = (sid, req.cl_ord_id)
        if key in self.cl_ord_ids:
            return self._refuse(
                req, Reason.DuplicateClOrdId, f"clOrdId {req.cl_ord_id} already used by strategy {sid}"
            )
        self.cl_ord_ids[key] = 0
        self._heard_from(sid)
        inst = self.catalog.get(req.instrument_id)
        if inst is None:
            return self._refuse(req, Reason.UnknownInstrument, f"no instrument with id {req.instrument_id}")
        problem = self._invalid(req, inst)
        if problem:
            return self._refuse(req, Reason.InvalidOrder, problem)
        home = self.venue_ids.get(inst.venue, 0)
        if not req.venue_id:
            req.venue_id = home
            if not req.venue_id:
                return self._refuse(req, Reason.InvalidOrder, f"no venue id for venue {inst.venue!r}")
        elif home and req.venue_id != home:
            return self._refuse(
                req,
                Reason.InvalidOrder,
                f"{inst.symbol} trades at venue {home} ({inst.venue}), not {req.venue_id}",
            )
        if not req.account_id:
            req.account_id = self.config.account_of(sid)
        is_buy = req.side == Side.Buy
        if sid in self.dead:
            return self._refuse(
                req, Reason.DeadMan, f"strategy {sid} lost its heartbeat: orders refused until it beats"
            )
        if req.flags & REDUCE_ONLY and not self.risk.is_reducing(req.account_id, inst.id, is_buy, req.qty):
            return self._refuse(
                req, Reason.InvalidOrder, "reduce-only order would not reduce the account position"
            )
        breach = self.risk.check(
            sid,
            req.account_id,
            inst.id,
            is_buy,
            req.price,
            req.qty,
            req.tif in (TimeInForce.IOC, TimeInForce.FOK),
            self.now,
        )
        if breach is not None:
            return self._refuse(req, breach.reason, breach.text, breach)
        order = Order(
            self.next_order_id,
            req.cl_ord_id,
            sid,
            req.client_id,
            req.correlation_id,
            req.account_id,
            inst.id,
            req.venue_id,
            req.side,
            req.ord_type,
            req.tif,
            req.flags,
            req.price,
            req.qty,
            self.now,
        )
        self.next_order_id += 1
        self._remember_cl_ord_id(key, order.order_id)
        self._add_order(order)
        self.out.venue_order(
            order.venue_id,
            wire.new_order(
                correlationId=req.correlation_id,
                clientId=req.client_id,
                strategyId=sid,
                clOrdId=req.cl_ord_id,
                orderId=order.order_id,
                instrumentId=inst.id,
                venueId=order.venue_id,
                side=req.side,
                ordType=req.ord_type,
                timeInForce=req.tif,
                flags=req.flags,
                price=req.price,
                qty=req.qty,
                sendTs=req.send_ts or self.now,
                triggerTs=req.trigger_ts,
                operator=req.operator,
            ),
        )
        self._er(order, ExecType.PendingNew)
        if manual:
            self._ack(
                req.correlation_id, req.client_id, AckStatus.Accepted, NO_REASON, f"order {order.order_id}"
            )
        return order

    def _invalid(self, req: OrderRequest, inst: Instrument) -> str:
        if req.side not in _SIDES or req.ord_type not in _ORD_TYPES or req.tif not in _TIFS:
            return "unknown side, order type or time in force"
        if req.qty <= 0:
            return f"quantity must be positive, got {req.qty}"
        if req.qty % inst.lot_size:
            return f"quantity {req.qty} is not a multiple of the lot size {inst.lot_size}"
        if not inst.min_qty <= req.qty <= inst.max_qty:
            return f"quantity {req.qty} outside {inst.min_qty}..{inst.max_qty}"
        if req.ord_type == OrdType.Limit:
            if req.price is None or req.price <= 0:
                return "a limit order needs a positive price"
            if req.price % inst.tick_size:
                return f"price {req.price} is not a multiple of the tick size {inst.tick_size}"
        elif req.price is not None:
            return "a market order carries no price"
        if req.flags & POST_ONLY and (
            req.ord_type != OrdType.Limit or req.tif in (TimeInForce.IOC, TimeInForce.FOK)
        ):
            return "post-only needs a resting limit order"
        return ""

    def _refuse(self, req: OrderRequest, reason: Reason, text: str, breach: Breach | None = None) -> None:
        key = (req.strategy_id, req.cl_ord_id)
        if self.cl_ord_ids.get(key) == 0:  # its own id (not a duplicate of an order's): remembered a while
            self._remember_cl_ord_id(key, 0)
        inst_id = req.instrument_id
        self.out.execution_report(
            wire.execution_report(
                orderId=0,
                clOrdId=req.cl_ord_id,
                origClOrdId=0,
                strategyId=req.strategy_id,
                clientId=req.client_id,
                correlationId=req.correlation_id,
                instrumentId=inst_id,
                venueId=req.venue_id,
                venueOrderId="",
                execId=self._exec_id(),
                execType=ExecType.Rejected,
                ordStatus=OrdStatus.Rejected,
                side=req.side,
                ordType=req.ord_type,
                timeInForce=req.tif,
                flags=req.flags,
                price=req.price,
                qty=req.qty,
                lastPx=None,
                lastQty=0,
                cumQty=0,
                leavesQty=0,
                avgPx=wire.dec64(0),
                fee=wire.dec64(0),
                reason=reason,
                transactTs=0,
                ts=self.now,
                seq=self._seq(),
                text=text,
            )
        )
        self._risk_event(
            RiskEventType.CheckFired,
            reason,
            strategy_id=req.strategy_id,
            instrument_id=inst_id,
            cl_ord_id=req.cl_ord_id,
            correlation_id=req.correlation_id,
            value=breach.value if breach else None,
            limit=breach.limit if breach else None,
            operator=req.operator,
            text=text,
        )
        if req.flags & MANUAL:
            self._ack(req.correlation_id, req.client_id, AckStatus.Refused, reason, text)
        return None

    # -- cancels -----------------------------------------------------------------------------------
    def _find(self, strategy_id: int, order_id: int, orig_cl_ord_id: int) -> Order | None:
        if order_id:
            order = self.orders.get(order_id)
            # Operators (manual book) may cancel any order by id; a strategy only its own.
            if order is not None and strategy_id not in (order.strategy_id, self.config.manual_strategy_id):
                return None
            return order
        oid = self.cl_ord_ids.get((strategy_id, orig_cl_ord_id))
        return self.orders.get(oid) if oid else None

    def cancel_request(self, m, operator: Operator) -> None:
        sid = m.strategyId
        self._heard_from(sid)
        order = self._find(sid, m.orderId, m.origClOrdId)
        problem, reason = "", NO_REASON
        if (sid, m.clOrdId) in self.cl_ord_ids:
            problem, reason = f"clOrdId {m.clOrdId} already used", Reason.DuplicateClOrdId
        elif order is None:
            problem, reason = "unknown order", Reason.UnknownOrder
        elif not order.working:
            problem, reason = f"order is {order.status.name}", Reason.TooLateToCancel
        elif order.status in (OrdStatus.PendingCancel, OrdStatus.PendingReplace):
            problem, reason = f"order is {order.status.name}", Reason.Other
        if m.clOrdId and (sid, m.clOrdId) not in self.cl_ord_ids:
            self._remember_cl_ord_id((sid, m.clOrdId), order.order_id if order else 0)
        if problem:
            self._request_refused(m, order, ExecType.CancelRejected, reason, problem)
            return
        assert order is not None
        self._send_cancel(order, m.clOrdId, m.correlationId)

    def _request_refused(
        self, m, order: Order | None, exec_type: ExecType, reason: Reason, text: str
    ) -> None:
        if order is not None:
            self._er(
                order,
                exec_type,
                cl_ord_id=m.clOrdId,
                orig_cl_ord_id=order.cl_ord_id,
                correlation_id=m.correlationId,
                reason=reason,
                text=text,
            )
            return
        self.out.execution_report(
            wire.execution_report(
                orderId=m.orderId,
                clOrdId=m.clOrdId,
                origClOrdId=m.origClOrdId,
                strategyId=m.strategyId,
                clientId=m.clientId,
                correlationId=m.correlationId,
                instrumentId=m.instrumentId,
                venueId=m.venueId,
                venueOrderId="",
                execId=self._exec_id(),
                execType=exec_type,
                ordStatus=OrdStatus.Rejected,
                side=Side.Buy,
                ordType=OrdType.Limit,
                timeInForce=TimeInForce.GTC,
                flags=0,
                price=None,
                qty=0,
                lastPx=None,
                lastQty=0,
                cumQty=0,
                leavesQty=0,
                avgPx=wire.dec64(0),
                fee=wire.dec64(0),
                reason=reason,
                transactTs=0,
                ts=self.now,
                seq=self._seq(),
                text=text,
            )
        )
        self.counters["unknown_order_requests"] = self.counters.get("unknown_order_requests", 0) + 1

    # -- replaces ----------------------------------------------------------------------------------
    def replace_request(self, m, operator: Operator) -> None:
        sid = m.strategyId
        self._heard_from(sid)
        order = self._find(sid, m.orderId, m.origClOrdId)
        price, qty = m.price, m.qty
        problem, reason = "", NO_REASON
        if (sid, m.clOrdId) in self.cl_ord_ids:
            problem, reason = f"clOrdId {m.clOrdId} already used", Reason.DuplicateClOrdId
        elif order is None:
            problem, reason = "unknown order", Reason.UnknownOrder
        elif order.status not in (OrdStatus.New, OrdStatus.PartiallyFilled):
            problem, reason = (
                f"order is {order.status.name}",
                Reason.TooLateToCancel if not order.working else Reason.Other,
            )
        elif self.kill.engaged:
            problem, reason = "kill switch engaged", Reason.KillSwitch
        else:
            inst = self.catalog.by_id(order.instrument_id)
            if qty <= order.cum_qty or qty % inst.lot_size or qty > inst.max_qty:
                problem, reason = f"new quantity {qty} invalid (filled {order.cum_qty})", Reason.InvalidOrder
            elif order.ord_type == OrdType.Limit and (price is None or price <= 0 or price % inst.tick_size):
                problem, reason = f"new price {price} invalid", Reason.InvalidOrder
            elif order.ord_type == OrdType.Market and price is not None:
                problem, reason = "a market order carries no price", Reason.InvalidOrder
        if (sid, m.clOrdId) not in self.cl_ord_ids:
            self._remember_cl_ord_id((sid, m.clOrdId), order.order_id if order else 0)
        if not problem:
            assert order is not None
            breach = self._check_replace(order, price, qty)
            if breach is not None:
                self._risk_event(
                    RiskEventType.CheckFired,
                    breach.reason,
                    strategy_id=sid,
                    instrument_id=order.instrument_id,
                    cl_ord_id=m.clOrdId,
                    correlation_id=m.correlationId,
                    value=breach.value,
                    limit=breach.limit,
                    operator=operator,
                    text=breach.text,
                )
                problem, reason = breach.text, breach.reason
        if problem:
            self._request_refused(m, order, ExecType.ReplaceRejected, reason, problem)
            return
        assert order is not None
        order.move(OrdStatus.PendingReplace, self.now)
        order.pending = (m.clOrdId, m.correlationId, price, qty)
        self.out.venue_order(
            order.venue_id,
            wire.replace_order(
                correlationId=m.correlationId,
                clientId=order.client_id,
                strategyId=order.strategy_id,
                clOrdId=m.clOrdId,
                origClOrdId=order.cl_ord_id,
                orderId=order.order_id,
                instrumentId=order.instrument_id,
                venueId=order.venue_id,
                price=price,
                qty=qty,
                sendTs=self.now,
                operator=operator,
            ),
        )
        self._er(
            order,
            ExecType.PendingReplace,
            cl_ord_id=m.clOrdId,
            orig_cl_ord_id=order.cl_ord_id,
            correlation_id=m.correlationId,
        )

    def _check_replace(self, order: Order, price: int | None, qty: int) -> Breach | None:
        """Check the new terms as an order of the new leaves, with this order's old leaves taken out."""
        leaves = order.leaves
        s, a, i = order.strategy_id, order.account_id, order.instrument_id
        self.exposure.add_working(s, a, i, order.is_buy, -leaves)
        self.risk.open_orders[s] -= 1
        try:
            return self.risk.check(
                s,
                a,
                i,
                order.is_buy,
                price,
                qty - order.cum_qty,
                order.tif in (TimeInForce.IOC, TimeInForce.FOK),
                self.now,
            )
        finally:
            self.risk.open_orders[s] += 1
            self.exposure.add_working(s, a, i, order.is_buy, leaves)

    # -- liveness (dead-man) -----------------------------------------------------------------------
    def _heard_from(self, strategy_id: int) -> None:
        """A strategy with a dead-man limit is armed by its first order or heartbeat."""
        if not strategy_id or strategy_id in self.last_seen:
            return
        if self._deadman_version != self.limits.version:
            self._deadman_version = self.limits.version
            self._deadman_off = set()
        if strategy_id in self._deadman_off:
            return
        if not self._deadman_ns(strategy_id):
            self._deadman_off.add(strategy_id)
        else:
            self.last_seen[strategy_id] = self.now
            self.timers.schedule(("deadman", strategy_id), self.now + self._deadman_ns(strategy_id))

    def _deadman_ns(self, strategy_id: int) -> int:
        ms = self.limits.get("deadman_ms", strategy_id)
        return int(ms) * 1_000_000 if ms else 0
