"""ControlClient: how the CLI, the TUI and tools talk to the oms.

Requests (kill switch, flatten, cancel-all, limits, queries on the control stream; manual orders on
the order-requests stream) carry a correlation id, this client's id and the operator identity. The
oms answers on the state stream with the client id set; this client keeps only what is addressed to
it (ControlAck, query snapshot pages, execution reports of its manual orders) and files it by
correlation id. It observes the state stream untethered: a slow client never slows the desk.

Non-blocking use (TUI): call `send_*`, then `do_work()` in the duty cycle and read `replies(cid)`.
Blocking use (CLI): `wait_ready(timeout_s)` once, then `wait_ack(cid, timeout_s)` / `query(...)` run the
duty cycle themselves.

A new publication takes a moment to link to the oms's subscription, and a new (untethered) subscription
joins the state stream at its live end: a request sent before both are connected is refused at once
(NOT_CONNECTED), and an answer published before our subscription joined is never seen. `wait_ready`
waits for both; a driver that runs with nothing subscribed to the control stream means no oms answers.

Besides what is addressed to it, the client files RiskEvents carrying one of its correlation ids (the
progress of a flatten it asked for; RiskEvent has no clientId) and keeps the latest KillSwitchState
(who engaged the kill switch and since when, which the Risk query's reply does not carry).

Query replies are paginated (core.oms.queries): pages with the query's correlation id, every page but
the last holding exactly PAGE_SIZE entries; a short (possibly empty) page ends the reply.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.agent.idle import IdleStrategy, backoff
from core.bus.client import BusClient
from core.bus.dispatch import aerodesk_dispatcher
from core.codec.messages import (
    AckStatus,
    CancelAll,
    CancelOrder,
    ControlAck,
    Decimal64,
    ExecutionReport,
    Flatten,
    KillAction,
    KillSwitch,
    KillSwitchState,
    NewOrder,
    OrderFlags,
    OrdersSnapshot,
    OrdType,
    PositionsSnapshot,
    Query,
    QueryType,
    ReplaceOrder,
    RiskEvent,
    RiskSnapshot,
    SetLimit,
    Side,
    TimeInForce,
    decode,
)
from core.control.errors import ControlTimeout, OmsNotAnswering, Refused
from core.control.operator import current_operator
from core.oms.money import decimal64
from core.oms.queries import PAGE_SIZE

TERMINAL_ACKS = (AckStatus.Done, AckStatus.Refused)
_SNAPSHOT_GROUP = {
    OrdersSnapshot.TEMPLATE_ID: "orders",
    PositionsSnapshot.TEMPLATE_ID: "positions",
    RiskSnapshot.TEMPLATE_ID: "limits",
}

__all__ = ["ControlClient", "ControlTimeout", "OmsNotAnswering", "Reply", "new_client_id"]


@dataclass
class Reply:
    """Everything the oms sent back for one correlation id, in arrival order."""

    correlation_id: int
    acks: list[Any] = field(default_factory=list)  # decoded ControlAck
    pages: list[Any] = field(default_factory=list)  # decoded snapshot pages
    reports: list[Any] = field(default_factory=list)  # decoded ExecutionReports (manual orders)
    events: list[Any] = field(default_factory=list)  # decoded RiskEvents with this correlation id

    @property
    def answered(self) -> bool:
        return bool(self.acks or self.pages or self.reports or self.events)

    @property
    def size(self) -> int:
        return len(self.acks) + len(self.pages) + len(self.reports) + len(self.events)

    @property
    def last_ack(self) -> Any | None:
        return self.acks[-1] if self.acks else None

    @property
    def final(self) -> bool:
        ack = self.last_ack
        return ack is not None and ack.status in TERMINAL_ACKS

    @property
    def pages_complete(self) -> bool:
        if not self.pages:
            return False
        last = self.pages[-1]
        return len(getattr(last, _SNAPSHOT_GROUP[last.TEMPLATE_ID])) < PAGE_SIZE


def new_client_id() -> int:
    """A random non-zero 32-bit id: unique enough among the clients of one desk."""
    return (secrets.randbits(31) << 1 | 1) & 0xFFFFFFFF


class ControlClient:
    def __init__(
        self,
        bus: BusClient,
        tool: str,
        *,
        client_id: int | None = None,
        on_message: Callable[[Any], None] | None = None,
    ) -> None:
        self.bus = bus
        self.client_id = client_id or new_client_id()
        self.operator = current_operator(tool)
        self.role_name = f"control-client.{tool}"
        self._control = bus.publisher("control")
        self._orders = bus.publisher("order_requests")
        self._on_message = on_message
        dispatcher = aerodesk_dispatcher(decoder=decode, default_handler=_ignore)
        for template in (ControlAck, OrdersSnapshot, PositionsSnapshot, RiskSnapshot, ExecutionReport):
            dispatcher.on(template.TEMPLATE_ID, self._on_state)
        dispatcher.on(RiskEvent.TEMPLATE_ID, self._on_risk_event)
        dispatcher.on(KillSwitchState.TEMPLATE_ID, self._on_kill_state)
        self._state = bus.subscriber("state", dispatcher, tether=False)
        self.kill_state: Any | None = None  # the latest KillSwitchState seen
        self._replies: dict[int, Reply] = {}
        self._watched: dict[int, int] = {}  # order id -> correlation id its reports are filed under
        self._next_correlation = (os.getpid() & 0xFFFF) << 32 | secrets.randbits(20) << 8
        self._buf = bytearray(4096)

    # -- Agent duty cycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        pass

    def do_work(self) -> int:
        return self._state.poll()

    def on_close(self) -> None:
        pass

    def replies(self, correlation_id: int) -> Reply | None:
        return self._replies.get(correlation_id)

    def forget(self, correlation_id: int) -> None:
        self._replies.pop(correlation_id, None)
        if self._watched:
            self._watched = {o: c for o, c in self._watched.items() if c != correlation_id}

    # -- requests -----------------------------------------------------------------------------------

    def send_kill(self, reason: str) -> int:
        return self._send_control(KillSwitch, action=KillAction.Engage, reason=reason)

    def send_release(self, reason: str) -> int:
        return self._send_control(KillSwitch, action=KillAction.Release, reason=reason)

    def send_flatten(self, instrument_id: int = 0, strategy_id: int = 0, reason: str = "") -> int:
        return self._send_control(Flatten, instrumentId=instrument_id, strategyId=strategy_id, reason=reason)

    def send_cancel_all(self, instrument_id: int = 0, strategy_id: int = 0, reason: str = "") -> int:
        return self._send_control(
            CancelAll, instrumentId=instrument_id, strategyId=strategy_id, reason=reason
        )

    def send_set_limit(
        self, name: str, value: Decimal, *, strategy_id: int = 0, instrument_id: int = 0, reason: str = ""
    ) -> int:
        return self._send_control(
            SetLimit,
            name=name,
            strategyId=strategy_id,
            instrumentId=instrument_id,
            value=Decimal64(*decimal64(value)),
            reason=reason,
        )

    def send_query(self, query_type: QueryType) -> int:
        return self._send_control(Query, queryType=query_type)

    def send_new_order(
        self,
        *,
        instrument_id: int,
        side: Side,
        qty: int,
        price: int | None,
        ord_type: OrdType = OrdType.Limit,
        tif: TimeInForce = TimeInForce.GTC,
        cl_ord_id: int | None = None,
        strategy_id: int = 0,
        venue_id: int = 0,
    ) -> int:
        cid = self._correlation()
        length = NewOrder.encode(
            self._buf,
            0,
            correlationId=cid,
            clientId=self.client_id,
            strategyId=strategy_id,
            clOrdId=cl_ord_id if cl_ord_id is not None else cid,
            orderId=0,
            instrumentId=instrument_id,
            venueId=venue_id,
            side=side,
            ordType=ord_type,
            timeInForce=tif,
            flags=OrderFlags.manual,
            price=price,
            qty=qty,
            sendTs=time.time_ns(),
            triggerTs=0,
            operator=self.operator,
        )
        self._offer(self._orders, length, cid)
        return cid

    def send_cancel_order(self, *, order_id: int, instrument_id: int = 0, strategy_id: int = 0) -> int:
        cid = self._correlation()
        length = CancelOrder.encode(
            self._buf,
            0,
            correlationId=cid,
            clientId=self.client_id,
            strategyId=strategy_id,
            clOrdId=cid,
            origClOrdId=0,
            orderId=order_id,
            instrumentId=instrument_id,
            venueId=0,
            sendTs=time.time_ns(),
            operator=self.operator,
        )
        self._offer(self._orders, length, cid)
        return cid

    def send_replace_order(
        self, *, order_id: int, qty: int, price: int | None, instrument_id: int = 0, strategy_id: int = 0
    ) -> int:
        cid = self._correlation()
        length = ReplaceOrder.encode(
            self._buf,
            0,
            correlationId=cid,
            clientId=self.client_id,
            strategyId=strategy_id,
            clOrdId=cid,
            origClOrdId=0,
            orderId=order_id,
            instrumentId=instrument_id,
            venueId=0,
            price=price,
            qty=qty,
            sendTs=time.time_ns(),
            operator=self.operator,
        )
        self._offer(self._orders, length, cid)
        return cid

    # -- blocking helpers (CLI) -----------------------------------------------------------------------

    def is_ready(self) -> bool:
        """Requests can reach the oms and its answers can reach us."""
        return self._control.is_connected and self._orders.is_connected and self._state.is_connected

    def wait_ready(self, timeout_s: float, idle: IdleStrategy | None = None) -> None:
        """Until requests and answers can flow (OmsNotAnswering after timeout_s, saying what is missing)."""
        idle = idle or backoff(max_park_ns=1_000_000)
        deadline = time.monotonic() + timeout_s
        while not self.is_ready():
            if time.monotonic() >= deadline:
                raise OmsNotAnswering(self._not_ready_text(timeout_s))
            idle.idle(self.bus.do_work() + self.do_work())

    def _not_ready_text(self, timeout_s: float) -> str:
        missing = [
            what
            for what, ok in (
                ("nothing subscribes to the control stream", self._control.is_connected),
                ("nothing subscribes to the order requests stream", self._orders.is_connected),
                ("nothing publishes on the state stream", self._state.is_connected),
            )
            if not ok
        ]
        return (
            f"desk {self.bus.instance} is running but no oms answers: after {timeout_s:g} s "
            + ", ".join(missing)
            + " (is the oms daemon up? see `aerodesk status`)"
        )

    def wait(
        self,
        correlation_id: int,
        done: Callable[[Reply], bool],
        timeout_s: float,
        idle: IdleStrategy | None = None,
        progress: Callable[[Reply], None] | None = None,
    ) -> Reply:
        """Run the duty cycle until `done(reply)` or the timeout.

        `progress(reply)` is called whenever something new arrived for it. On the timeout: OmsNotAnswering
        when nothing at all came back, else ControlTimeout saying what did."""
        idle = idle or backoff(max_park_ns=1_000_000)
        deadline = time.monotonic() + timeout_s
        seen = 0
        while True:
            work = self.bus.do_work() + self.do_work()
            reply = self._replies.get(correlation_id)
            if reply is not None:
                if progress is not None and reply.size != seen:
                    seen = reply.size
                    progress(reply)
                if done(reply):
                    return reply
            if time.monotonic() >= deadline:
                if reply is None or not reply.answered:
                    raise OmsNotAnswering(
                        f"desk {self.bus.instance}: no answer from the oms within {timeout_s:g} s"
                    )
                raise ControlTimeout(self._timeout_text(reply, timeout_s))
            idle.idle(work)

    def wait_ack(
        self,
        correlation_id: int,
        timeout_s: float,
        *,
        final: bool = True,
        progress: Callable[[Reply], None] | None = None,
    ) -> Reply:
        """Until the first ack, or (final=True) until a Done/Refused ack."""
        done = (lambda r: r.final) if final else (lambda r: bool(r.acks))
        return self.wait(correlation_id, done, timeout_s, progress=progress)

    def query(self, query_type: QueryType, timeout_s: float) -> list[Any]:
        """Send a query and return its reply's pages (decoded snapshot messages, in order)."""
        cid = self.send_query(query_type)
        try:
            reply = self.wait(cid, lambda r: r.pages_complete or r.final, timeout_s)
        finally:
            self.forget(cid)
        if not reply.pages and reply.final:
            ack = reply.last_ack
            raise Refused(ack.reason.name, ack.text or "")
        return reply.pages

    # -- internals ------------------------------------------------------------------------------------

    def _send_control(self, message: Any, **fields: Any) -> int:
        cid = self._correlation()
        length = message.encode(
            self._buf,
            0,
            correlationId=cid,
            clientId=self.client_id,
            sendTs=time.time_ns(),
            operator=self.operator,
            **fields,
        )
        self._offer(self._control, length, cid)
        return cid

    def _offer(self, publisher: Any, length: int, correlation_id: int) -> None:
        self._replies[correlation_id] = Reply(correlation_id)
        result = publisher.offer(bytes(self._buf[:length]))
        if not result:
            self._replies.pop(correlation_id, None)
            raise ConnectionError(
                f"could not send to the oms on stream {publisher.stream.name}: {result.value} "
                "(is the oms running?)"
            )
        publisher.client.ring()  # the oms sleeps on the desk's doorbell: wake it for the command now

    def _correlation(self) -> int:
        self._next_correlation += 1
        return self._next_correlation

    def watch_order(self, order_id: int, correlation_id: int) -> None:
        """File every ExecutionReport of this order under correlation_id from now on (an order's later
        reports carry the correlation and client ids of the request that created it)."""
        self._watched[order_id] = correlation_id

    def _on_state(self, msg: Any, _header: Any) -> None:
        if msg.TEMPLATE_ID == ExecutionReport.TEMPLATE_ID:
            self._on_report(msg)
            return
        if msg.clientId != self.client_id:
            return
        reply = self._replies.get(msg.correlationId)
        if reply is not None:
            if msg.TEMPLATE_ID == ControlAck.TEMPLATE_ID:
                reply.acks.append(msg)
            else:
                reply.pages.append(msg)
        if self._on_message is not None:
            self._on_message(msg)

    def _on_report(self, msg: Any) -> None:
        """Reports of our requests: ours by client id, or by one of our correlation ids (a cancel of an
        order another client placed is reported to that client, with our cancel's correlation id), or
        of an order we watch."""
        reply = self._replies.get(msg.correlationId)
        if reply is None:
            watched = self._watched.get(msg.orderId) if msg.orderId else None
            reply = self._replies.get(watched) if watched is not None else None
        if reply is None:
            return
        reply.reports.append(msg)
        if self._on_message is not None:
            self._on_message(msg)

    def _on_risk_event(self, msg: Any, _header: Any) -> None:
        reply = self._replies.get(msg.correlationId) if msg.correlationId else None
        if reply is not None:
            reply.events.append(msg)
            if self._on_message is not None:
                self._on_message(msg)

    def _on_kill_state(self, msg: Any, _header: Any) -> None:
        self.kill_state = msg

    def _timeout_text(self, reply: Reply | None, timeout_s: float) -> str:
        if reply is None or not (reply.acks or reply.pages):
            return f"no answer from the oms within {timeout_s:g} s (is the oms running?)"
        ack = reply.last_ack
        if ack is not None:
            return f"no final answer within {timeout_s:g} s; last: {ack.status.name}: {ack.text}"
        return f"reply incomplete after {timeout_s:g} s ({len(reply.pages)} pages)"


def _ignore(_msg: Any, _header: Any) -> None:
    """Other state messages (positions, account state...) are not this client's business."""
