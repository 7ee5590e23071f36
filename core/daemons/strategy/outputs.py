"""The strategy host's outputs on the bus (HostOutputs): order requests to the oms, per-strategy
heartbeats for its dead-man.

Order requests keep their order. One the stream pushes back on (back pressure, a term rotation) is held
and retried, in order, on the next duty cycle; everything after it waits behind it. One that cannot be
delivered at all (nothing subscribes: the oms is down; the driver is lost) is answered on the spot
with the refusal the strategy would get from the oms (an ExecutionReport Rejected / CancelRejected /
ReplaceRejected, Reason Other, saying why), fed back to the host: the strategy learns at once that its
request went nowhere instead of waiting forever for an answer. Held requests beyond MAX_HELD are
refused the same way, oldest first.

A heartbeat that cannot be sent is counted and forgotten: the next one follows an interval later.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from core.agent.ratelimit import RateLimitedLog
from core.bus.publisher import OfferFailure, Publisher
from core.daemons.oms.refusals import refusals

log = logging.getLogger("aerodesk.strategy")

_HOLD = (OfferFailure.BACK_PRESSURED, OfferFailure.ADMIN_ACTION)
MAX_HELD = 10_000  # requests held for a stalled stream before the oldest are refused


class BusHostOutputs:
    """HostOutputs of a strategy daemon. `on_refused(report)` takes each local refusal (an encoded
    ExecutionReport) for the host: the daemon's agent feeds them to it on its next duty cycle."""

    def __init__(self, orders: Publisher, heartbeats: Publisher, now_ns: Callable[[], int]) -> None:
        self.orders = orders
        self.heartbeats = heartbeats
        self._now_ns = now_ns
        self.on_refused: Callable[[bytes], None] = _nowhere
        self.held: deque[bytes] = deque()
        self._report = RateLimitedLog(log)
        self.c = {
            "requests_sent": 0,
            "requests_held": 0,  # times a request had to wait for the stream
            "requests_refused": 0,  # answered here: the oms could not be reached
            "heartbeats_sent": 0,
            "heartbeats_dropped": 0,
        }

    # -- HostOutputs -----------------------------------------------------------------------------
    def order_request(self, strategy_id: int, payload: bytes) -> None:
        if self.held:
            self._hold(payload)
            return
        self._offer(payload)

    def heartbeat(self, strategy_id: int, payload: bytes) -> None:
        if self.heartbeats.offer(payload) is True:
            self.c["heartbeats_sent"] += 1
        else:
            self.c["heartbeats_dropped"] += 1

    # -- duty cycle ------------------------------------------------------------------------------
    def flush(self) -> int:
        """Send what is held, in order, until the stream pushes back again; returns how many went."""
        sent = 0
        held = self.held
        while held:
            payload = held.popleft()
            result = self._offer(payload, front=True)
            if result is None:
                break
            sent += result
        return sent

    def _offer(self, payload: bytes, front: bool = False) -> int | None:
        """1 sent, 0 refused, None held (back at the front of the queue when `front`)."""
        result = self.orders.offer(payload)
        if result is True:
            self.c["requests_sent"] += 1
            return 1
        if result in _HOLD:
            if front:
                self.held.appendleft(payload)
            else:
                self._hold(payload)
            return None
        self._refuse(payload, f"order request not sent: the oms cannot be reached ({result.value})")
        return 0

    def _hold(self, payload: bytes) -> None:
        self.held.append(payload)
        self.c["requests_held"] += 1
        if len(self.held) > MAX_HELD:
            self._refuse(self.held.popleft(), f"order request not sent: {MAX_HELD} requests wait for the oms")

    def _refuse(self, payload: bytes, text: str) -> None:
        self.c["requests_refused"] += 1
        self._report.report(f"refused:{text}", f"strategy daemon: {text}", level=logging.WARNING)
        for method, _client, report in refusals(payload, text, self._now_ns()):
            if method == "execution_report":
                self.on_refused(report)


def _nowhere(_report: bytes) -> None:
    raise RuntimeError("BusHostOutputs.on_refused is not connected to a host")
