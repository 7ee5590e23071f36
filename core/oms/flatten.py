"""Flatten: bring positions to zero with reducing IOC orders, then report the outcome.

Scope: one instrument or all (instrumentId 0); one strategy's positions (strategyId set, orders booked
to that strategy) or the account net positions (strategyId 0, orders booked to the manual strategy
with the account of the position). Steps, per (account or strategy, instrument) target:
1. cancel the working orders in scope, and wait until they are gone;
2. send an IOC limit order for the whole position (capped at max_order_qty) on the reducing side,
   priced at the reference mid +/- flatten_band_bps rounded to the tick towards the mid; it goes
   through the same pre-trade checks as any order (it reduces, so the kill switch lets it pass);
3. when it ends, report FlattenProgress (remaining quantity) and, after flatten_retry_ms, send the
   next one, until the position is zero (FlattenDone + ControlAck Done) or flatten_timeout_ms has
   passed (FlattenFailed + ControlAck Refused with Reason.Timeout).
With no reference mid the job waits for one (and fails at the timeout).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from core.codec.messages import AckStatus, OrdType, Reason, RiskEventType, Side, TimeInForce
from core.oms.control import Controls
from core.oms.ledger import ACCOUNT, STRATEGY
from core.oms.order_flow import FLATTEN, NO_REASON, REDUCE_ONLY, OrderRequest
from core.oms.orders import Order
from core.risk.operator import Operator

NS_PER_MS = 1_000_000


@dataclass
class FlattenTarget:
    account_id: int
    instrument_id: int
    strategy_id: int  # 0: the account's net position
    book_strategy: int  # strategy the flatten orders are booked to
    start_qty: int
    order_id: int = 0  # IOC in flight
    next_send: int = 0
    orders_sent: int = 0
    done: bool = False


@dataclass
class FlattenJob:
    job_id: int
    correlation_id: int
    client_id: int
    operator: Operator
    reason: str
    instrument_id: int
    strategy_id: int
    deadline: int
    targets: list[FlattenTarget] = field(default_factory=list)


class Flattening(Controls):
    def flatten_command(self, m, operator: Operator) -> None:
        iid, sid = m.instrumentId, m.strategyId
        if iid and self.catalog.get(iid) is None:
            self._ack(
                m.correlationId,
                m.clientId,
                AckStatus.Refused,
                Reason.UnknownInstrument,
                f"no instrument with id {iid}",
            )
            return
        self.next_flatten_id += 1
        timeout = int(self.limits.get("flatten_timeout_ms") or 30_000) * NS_PER_MS
        job = FlattenJob(
            self.next_flatten_id,
            m.correlationId,
            m.clientId,
            operator,
            m.reason or "",
            iid,
            sid,
            self.now + timeout,
        )
        kind, book = (STRATEGY, sid) if sid else (ACCOUNT, self.config.manual_strategy_id)
        for (k, owner, inst_id), pos in sorted(self.ledger.positions.items()):
            if k != kind or pos.net == 0 or (iid and inst_id != iid) or (sid and owner != sid):
                continue
            account = self.config.account_of(owner) if sid else owner
            job.targets.append(FlattenTarget(account, inst_id, sid, book, abs(pos.net)))
        for order in self._working_orders(strategy_id=sid, instrument_id=iid):
            self._system_cancel(order, "flatten")
        self.flatten_jobs[job.job_id] = job
        self._risk_event(
            RiskEventType.FlattenStarted,
            Reason.Operator,
            strategy_id=sid,
            instrument_id=iid,
            correlation_id=m.correlationId,
            value=len(job.targets),
            operator=operator,
            text=f"flatten {len(job.targets)} positions" + (f": {job.reason}" if job.reason else ""),
        )
        self._ack(
            m.correlationId,
            m.clientId,
            AckStatus.InProgress,
            NO_REASON,
            f"flattening {len(job.targets)} positions",
        )
        self.timers.schedule(("flatten_timeout", job.job_id), job.deadline)
        self._flatten_step(job)

    def _target_net(self, t: FlattenTarget) -> int:
        key = (
            (STRATEGY, t.strategy_id, t.instrument_id)
            if t.strategy_id
            else (ACCOUNT, t.account_id, t.instrument_id)
        )
        pos = self.ledger.positions.get(key)
        return 0 if pos is None else pos.net

    def _flatten_steps(self) -> None:
        for job in list(self.flatten_jobs.values()):
            self._flatten_step(job)

    def _flatten_step(self, job: FlattenJob) -> None:
        for t in job.targets:
            if t.done:
                continue
            if t.order_id:
                live = self.orders.get(t.order_id)
                if live is not None and live.working:
                    continue
                t.order_id = 0
            net = self._target_net(t)
            if net == 0:
                t.done = True
                continue
            if self.now < t.next_send or self._blocking_orders(job, t):
                continue
            self._send_flatten_order(job, t, net)
        if all(t.done for t in job.targets):
            self._finish_flatten(job, ok=True)

    def _blocking_orders(self, job: FlattenJob, t: FlattenTarget) -> bool:
        for o in self.working.values():
            if (
                o.instrument_id == t.instrument_id
                and not o.flags & FLATTEN
                and (o.strategy_id == t.strategy_id if t.strategy_id else o.account_id == t.account_id)
            ):
                return True
        return False

    def _send_flatten_order(self, job: FlattenJob, t: FlattenTarget, net: int) -> None:
        inst = self.catalog.by_id(t.instrument_id)
        mid2 = self.risk.mid2.get(t.instrument_id)
        retry = int(self.limits.get("flatten_retry_ms") or 200) * NS_PER_MS
        if mid2 is None:
            return  # wait for a reference mid; the timeout ends the wait
        band = Fraction(self.limits.get("flatten_band_bps") or 50) / 10_000
        mid = Fraction(mid2, 2)
        tick = inst.tick_size
        selling = net > 0
        if selling:  # lowest price allowed, rounded up to the tick (towards the mid)
            limit = mid * (1 - band)
            price = -((-limit.numerator * 1) // (limit.denominator * tick)) * tick
        else:
            limit = mid * (1 + band)
            price = (limit.numerator // (limit.denominator * tick)) * tick
        qty = abs(net)
        max_qty = self.risk.resolved(t.book_strategy, inst.id).max_qty
        if max_qty is not None:
            qty = min(qty, max_qty - max_qty % inst.lot_size)
        qty -= qty % inst.lot_size
        if qty <= 0 or price <= 0:
            t.next_send = self.now + retry
            self.timers.schedule(("flatten_step", job.job_id), t.next_send)
            return
        req = OrderRequest(
            job.correlation_id,
            job.client_id,
            t.book_strategy,
            self._system_cl_ord_id(),
            inst.id,
            0,
            Side.Sell if selling else Side.Buy,
            OrdType.Limit,
            TimeInForce.IOC,
            FLATTEN | (0 if t.strategy_id else REDUCE_ONLY),
            price,
            qty,
            job.operator,
            account_id=t.account_id,
        )
        t.orders_sent += 1
        order = self.submit(req)
        if order is None:  # refused by a check: try again later (the RiskEvent says why)
            t.next_send = self.now + retry
            self.timers.schedule(("flatten_step", job.job_id), t.next_send)
            return
        t.order_id = order.order_id
        t.next_send = self.now + retry
        self.flatten_orders[order.order_id] = job.job_id

    def _flatten_fill(self, order: Order) -> None:
        job = self._job_of(order)
        if job is None:
            return
        for t in job.targets:
            if t.order_id == order.order_id:
                inst = self.catalog.by_id(t.instrument_id)
                remaining = abs(self._target_net(t))
                self._risk_event(
                    RiskEventType.FlattenProgress,
                    NO_REASON,
                    strategy_id=t.strategy_id,
                    instrument_id=t.instrument_id,
                    correlation_id=job.correlation_id,
                    value=inst.qty(remaining),
                    limit=inst.qty(t.start_qty),
                    operator=job.operator,
                    text=f"{inst.symbol}: {inst.qty(remaining)} left of {inst.qty(t.start_qty)}",
                )

    def _flatten_order_done(self, order: Order) -> None:
        job = self._job_of(order)
        if job is None:
            return
        self.flatten_orders.pop(order.order_id, None)
        for t in job.targets:
            if t.order_id == order.order_id and not t.done:
                t.order_id = 0
                if self._target_net(t) and t.next_send > self.now:
                    self.timers.schedule(("flatten_step", job.job_id), t.next_send)

    def _job_of(self, order: Order) -> FlattenJob | None:
        if not order.flags & FLATTEN:
            return None
        job_id = self.flatten_orders.get(order.order_id)
        return None if job_id is None else self.flatten_jobs.get(job_id)

    def _flatten_timeout(self, job_id: int) -> None:
        job = self.flatten_jobs.get(job_id)
        if job is not None:
            self._flatten_step(job)
            if job.job_id in self.flatten_jobs:
                self._finish_flatten(job, ok=False)

    def _finish_flatten(self, job: FlattenJob, ok: bool) -> None:
        del self.flatten_jobs[job.job_id]
        self.timers.cancel(("flatten_timeout", job.job_id))
        self.timers.cancel(("flatten_step", job.job_id))
        if ok:
            self._risk_event(
                RiskEventType.FlattenDone,
                NO_REASON,
                strategy_id=job.strategy_id,
                instrument_id=job.instrument_id,
                correlation_id=job.correlation_id,
                value=len(job.targets),
                operator=job.operator,
                text="flat",
            )
            self._ack(job.correlation_id, job.client_id, AckStatus.Done, NO_REASON, "flat")
            return
        left = [t for t in job.targets if not t.done]
        insts = [self.catalog.by_id(t.instrument_id) for t in left]
        detail = ", ".join(
            f"{i.symbol} {i.qty(self._target_net(t))}" for i, t in zip(insts, left, strict=True)
        )
        self._risk_event(
            RiskEventType.FlattenFailed,
            Reason.Timeout,
            strategy_id=job.strategy_id,
            instrument_id=job.instrument_id,
            correlation_id=job.correlation_id,
            value=len(left),
            operator=job.operator,
            text=f"not flat after the timeout: {detail}",
        )
        self._ack(job.correlation_id, job.client_id, AckStatus.Refused, Reason.Timeout, f"not flat: {detail}")
