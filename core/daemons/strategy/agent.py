"""StrategyAgent: a StrategyHost (core/strategy/host.py) on the bus.

Start, in three phases (market data and state flow into the host from the first cycle):
1. connecting: until the oms is reachable (the order-requests and control streams have a subscriber, the
   state stream a publisher), at most connect_wait_ms;
2. recovering: Query Orders and Query Positions go to the oms with the host's clientId; the host takes
   the answers (working orders of an earlier session become its strategies' own again, marked external;
   positions are known before the first update). The phase ends when both answers are complete (the
   paging convention of core/oms/queries.py: a page shorter than PAGE_SIZE ends a reply), or refused,
   or after recover_timeout_ms (an answer arriving later is still taken);
3. running: the host starts (on_start, first heartbeats); with recovered_orders = "cancel" the orders
   given back are cancelled now. When the oms's state stream is joined again later (a restarted oms),
   the two queries are sent again so the host's view follows the oms's.

Every duty cycle: held order requests are flushed, local refusals are fed to the host, then the state
stream (reports of its own orders first), then market data, then the host's timers
(`host.poll_timers(clock.time_ns())`: strategy timers and heartbeats).

Market data is untethered by default: a strategy host is a consumer the desk must never wait for. One
that falls a window behind is dropped by the driver and rejoins at the live end; the md daemon's
per-instrument seq then jumps, the host marks that book unusable (its strategies are told through
on_book, and must not quote on it) until the next BookSnapshot, which the md daemon republishes every
snapshot_interval_ms. A whole-feed FeedState (instrumentId 0) is applied to every book the host keeps.
The state stream is tethered: its own execution reports must never be lost (it is light: the oms holds
its state output for a slow reader rather than drop it).
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from core.agent.clock import Clock
from core.bus.client import BusClient
from core.bus.dispatch import MessageDispatcher, aerodesk_dispatcher
from core.codec.messages import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    ControlAck,
    ExecutionReport,
    FeedState,
    OrdersSnapshot,
    PositionsSnapshot,
    PositionUpdate,
    Query,
    QueryType,
    Trade,
    decode,
)
from core.daemons.strategy.outputs import BusHostOutputs
from core.oms.queries import PAGE_SIZE
from core.strategy.host import StrategyHost
from core.strategy.wire import operator_identity

log = logging.getLogger("aerodesk.strategy")

CONNECTING, RECOVERING, RUNNING, STOPPED = "connecting", "recovering", "running", "stopped"
MS = 1_000_000
_INSTRUMENT = struct.Struct("<I")  # instrumentId: the first field of every md message, after the header
_HEADER = 8


class StrategyAgent:
    def __init__(
        self,
        role_name: str,
        bus: BusClient,
        clock: Clock,
        host: StrategyHost,
        outputs: BusHostOutputs,
        *,
        connect_wait_ms: int = 10_000,
        recover_timeout_ms: int = 5_000,
        recovered_orders: str = "cancel",
        md_tether: bool = False,
        fragment_limit: int = 256,
    ) -> None:
        self.role_name = role_name
        self.bus = bus
        self.clock = clock
        self.host = host
        self.outputs = outputs
        self.connect_wait_ns = connect_wait_ms * MS
        self.recover_timeout_ns = recover_timeout_ms * MS
        self.recovered_orders = recovered_orders
        self.fragment_limit = fragment_limit
        self.phase = CONNECTING
        self._deadline = 0
        self._pending: dict[int, str] = {}  # correlation id -> "orders" | "positions", unanswered
        self._unsent: list[QueryType] = []  # queries the control stream did not take yet
        self._refusals: list[bytes] = []  # local refusals, fed to the host next cycle
        self._state_images = 0
        self._strategy_ids = frozenset(c.strategy_id for c in host.contexts)
        self._operator = operator_identity(role_name, host.identity.host, host.identity.pid, "strategy")
        self._control = bus.publisher("control")
        outputs.on_refused = self.refused
        self.c = {
            "recovered_orders": 0,
            "recovered_positions": 0,
            "recovery_timeouts": 0,
            "recovery_refused": 0,
            "recovered_canceled": 0,
            "resyncs": 0,
            "whole_feed_states": 0,
            "md_other": 0,
            "ignored": 0,
        }
        self.state_sub = bus.subscriber("state", self._state_dispatcher())
        self.md_sub = bus.subscriber("market_data", self._md_dispatcher(), tether=md_tether)

    # -- Agent ------------------------------------------------------------------------------------
    def on_start(self) -> None:
        self._deadline = self.clock.time_ns() + self.connect_wait_ns
        names = ", ".join(c.name for c in self.host.contexts)
        log.info("strategy daemon %s: %s; waiting for the oms", self.role_name, names)

    def do_work(self) -> int:
        work = self.outputs.flush()
        if self._refusals:
            work += self._feed_refusals()
        limit = self.fragment_limit
        work += self.state_sub.poll(limit)
        work += self.md_sub.poll(limit)
        now = self.clock.time_ns()
        if self.phase == RUNNING:
            work += self.host.poll_timers(now)
            self._watch_state_stream()
        else:
            work += self._starting(now)
        if self._unsent:
            self._send_queries()
        return work

    def next_deadline_ns(self) -> int | None:
        """The strategies' next timer while they run."""
        return self.host.next_deadline() if self.phase == RUNNING else None

    def on_close(self) -> None:
        if self.phase == RUNNING:
            self.host.stop()  # on_stop, cancels of working orders, a last Stopping heartbeat
        self.phase = STOPPED
        deadline = self.clock.time_ns() + 200 * MS  # a short grace for requests the stream pushed back
        while self.outputs.held and self.clock.time_ns() < deadline:
            self.outputs.flush()
        if self.outputs.held:
            log.warning(
                "strategy daemon %s: %d requests not sent at stop", self.role_name, len(self.outputs.held)
            )

    def counters(self) -> dict[str, int]:
        h = self.host.counters
        contexts = self.host.contexts
        out = {
            "strategies": len(contexts),
            "running": sum(1 for c in contexts if c.running),
            "disabled": h["disabled"],
            "callbacks": sum(c.counters["callbacks"] for c in contexts),
            "orders_sent": h["requests"],
            "errors": h["strategy_errors"],
            "fills": sum(c.counters["fills"] for c in contexts),
            "rejects": sum(c.counters["rejects"] for c in contexts),
            "working_orders": sum(len(c.orders_book) for c in contexts),
            "md_messages": h["md_messages"],
            "md_gaps": h["md_gaps"],
            "md_bad": h["md_bad"],
            "reports": h["reports"],
            "positions": h["positions"],
            "bad_messages": h["bad_messages"],
        }
        out.update(self.outputs.c)
        out.update(self.c)
        out["phase"] = (CONNECTING, RECOVERING, RUNNING, STOPPED).index(self.phase)
        return out

    # -- start ------------------------------------------------------------------------------------
    def _starting(self, now: int) -> int:
        if self.phase == CONNECTING:
            if not self._oms_reachable() and now < self._deadline:
                return 0
            if not self._oms_reachable():
                log.warning(
                    "strategy daemon %s: the oms is not reachable after %d ms: starting without its state",
                    self.role_name,
                    self.connect_wait_ns // MS,
                )
                self._run()
                return 1
            self.phase = RECOVERING
            self._deadline = now + self.recover_timeout_ns
            self._state_images = self.state_sub.counters.images_joined
            self._unsent = [QueryType.Orders, QueryType.Positions]
            self._send_queries()
            return 1
        if self._pending or self._unsent:
            if now < self._deadline:
                return 0
            self.c["recovery_timeouts"] += 1
            log.warning(
                "strategy daemon %s: no complete answer from the oms within %d ms: starting (%s)",
                self.role_name,
                self.recover_timeout_ns // MS,
                ", ".join(sorted({*self._pending.values(), *(q.name.lower() for q in self._unsent)})),
            )
        self._run()
        return 1

    def _oms_reachable(self) -> bool:
        orders = self.outputs.orders
        return orders.is_connected and self._control.is_connected and self.state_sub.is_connected

    def _run(self) -> None:
        self.phase = RUNNING
        self._unsent.clear()
        self.host.start()
        canceled = 0
        if self.recovered_orders == "cancel":
            for ctx in self.host.contexts:
                for order in ctx.orders():
                    if order.external and ctx.cancel(order):
                        canceled += 1
        self.c["recovered_canceled"] += canceled
        log.info(
            "strategy daemon %s: running; %d working orders and %d positions recovered from the oms%s",
            self.role_name,
            self.c["recovered_orders"],
            self.c["recovered_positions"],
            f", {canceled} of the orders cancelled" if canceled else "",
        )

    def _send_queries(self) -> None:
        unsent = []
        for query_type in self._unsent:
            corr = self.host.next_correlation_id()
            payload = Query.encode_bytes(
                correlationId=corr,
                clientId=self.host.client_id,
                queryType=query_type,
                sendTs=self.clock.time_ns(),
                operator=self._operator,
            )
            if self._control.offer(payload) is True:
                self._pending[corr] = "orders" if query_type == QueryType.Orders else "positions"
            else:
                unsent.append(query_type)  # retried next cycle
        self._unsent = unsent

    def _watch_state_stream(self) -> None:
        """A new publisher on the state stream is a (re)started oms: ask for its view again."""
        joined = self.state_sub.counters.images_joined
        if joined != self._state_images:
            self._state_images = joined
            if not self._unsent:
                self.c["resyncs"] += 1
                self._unsent = [QueryType.Orders, QueryType.Positions]

    # -- inputs -----------------------------------------------------------------------------------
    def _state_dispatcher(self) -> MessageDispatcher:
        on_payload = self.host.on_payload
        d = aerodesk_dispatcher(default_handler=self._ignored, label="state")
        d.on(ExecutionReport.TEMPLATE_ID, lambda frame, _h: on_payload(frame))
        d.on(PositionUpdate.TEMPLATE_ID, lambda frame, _h: on_payload(frame))
        d.on(OrdersSnapshot.TEMPLATE_ID, self._snapshot)
        d.on(PositionsSnapshot.TEMPLATE_ID, self._snapshot)
        d.on(ControlAck.TEMPLATE_ID, self._ack)
        return d

    def _md_dispatcher(self) -> MessageDispatcher:
        on_payload = self.host.on_payload
        markets = self.host.markets
        read_instrument = _INSTRUMENT.unpack_from
        c = self.c

        def book_or_trade(frame: bytes, _header: Any) -> None:
            if read_instrument(frame, _HEADER)[0] in markets:
                on_payload(frame)
            else:
                c["md_other"] += 1  # an instrument none of its strategies trades: not even decoded

        d = aerodesk_dispatcher(label="market_data")
        for message in (BookSnapshot, BookDelta, Trade):
            d.on(message.TEMPLATE_ID, book_or_trade)
        d.on(FeedState.TEMPLATE_ID, self._feed_state)
        return d

    def _ignored(self, _frame: bytes, _header: Any) -> None:
        self.c["ignored"] += 1  # account state, risk events, kill-switch state: not a strategy's input

    def _snapshot(self, frame: bytes, _header: Any) -> None:
        m = decode(frame)
        self.host.on_message(m.TEMPLATE_ID, m)
        if m.clientId != self.host.client_id:
            return
        rows = m.orders if isinstance(m, OrdersSnapshot) else m.positions
        n = len(rows)
        ours = sum(1 for row in rows if row.strategyId in self._strategy_ids)
        what = self._pending.get(m.correlationId)
        if what is None:
            return
        self.c["recovered_orders" if what == "orders" else "recovered_positions"] += ours
        if n < PAGE_SIZE:
            del self._pending[m.correlationId]

    def _ack(self, frame: bytes, _header: Any) -> None:
        m = decode(frame)
        if m.clientId != self.host.client_id or m.correlationId not in self._pending:
            return
        if m.status == AckStatus.Refused:
            what = self._pending.pop(m.correlationId)
            self.c["recovery_refused"] += 1
            log.warning("strategy daemon %s: the oms refused the %s query: %s", self.role_name, what, m.text)

    def _feed_state(self, frame: bytes, _header: Any) -> None:
        m = decode(frame)
        if m.instrumentId:
            self.host.on_message(m.TEMPLATE_ID, m)
            return
        self.c["whole_feed_states"] += 1  # the whole feed: every book the host keeps
        if m.status.is_unknown:
            self.host.counters["bad_messages"] += 1
            return
        for iid in self.host.markets:
            one = FeedState.encode_bytes(
                instrumentId=iid,
                ts=m.ts,
                status=m.status,
                expectedSeq=m.expectedSeq,
                receivedSeq=m.receivedSeq,
                gapCount=m.gapCount,
                text=m.text or "",
            )
            self.host.on_payload(one)

    # -- local refusals ---------------------------------------------------------------------------
    def refused(self, report: bytes) -> None:
        """A request the oms could not be sent: its refusal reaches the host on the next cycle, not from
        inside the strategy callback that made the request."""
        self._refusals.append(report)

    def _feed_refusals(self) -> int:
        refusals, self._refusals = self._refusals, []
        for report in refusals:
            self.host.on_payload(report)
        return len(refusals)
