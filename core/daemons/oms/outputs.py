"""The engine's outputs on the bus: state (execution reports, positions, account state, risk events,
kill-switch state, acks and query replies) and venue_orders (orders, cancels, replaces, reconciliation
queries), each an ordered outbox.

An output the stream pushes back on (back pressure, a term rotation) is held and retried, in order, on
the next duty cycle: nothing is reordered and nothing is dropped for being slow. One that cannot be
delivered at all (no subscriber, driver lost) is dropped and counted: on the state stream that only
means nobody was listening; on venue_orders the venue never sees it and the next reconciliation
settles the order (see agent.py).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from core.agent.ratelimit import RateLimitedLog
from core.bus.publisher import OfferFailure, Publisher
from core.codec.messages import ExecType, decode

log = logging.getLogger("aerodesk.oms")

_HOLD = (OfferFailure.BACK_PRESSURED, OfferFailure.ADMIN_ACTION)
MAX_HELD = 1_000_000  # outputs held for a stalled stream before the oldest are dropped (and counted)
_REJECTS = frozenset({ExecType.Rejected, ExecType.CancelRejected, ExecType.ReplaceRejected})


class Outbox:
    """One publisher with an ordered queue of what it could not send yet."""

    def __init__(self, publisher: Publisher, name: str) -> None:
        self.publisher = publisher
        self.name = name
        self.held: deque[bytes] = deque()
        self.sent = 0
        self.dropped = 0
        self.held_total = 0
        self._report = RateLimitedLog(log)

    def send(self, payload: bytes) -> bool | None:
        """True sent, None held for later, False dropped."""
        if self.held:
            self._hold(payload)
            return None
        result = self.publisher.offer(payload)
        if result is True:
            self.sent += 1
            return True
        if result in _HOLD:
            self._hold(payload)
            return None
        self._drop(result)
        return False

    def flush(self) -> int:
        sent = 0
        held = self.held
        while held:
            result = self.publisher.offer(held[0])
            if result is True:
                held.popleft()
                self.sent += 1
                sent += 1
            elif result in _HOLD:
                break
            else:
                held.popleft()
                self._drop(result)
        return sent

    def _hold(self, payload: bytes) -> None:
        self.held.append(payload)
        self.held_total += 1
        if len(self.held) > MAX_HELD:
            self.held.popleft()
            self._drop(OfferFailure.BACK_PRESSURED)

    def _drop(self, why: OfferFailure) -> None:
        self.dropped += 1
        quiet = self.name == "state" and why is OfferFailure.NOT_CONNECTED  # nobody listening: normal
        self._report.report(
            f"drop:{why.value}",
            f"oms: {self.name} output not sent ({why.value})",
            level=logging.INFO if quiet else logging.WARNING,
        )


class BusOutputs:
    """OmsOutputs on the bus. `on_venue_drop(venue_id)` is told when a venue order could not be sent."""

    def __init__(
        self,
        state: Publisher,
        venue_orders: Publisher,
        on_venue_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.state = Outbox(state, "state")
        self.venue = Outbox(venue_orders, "venue_orders")
        self.on_venue_drop = on_venue_drop
        self.rejects: dict[str, int] = {}  # refusals by reason name (execution reports)

    def flush(self) -> int:
        return self.state.flush() + self.venue.flush()

    @property
    def held(self) -> int:
        return len(self.state.held) + len(self.venue.held)

    # -- OmsOutputs ------------------------------------------------------------------------------
    def execution_report(self, payload: bytes) -> None:
        self._count_reject(payload)
        self.state.send(payload)

    def venue_order(self, venue_id: int, payload: bytes) -> None:
        if self.venue.send(payload) is False and self.on_venue_drop is not None:
            self.on_venue_drop(venue_id)

    def position_update(self, payload: bytes) -> None:
        self.state.send(payload)

    def account_state(self, payload: bytes) -> None:
        self.state.send(payload)

    def risk_event(self, payload: bytes) -> None:
        self.state.send(payload)

    def kill_switch_state(self, payload: bytes) -> None:
        self.state.send(payload)

    def control_ack(self, client_id: int, payload: bytes) -> None:
        self.state.send(payload)

    def query_reply(self, client_id: int, payload: bytes) -> None:
        self.state.send(payload)

    def _count_reject(self, payload: bytes) -> None:
        m = decode(payload)
        if m.execType in _REJECTS:
            name = m.reason.name
            self.rejects[name] = self.rejects.get(name, 0) + 1


class DiscardOutputs:
    """Outputs of the WAL replay at start: already published by the process that first produced them."""

    def __init__(self) -> None:
        self.count = 0

    def _discard(self, *_args: object) -> None:
        self.count += 1

    execution_report = position_update = account_state = risk_event = kill_switch_state = _discard
    venue_order = control_ack = query_reply = _discard
