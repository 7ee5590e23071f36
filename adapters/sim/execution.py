"""The sim venue's execution client: orders in, venue reports out.

It wraps core/sim's SimVenue (one matching engine per instrument of the venue, behind the latency
model of configs/venues.toml) and translates the bus messages with core/sim/wire.py, the one
translation the backtest's venue link uses too: decoded NewOrder / CancelOrder / ReplaceOrder views
become core/sim requests, and venue reports become ExecutionReport messages. Every order trades for
the client's `account_id`; see core/sim/wire.py for the identity mapping and the report fields.
"""

from __future__ import annotations

from typing import Any

from adapters.sim.config import SimExecClientConfig
from adapters.sim.providers import SimInstrumentProvider
from core.marketdata.events import MarketEvent
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest
from core.sim.reports import VenueReport
from core.sim.venue import SimVenue
from core.sim.wire import (
    cancel_request,
    encode_execution_report,
    execution_report_fields,
    new_order_request,
    replace_request,
)

# The translation lives in core/sim/wire.py; re-exported here, where the exec daemon looks it up.
__all__ = [
    "SimExecutionClient",
    "cancel_request",
    "execution_report_fields",
    "new_order_request",
    "replace_request",
]


class SimExecutionClient:
    def __init__(
        self, config: SimExecClientConfig | None = None, provider: SimInstrumentProvider | None = None
    ) -> None:
        self.config = config = config or SimExecClientConfig()
        self.provider = provider if provider is not None else SimInstrumentProvider(venue=config.venue)
        self.venue = SimVenue(self.provider.instruments(), self.provider.config, book=config.book)
        self.venue_id = self.provider.venue_id
        self.seq = 0  # sequence number of the ExecutionReports this client has encoded

    # -- core requests ---------------------------------------------------------------------------
    def submit(self, req: NewOrderRequest, now_ns: int) -> int:
        """Returns the time the order acts at the venue."""
        return self.venue.submit(req, now_ns)

    def cancel(self, req: CancelRequest, now_ns: int) -> int:
        return self.venue.cancel(req, now_ns)

    def replace(self, req: ReplaceRequest, now_ns: int) -> int:
        return self.venue.replace(req, now_ns)

    def on_market(self, event: MarketEvent) -> None:
        self.venue.on_market(event)

    def poll(self, now_ns: int) -> list[VenueReport]:
        """Reports delivered by `now_ns`."""
        return self.venue.poll_reports(now_ns)

    def next_due(self) -> int | None:
        return self.venue.next_due()

    @property
    def round_trip_ns(self) -> int:
        """How long after a request is sent every report it causes when it acts has been delivered
        (order latency + report latency): a reconciliation query is answered no sooner."""
        config = self.venue.config
        return config.order_latency_ns + config.report_latency_ns

    # -- bus messages ----------------------------------------------------------------------------
    def on_new_order(self, msg: Any, now_ns: int) -> int:
        return self.submit(new_order_request(msg, self.config.account_id), now_ns)

    def on_cancel_order(self, msg: Any, now_ns: int) -> int:
        return self.cancel(cancel_request(msg, self.config.account_id), now_ns)

    def on_replace_order(self, msg: Any, now_ns: int) -> int:
        return self.replace(replace_request(msg, self.config.account_id), now_ns)

    def encode_report(self, report: VenueReport, buffer: Any, offset: int = 0) -> int:
        """Write the report as an ExecutionReport at `offset`; returns the bytes written."""
        self.seq += 1
        return encode_execution_report(report, self.venue_id, self.seq, buffer, offset)
