"""Bus plumbing for daemon tests: decoded messages from a stream, orders onto venue_orders."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from core.bus import BusClient, Subscriber, aerodesk_dispatcher
from core.codec.messages import (
    CancelOrder,
    NewOrder,
    OperatorIdentity,
    OrdType,
    Query,
    QueryType,
    Side,
    TimeInForce,
    decode,
)

SAFETY_TIMEOUT_S = 60.0  # a hang guard, not a performance limit
OPERATOR = OperatorIdentity(user="test", host="localhost", pid=1, tool="pytest")


class Collector:
    """Every message of one stream, decoded, in arrival order."""

    def __init__(self, bus: BusClient, stream: str, *, tether: bool = True) -> None:
        self.messages: list[Any] = []
        self.sub: Subscriber = bus.subscriber(
            stream,
            aerodesk_dispatcher(default_handler=lambda frame, _h: self.messages.append(decode(frame))),
            tether=tether,
        )

    def of(self, name: str) -> list[Any]:
        return [m for m in self.messages if name == m.NAME]


def pump(
    bus: BusClient, subs: list[Any], done: Callable[[], bool], what: str, timeout: float = SAFETY_TIMEOUT_S
):
    deadline = time.monotonic() + timeout
    while not done():
        work = bus.do_work() + sum(s.sub.poll() if isinstance(s, Collector) else s.poll() for s in subs)
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        if not work:
            time.sleep(0.001)


class OrderSender:
    """NewOrder / CancelOrder / Query onto venue_orders, as the oms would send them."""

    def __init__(self, bus: BusClient, venue_id: int = 1, client_id: int = 77) -> None:
        self.bus = bus
        self.pub = bus.publisher("venue_orders")
        self.venue_id = venue_id
        self.client_id = client_id
        self.buf = bytearray(1024)

    def wait_connected(self) -> None:
        pump(self.bus, [], lambda: self.pub.is_connected, "the exec daemon to subscribe to venue_orders")

    def send_raw(self, frame: bytes) -> None:
        assert self.pub.offer(frame) is True

    def new(
        self, order_id: int, instrument_id: int, side: Side, qty: int, price: int | None, **kw: Any
    ) -> None:
        fields = dict(
            correlationId=order_id,
            clientId=self.client_id,
            strategyId=1,
            clOrdId=order_id,
            orderId=order_id,
            instrumentId=instrument_id,
            venueId=self.venue_id,
            side=side,
            ordType=OrdType.Limit if price is not None else OrdType.Market,
            timeInForce=TimeInForce.GTC,
            flags=0,
            price=price,
            qty=qty,
            sendTs=time.time_ns(),
            triggerTs=0,
            operator=OPERATOR,
        )
        fields.update(kw)
        n = NewOrder.encode(self.buf, 0, **fields)
        self.send_raw(bytes(self.buf[:n]))

    def cancel(self, cl_ord_id: int, orig_cl_ord_id: int, order_id: int, instrument_id: int) -> None:
        n = CancelOrder.encode(
            self.buf,
            0,
            correlationId=cl_ord_id,
            clientId=self.client_id,
            strategyId=1,
            clOrdId=cl_ord_id,
            origClOrdId=orig_cl_ord_id,
            orderId=order_id,
            instrumentId=instrument_id,
            venueId=self.venue_id,
            sendTs=time.time_ns(),
            operator=OPERATOR,
        )
        self.send_raw(bytes(self.buf[:n]))

    def query_orders(self, correlation_id: int) -> None:
        n = Query.encode(
            self.buf,
            0,
            correlationId=correlation_id,
            clientId=self.client_id,
            queryType=QueryType.Orders,
            sendTs=time.time_ns(),
            operator=OPERATOR,
        )
        self.send_raw(bytes(self.buf[:n]))
