"""When the oms asks its venues what they hold (OmsEngine.reconcile_requests), and what it waits for.

A reconciliation is wanted after the WAL replay at start, when a venue gateway (re)joins the
venue_reports stream (an exec daemon that restarted has lost its orders), after a venue order could
not be sent, and after a venue report could not be journaled. It starts once a venue gateway listens
on venue_orders; each venue answers with Restated reports and a ControlAck whose correlationId is the
query's (engine.py, exec.py).

While queries are out, new order requests and Flatten commands wait (they stay in the tethered
stream, or in `deferred`): an order sent after the query would not be in the venue's answer, and
the engine would end it as "unknown to the venue". Kill switch, cancel-all and limit changes are
not held (they create no order). A query unanswered after reconcile_timeout_ms is asked again (a
gateway that had just joined may not have been listening yet), MAX_ATTEMPTS times in all; then the
oms goes on without it (a late answer still completes it).

"A venue gateway listens" means one publishes on venue_reports: venue_orders also has the recorder
as a subscriber, so its connection says nothing about the venues. An exec daemon opens venue_reports
only once it listens on venue_orders, so the query sent when it joins is heard, not lost until the
timeout asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.oms.engine import OMS_CLIENT_ID, RECONCILE_CORRELATION

log = logging.getLogger("aerodesk.oms")

MAX_ATTEMPTS = 3


class Reconciler:
    """`requests(venues)`: the queries for every venue with working orders and for `venues`;
    `working_venues()`: the venues with working orders now."""

    def __init__(
        self,
        requests: Callable[[set[int]], list[tuple[int, bytes]]],
        send: Callable[[int, bytes], None],
        venue_listening: Callable[[], bool],
        timeout_ns: int,
        working_venues: Callable[[], set[int]],
    ) -> None:
        self._requests = requests
        self._send = send
        self._venue_listening = venue_listening
        self._working_venues = working_venues
        self.timeout_ns = timeout_ns
        self.wanted = True  # after the replay at start
        self.why = "start"
        # Venues with working orders when a reconciliation was wanted: asked even if those orders end
        # before the queries go out (a dead-man cancel confirmed first, say), because the venue may
        # have filled them while the oms did not hear it, and only its restatement books those fills.
        self.owed: set[int] = set(working_venues())
        self.waiting: dict[int, int] = {}  # venue id -> correlationId of the query out
        self._deadline = 0
        self._attempts = 0
        self.started = 0
        self.finished = 0
        self.timeouts = 0

    @property
    def holding(self) -> bool:
        """New orders and flattens wait while queries are out."""
        return bool(self.waiting)

    def want(self, why: str) -> None:
        if not self.wanted:
            log.info("oms: reconciliation wanted: %s", why)
        self.wanted = True
        self.why = why
        self._attempts = 0
        self.owed |= self._working_venues()

    def do_work(self, now: int) -> int:
        if self.waiting:
            if now < self._deadline:
                return 0
            self.timeouts += 1
            retry = self._attempts < MAX_ATTEMPTS
            log.warning(
                "oms: no reconciliation answer from venue(s) %s within %d ms (attempt %d of %d)%s",
                sorted(self.waiting),
                self.timeout_ns // 1_000_000,
                self._attempts,
                MAX_ATTEMPTS,
                ": asking again" if retry else ": going on without it",
            )
            if retry:
                self.wanted = True
                self.owed |= set(self.waiting)
            self.waiting.clear()
            return 1
        if not self.wanted or not self._venue_listening():
            return 0
        self.wanted = False
        requests = self._requests(self.owed)
        self.owed = set()
        if not requests:
            log.info("oms: nothing to reconcile (%s): no working orders", self.why)
            return 0
        for venue_id, payload in requests:
            self.waiting[venue_id] = RECONCILE_CORRELATION | venue_id
            self._send(venue_id, payload)
        self._deadline = now + self.timeout_ns
        self._attempts += 1
        self.started += 1
        log.info("oms: reconciling with venue(s) %s (%s)", sorted(self.waiting), self.why)
        return 1

    def on_venue_ack(self, correlation_id: int, client_id: int) -> bool:
        """A venue's ControlAck; True when it ended one of our queries."""
        if client_id != OMS_CLIENT_ID or not correlation_id & RECONCILE_CORRELATION:
            return False
        venue_id = correlation_id & 0xFFFF
        if self.waiting.get(venue_id) != correlation_id:
            return False
        del self.waiting[venue_id]
        if not self.waiting:
            self.finished += 1
        return True
