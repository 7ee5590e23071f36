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
from collections.abc import Callable

from core.bus.publisher import OfferFailure, Publisher
from core.codec.messages import ExecType, decode
from core.daemons.outbox import Outbox

log = logging.getLogger("aerodesk.oms")

_REJECTS = frozenset({ExecType.Rejected, ExecType.CancelRejected, ExecType.ReplaceRejected})


def _nobody_listening(why: OfferFailure) -> bool:
    return why is OfferFailure.NOT_CONNECTED  # on the state stream: normal, nobody has to read it


class BusOutputs:
    """OmsOutputs on the bus. `on_venue_drop(venue_id)` is told when a venue order could not be sent."""

    def __init__(
        self,
        state: Publisher,
        venue_orders: Publisher,
        on_venue_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.state = Outbox(state, "oms: state output", log, quiet=_nobody_listening)
        self.venue = Outbox(venue_orders, "oms: venue_orders output", log)
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
