"""The oms engine: the single writer of orders, positions, PnL, risk and kill-switch state.

Deterministic: no threads, no wall clock, no bus. Every input is a decoded SBE message applied at
the time the host stamped on it (its receive time, the time the WAL records); deadlines (dead-man,
flatten, cancel retries, the daily roll, the periodic status) fire when an input at or after them
arrives, before it is applied, at their own due time. Outputs go to an OmsOutputs sink as encoded
SBE messages. Replaying the same inputs with the same times through a fresh engine with the same
configuration reproduces the state and the outputs byte for byte (see wal.py).

Hosting it (the oms daemon): for each message received,
    ts = clock.time_ns()
    if wal.is_journaled(payload): journal.append(ts, payload)   # before it takes effect
    engine.on_message(ts, payload)
and when idle, if engine.next_deadline() <= clock.time_ns(): journal and apply wal.clock_tick(now).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from core.codec.messages import (
    BookSnapshot,
    CancelAll,
    CancelOrder,
    ControlAck,
    ExecutionReport,
    Flatten,
    Heartbeat,
    KillSwitch,
    NewOrder,
    OperatorIdentity,
    Query,
    QueryType,
    Reason,
    ReplaceOrder,
    RiskEventType,
    SetLimit,
    decode,
)
from core.oms import wire
from core.oms.order_flow import OrderRequest
from core.oms.queries import Queries
from core.risk.operator import SYSTEM, Operator

CLOCK_ROLE = "oms.clock"  # a Heartbeat with this role is a clock tick: it only advances time
# A Heartbeat with this role marks an oms start (journaled when there are dead-man timers to reprieve):
# every armed strategy gets one dead-man interval from it, see restart_grace.
START_ROLE = "oms.start"
RECONCILE_CORRELATION = 1 << 62  # | venue id: the correlationId of a reconciliation query
OMS_CLIENT_ID = 0xFFFF_FFFF  # the oms's own client id (reconciliation queries)


class OmsEngine(Queries):
    """See the module docstring.

    OmsEngine(catalog, config, outputs, fees=None, venue_ids=None, finished_memory=100_000)
    """

    # -- inputs ------------------------------------------------------------------------------------
    def on_message(self, ts: int, payload: bytes | memoryview) -> None:
        """Decode one SBE message and apply it at time ts; undecodable input is counted, never raised."""
        try:
            m = decode(payload)
        except Exception:  # SbeError and anything a malformed buffer provokes
            self.counters["bad_inputs"] += 1
            return
        self.apply(ts, m)

    def apply(self, ts: int, m) -> None:
        """Apply one decoded message at time ts."""
        handler = self._handlers.get(type(m))
        if handler is None:
            self.counters["ignored_inputs"] = self.counters.get("ignored_inputs", 0) + 1
            return
        if handler is _QUERY:
            self.answer_query(m, ts)
            return
        if handler is _HEARTBEAT and m.role == START_ROLE and not m.strategyId:
            self.restart_grace(ts)  # before time advances: the deadlines it would fire are moved first
        self._advance(ts)
        self.counters["inputs"] += 1
        try:
            handler(self, m)
        except Exception as e:  # a daemon never dies on an input: count and report it (replay does the same)
            self.counters["input_errors"] = self.counters.get("input_errors", 0) + 1
            text = f"{m.NAME} not applied: {e!r}"[:500]
            self._risk_event(RiskEventType.CheckFired, Reason.Other, text=text)
        self._after_input()

    def on_tick(self, ts: int) -> None:
        """Advance the clock only (fires due deadlines). The host journals it as wal.clock_tick(ts)."""
        self._advance(ts)
        self._after_input()

    def next_deadline(self) -> int | None:
        """Earliest pending deadline (ns); the host ticks the engine when its clock reaches it."""
        return self.timers.next_due()

    # -- handlers (one per input type) -------------------------------------------------------------
    def _new_order(self, m) -> None:
        req = OrderRequest(
            m.correlationId,
            m.clientId,
            m.strategyId,
            m.clOrdId,
            m.instrumentId,
            m.venueId,
            m.side,
            m.ordType,
            m.timeInForce,
            int(m.flags or 0),
            m.price,
            m.qty,
            _operator(m.operator),
            send_ts=m.sendTs,
            trigger_ts=m.triggerTs,
        )
        self.submit(req)

    def _cancel(self, m) -> None:
        self.cancel_request(m, _operator(m.operator))

    def _replace(self, m) -> None:
        self.replace_request(m, _operator(m.operator))

    def _report(self, m) -> None:
        self.venue_report(m)

    def _book(self, m) -> None:
        bids, asks = m.bids, m.asks
        if not len(bids) or not len(asks):
            self.counters["reference_ignored"] += 1
            return
        self._reference(m.instrumentId, bids[0].price, asks[0].price)

    def _kill(self, m) -> None:
        self.kill_command(m, _operator(m.operator))

    def _flatten(self, m) -> None:
        self.flatten_command(m, _operator(m.operator))

    def _cancel_all(self, m) -> None:
        self.cancel_all_command(m, _operator(m.operator))

    def _set_limit(self, m) -> None:
        self.set_limit_command(m, _operator(m.operator))

    def _heartbeat(self, m) -> None:
        if (m.role == CLOCK_ROLE or m.role == START_ROLE) and not m.strategyId:
            return  # time has advanced (and a start gave its grace in apply); nothing else
        self.heartbeat(m.strategyId)

    def _control_ack(self, m) -> None:
        venue_id = m.correlationId ^ RECONCILE_CORRELATION
        if m.correlationId & RECONCILE_CORRELATION and m.clientId == OMS_CLIENT_ID and venue_id < 1 << 16:
            self.finish_reconcile(venue_id)

    _handlers = {
        NewOrder: _new_order,
        CancelOrder: _cancel,
        ReplaceOrder: _replace,
        ExecutionReport: _report,
        BookSnapshot: _book,
        KillSwitch: _kill,
        Flatten: _flatten,
        CancelAll: _cancel_all,
        SetLimit: _set_limit,
        Heartbeat: _heartbeat,
        ControlAck: _control_ack,
    }

    # -- reference prices --------------------------------------------------------------------------
    def _reference(self, instrument_id: int, bid: int, ask: int) -> None:
        """Best bid and ask of an instrument; the mid is the reference of the checks and the mark of PnL."""
        if self.catalog.get(instrument_id) is None or bid is None or ask is None or bid >= ask or bid <= 0:
            self.counters["reference_ignored"] += 1
            return
        mid2 = bid + ask
        if self.risk.mid2.get(instrument_id) == mid2:
            return
        self.risk.on_mid(instrument_id, mid2, self.now)
        self.exposure.set_mark(instrument_id, mid2)
        self.ledger.mark(instrument_id, mid2)
        self._pnl_changed()

    # -- time --------------------------------------------------------------------------------------
    def _advance(self, ts: int) -> None:
        if not self.started:
            self.started = True
            self.now = ts
            self.day.begin(ts)
            self.timers.schedule(("roll",), self.day.next_roll)
            self.timers.schedule(("status",), ts + self.config.status_interval_ms * 1_000_000)
        if ts < self.now:
            self.counters["clock_regressions"] = self.counters.get("clock_regressions", 0) + 1
            ts = self.now
        self.advancing_to = ts
        while True:
            due = self.timers.next_due()
            if due is None or due > ts:
                break
            key = self.timers.pop_due(ts)
            self.now = max(self.now, due)
            self._fire(key)
            self._after_input()
        self.now = ts

    def _fire(self, key) -> None:
        kind = key[0]
        if kind == "status":
            self._status()
        elif kind == "roll":
            self._roll_day()
        elif kind == "deadman":
            self._deadman_fired(key[1])
        elif kind == "cancel_retry":
            self._cancel_retry(key[1])
        elif kind == "flatten_step":
            job = self.flatten_jobs.get(key[1])
            if job is not None:
                self._flatten_step(job)
        elif kind == "flatten_timeout":
            self._flatten_timeout(key[1])

    def _after_input(self) -> None:
        if self.flatten_jobs:
            self._flatten_steps()
        self._cancel_waits_check()
        self._drain_check()

    # -- reconciliation ----------------------------------------------------------------------------
    def working_venues(self) -> set[int]:
        """Venues that hold working orders of this oms."""
        return {o.venue_id for o in self.working.values()}

    def reconcile_requests(self, also: Iterable[int] = ()) -> list[tuple[int, bytes]]:
        """After replay: (venue id, Query Orders) for every venue with working orders, and for the
        venues in `also` (that had some when the reconciliation was wanted).

        The host sends them (OmsOutputs.venue_order). Each venue answers with an ExecutionReport
        Restated per order it knows, then a ControlAck Done with the query's correlationId; those are
        inputs like any other (journaled). Restated reports book fills the oms missed and take the
        venue's status; at the ControlAck, working orders at that venue that were not restated are
        ended (Canceled, "unknown to the venue") and a RiskEvent Reconciled reports what changed.
        Building the requests changes no state.
        """
        venues = sorted(self.working_venues() | set(also))
        return [
            (
                v,
                wire.query(
                    correlationId=RECONCILE_CORRELATION | v,
                    clientId=OMS_CLIENT_ID,
                    queryType=QueryType.Orders,
                    sendTs=self.now,
                    operator=SYSTEM,
                ),
            )
            for v in venues
        ]

    def finish_reconcile(self, venue_id: int) -> None:
        lost = [
            o
            for o in self._working_orders()
            if o.venue_id == venue_id and o.order_id not in self._reconciled_orders
        ]
        for order in lost:
            self._lost_order(order, "unknown to the venue at reconciliation")
        restated = sum(
            1 for i in self._reconciled_orders if self.orders.get(i) and self.orders[i].venue_id == venue_id
        )
        self._risk_event(
            RiskEventType.Reconciled,
            Reason(0),
            value=self._reconcile_fixes + len(lost),
            limit=restated,
            text=f"venue {venue_id}: {restated} orders restated, "
            f"{self._reconcile_fixes} corrections, {len(lost)} orders unknown",
        )
        self._reconciled_orders = {
            i for i in self._reconciled_orders if self.orders.get(i) and self.orders[i].venue_id != venue_id
        }
        self._reconcile_fixes = 0


_QUERY = object()
_HEARTBEAT = OmsEngine._handlers[Heartbeat]
OmsEngine._handlers[Query] = _QUERY  # answered without advancing time: queries change nothing


def _operator(op) -> Operator:
    if op is None:
        return Operator()
    return _operator_of(op._w)


@lru_cache(maxsize=4096)
def _operator_of(raw: bytes) -> Operator:
    """Operators repeat (one per tool and strategy host): decoded once per distinct wire value."""
    op = OperatorIdentity._from_wire(raw)
    return Operator(user=op.user or "", host=op.host or "", pid=op.pid or 0, tool=op.tool or "")
