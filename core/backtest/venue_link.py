"""The link between the oms and the simulated venue, as the sim exec gateway makes it: the oms's venue
orders (SBE NewOrder / CancelOrder / ReplaceOrder, orderId set) become core/sim requests, and the venue's
reports become SBE ExecutionReports for the oms, through the one translation both use (core/sim/wire.py).

Every order trades for one account (`account_id`): the venue's self-trade prevention then sees the
desk's strategies as one owner. Client order ids at the venue are the strategy's clOrdIds; the venue
keys them by (account, strategy), so ids unique per strategy are unique there too.
"""

from __future__ import annotations

from core.sim.orders import CancelRequest, NewOrderRequest
from core.sim.reports import VenueReport
from core.sim.venue import SimVenue
from core.sim.wire import decode_venue_request, execution_report_bytes


class SimVenueLink:
    def __init__(self, venue: SimVenue, venue_id: int, account_id: int = 1) -> None:
        self.venue = venue
        self.venue_id = venue_id
        self.account_id = account_id
        self.seq = 0
        self.requests = 0
        self.refused = 0  # payloads that were not an order request

    def send(self, payload: bytes, now_ns: int) -> None:
        """One venue order from the oms, submitted at now_ns (the venue adds its order latency)."""
        req = decode_venue_request(payload, self.account_id)
        if req is None:
            self.refused += 1
            return
        if isinstance(req, NewOrderRequest):
            self.venue.submit(req, now_ns)
        elif isinstance(req, CancelRequest):
            self.venue.cancel(req, now_ns)
        else:
            self.venue.replace(req, now_ns)
        self.requests += 1

    def reports(self, now_ns: int) -> list[bytes]:
        """The venue's reports delivered by now_ns, as encoded ExecutionReports."""
        return [self.encode(r) for r in self.venue.poll_reports(now_ns)]

    def encode(self, r: VenueReport) -> bytes:
        self.seq += 1
        return execution_report_bytes(r, self.venue_id, self.seq)
