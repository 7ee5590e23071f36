"""The simulated venue: one matching engine per instrument behind a deterministic latency model.

Latency is a function of the injected time only: a request submitted at `now` acts at the venue at
`now + order_latency`; a report the venue produces at `t` is delivered at `t + report_latency`.
Requests act in arrival order (ties in submission order). Market data acts at its exchange time: a
request arriving at or before an event's time acts first. The venue's time never goes back: an event
stamped earlier than the venue's time acts at the venue's time.

Nothing here reads a clock or blocks. Drive it with `submit`/`cancel`/`replace`, `on_market(event)`,
`advance(now)` and collect `poll_reports(now)`; `next_due()` says when something is next scheduled.
Bad market data (a level the book refuses) is counted in `stats` and skipped, never raised.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.book import L2Book
from core.instruments import Instrument
from core.marketdata.events import MarketEvent
from core.sim.config import SimVenueConfig
from core.sim.engine import IdSource, MatchingEngine, refuse_request, reject_new
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest, Request
from core.sim.reports import CancelRejected, RejectCode, ReplaceRejected, VenueReport


@dataclass
class VenueStats:
    requests: int = 0
    reports: int = 0
    market_events: int = 0
    market_events_unknown_instrument: int = 0  # events for instruments this venue does not trade
    market_events_bad: int = 0  # refused by the book (negative size, non-int values ...)
    last_error: str = ""


class SimVenue:
    def __init__(
        self,
        instruments: Iterable[Instrument],
        config: SimVenueConfig | None = None,
        *,
        book: str = "fast",
        market_book: Callable[[int], L2Book] | None = None,
    ) -> None:
        self.config = config = config or SimVenueConfig()
        self.ids = IdSource()
        self.engines: dict[int, MatchingEngine] = {
            i.id: MatchingEngine(
                i, config, ids=self.ids, book=book, market_book=market_book(i.id) if market_book else None
            )
            for i in instruments
        }
        self.now = 0  # venue time: the latest time it acted at
        self.stats = VenueStats()
        self._order_latency = config.order_latency_ns
        self._report_latency = config.report_latency_ns
        self._inbound: list[tuple[int, int, Request]] = []  # heap of (arrival time, submission seq, request)
        self._outbound: deque[VenueReport] = (
            deque()
        )  # delivery times never decrease (venue time is monotonic)
        self._submitted = 0

    # -- requests in -------------------------------------------------------------------------------
    def submit(self, req: NewOrderRequest, now: int) -> int:
        """Send a new order at time `now`; returns the time it acts at the venue."""
        return self._enqueue(req, now)

    def cancel(self, req: CancelRequest, now: int) -> int:
        return self._enqueue(req, now)

    def replace(self, req: ReplaceRequest, now: int) -> int:
        return self._enqueue(req, now)

    def _enqueue(self, req: Request, now: int) -> int:
        arrival = now + self._order_latency
        self._submitted += 1
        heapq.heappush(self._inbound, (arrival, self._submitted, req))
        self.stats.requests += 1
        return arrival

    # -- time and market data ----------------------------------------------------------------------
    def advance(self, now: int) -> None:
        """Act on every request that has arrived by `now`; the venue's time becomes at least `now`."""
        inbound = self._inbound
        while inbound and inbound[0][0] <= now:
            arrival, _, req = heapq.heappop(inbound)
            if arrival > self.now:
                self.now = arrival
            self._act(req)
        if now > self.now:
            self.now = now

    def on_market(self, event: MarketEvent) -> None:
        """A normalized market-data event, at its exchange time (receive time when the venue gave none)."""
        self.advance(event_time(event) or self.now)
        self.stats.market_events += 1
        engine = self.engines.get(event.instrument_id)
        if engine is None:
            self.stats.market_events_unknown_instrument += 1
            return
        try:
            reports = engine.on_event(event, self.now)
        except (ValueError, TypeError) as e:
            self.stats.market_events_bad += 1
            self.stats.last_error = f"{type(event).__name__} for instrument {event.instrument_id}: {e}"
            return
        self._outbound.extend(reports)

    # -- reports out -------------------------------------------------------------------------------
    def poll_reports(self, now: int) -> list[VenueReport]:
        """Reports delivered by `now`, in the order the venue produced them. Advances the venue first."""
        self.advance(now)
        out = []
        outbound = self._outbound
        while outbound and outbound[0].ts <= now:
            out.append(outbound.popleft())
        self.stats.reports += len(out)
        return out

    def next_due(self) -> int | None:
        """The next time a request acts or a report is due; None when nothing is scheduled."""
        times = []
        if self._inbound:
            times.append(self._inbound[0][0])
        if self._outbound:
            times.append(self._outbound[0].ts)
        return min(times) if times else None

    def engine(self, instrument_id: int) -> MatchingEngine:
        try:
            return self.engines[instrument_id]
        except KeyError:
            raise KeyError(f"the sim venue does not trade instrument {instrument_id}") from None

    @property
    def pending_requests(self) -> int:
        return len(self._inbound)

    # -- dispatch --------------------------------------------------------------------------------
    def _act(self, req: Request) -> None:
        engine = self.engines.get(req.instrument_id)
        ts = self.now
        if engine is None:
            code = RejectCode.UNKNOWN_INSTRUMENT
            text = f"the sim venue does not trade instrument {req.instrument_id}"
            exec_id = self.ids.next_exec()
            if isinstance(req, NewOrderRequest):
                self._outbound.append(reject_new(req, code, text, exec_id, ts, self._report_latency))
            else:
                cls = CancelRejected if isinstance(req, CancelRequest) else ReplaceRejected
                self._outbound.append(refuse_request(cls, req, code, text, exec_id, ts, self._report_latency))
            return
        if isinstance(req, NewOrderRequest):
            reports = engine.on_new(req, ts)
        elif isinstance(req, CancelRequest):
            reports = engine.on_cancel(req, ts)
        else:
            reports = engine.on_replace(req, ts)
        self._outbound.extend(reports)


def event_time(event: MarketEvent) -> int:
    """When a market-data event happened at the venue: its exchange time, else its receive time (a REST
    snapshot carries no event time), else a feed-state event's own time; 0 when it says nothing."""
    exchange = getattr(event, "exchange_ts_ns", 0)
    return exchange or getattr(event, "receive_ts_ns", 0) or getattr(event, "ts_ns", 0)
