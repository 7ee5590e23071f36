"""The exec daemon: one venue's gateway. Today the venue is the simulated one (core/sim behind
adapters/sim's execution client), driven by the desk's own market data.

Inputs
- venue_orders (tethered: nothing is lost): NewOrder / CancelOrder / ReplaceOrder whose venueId is this
  venue's (others are counted and skipped), with orderId set by the oms (an order without one is
  rejected: its reports could not be routed back). Query (queryType Orders) is the reconciliation
  request, see below.
- market_data (tethered): BookSnapshot / BookDelta / Trade / FeedState drive the matching engines'
  view of the market. The venue lives in desk time: market data acts at the time the md daemon
  received it (receiveTs), orders at this daemon's clock plus the venue's latency. A per-instrument
  seq gap empties that instrument's market view until the next snapshot (the md daemon republishes
  them periodically), so the sim never trades against a book it knows is stale.

Tick-to-order latency: for every NewOrder with a nonzero triggerTs (the publishTs of the market data
that led the strategy to it; the oms forwards it and the strategy's sendTs unchanged) the daemon
publishes a LatencySample on the heartbeats stream once the duty cycle's orders are handled: ts and
venueAckTs = the order's arrival here (this daemon's clock, read before anything else is done with
it), mdPublishTs = triggerTs, strategySendTs = sendTs, omsAcceptTs = 0 (a venue NewOrder has no field
for it). All on one host's epoch clock, so arrival - triggerTs is md publish -> exec arrival, three
hops. Samples are telemetry: one the stream does not take is counted (latency_dropped), never retried.

Outputs (venue_reports, opened only once the daemon listens on venue_orders, so a gateway that joins
venue_reports hears the reconciliation query the oms sends it then): ExecutionReport for every venue
event, acks (New), fills (Trade), Canceled, Replaced, Expired, and refusals with a reason: Rejected
(unknown instrument, price off tick or not positive, quantity off lot / below min / above max,
post-only that would take, duplicate clOrdId ...), CancelRejected / ReplaceRejected (unknown order,
too late). Reports are delivered at the venue's report latency; one the stream pushes back on is held
and retried, in order, on the next duty cycle (core/daemons/outbox.py: counters reports_held, each
report that had to wait, reports_waiting, reports_dropped).

Reconciliation. Queries carry no venueId, so the address is in the correlationId: a Query with bit 62
set is for venue `correlationId & 0xFFFF` (the oms sends `1 << 62 | venueId`); any other Orders query is
answered by every exec daemon. The answer, on venue_reports: one ExecutionReport with execType Restated
per order this venue holds (working orders, and the last `restate_finished` finished ones so fills the
oms missed are booked rather than lost), each carrying the query's correlationId and clientId and the
order's current status, cumQty, leavesQty and avgPx; then a ControlAck Done with the query's
correlationId and clientId and the number restated in its text. The answer goes out one venue round
trip (order + report latency) after the query arrives, as a real venue's would: every request sent
before the query has acted by then and its reports are delivered ahead of the answer, so an order
still inside the venue's latency is restated, never reported unknown (and ended by the oms) while
it is about to be acked.

Config ([daemon.config] of a `kind = "exec"` daemon):

    venue = "sim"                 # a sim venue of configs/venues.toml: its id filters venue orders
    account_id = 1                # the account the desk's orders trade for at the venue
    book = "fast"                 # own-order book implementation: fast | reference
    order_latency_us = 250        # optional: override venues.toml
    report_latency_us = 150       # optional: override venues.toml
    restate_finished = 10000      # finished orders remembered for reconciliation
    instruments = "path"          # optional static data file (relative to the profile), else configs/

core may not import adapters (import-linter): the execution client is loaded by module name at run time
(EXECUTION_MODULE), the one place the daemon reaches into adapters/.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from core.agent.clock import Clock
from core.agent.ratelimit import RateLimitedLog
from core.book import BookSide
from core.bus.dispatch import aerodesk_dispatcher
from core.bus.publisher import OfferFailure, Publisher, RetryPolicy
from core.codec.messages import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelOrder,
    ControlAck,
    ExecType,
    ExecutionReport,
    FeedState,
    LatencySample,
    NewOrder,
    OrdStatus,
    QueryType,
    Reason,
    ReplaceOrder,
    Trade,
    decode,
)
from core.codec.messages import Query as QueryMessage
from core.config import ConfigError, Table
from core.daemons.host import DaemonHost
from core.daemons.md_feeds import static_data
from core.daemons.outbox import Outbox
from core.daemons.profile import DaemonSpec
from core.marketdata.events import (
    Aggressor,
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)
from core.sim.config import VenueCatalog, load_venues

log = logging.getLogger("aerodesk.exec")

EXECUTION_MODULE = "adapters.sim"  # SimExecClientConfig, SimInstrumentProvider, SimExecutionClient, ...
RECONCILE_BIT = 1 << 62  # a Query whose correlationId has it addresses venue (correlationId & 0xFFFF)
REPORT_RETRY = RetryPolicy(back_pressured=0, admin_action=10, not_connected=0)
# venue_reports opens when the first order can arrive; reports of that order may be due before the new
# publication has connected to its subscribers: they are held, not dropped, for this long
REPORTS_CONNECT_GRACE_NS = 2_000_000_000
_TERMINAL = frozenset({OrdStatus.Filled, OrdStatus.Canceled, OrdStatus.Expired, OrdStatus.Rejected})
_COUNTED = {
    ExecType.New: "acks",
    ExecType.Trade: "fills",
    ExecType.Canceled: "canceled",
    ExecType.Replaced: "replaced",
    ExecType.Expired: "expired",
    ExecType.Rejected: "rejects",
    ExecType.CancelRejected: "cancel_rejects",
    ExecType.ReplaceRejected: "replace_rejects",
}


@dataclasses.dataclass(frozen=True)
class ExecConfig:
    venue: str = "sim"
    account_id: int = 1
    book: str = "fast"
    order_latency_us: int | None = None
    report_latency_us: int | None = None
    restate_finished: int = 10_000

    @classmethod
    def from_table(cls, t: Table) -> ExecConfig:
        def optional_latency(key: str) -> int | None:
            if key not in t:
                return None
            value = t.get(key, int)
            if value < 0:
                raise t.error(key, f"must not be negative, got {value}")
            return value

        restate = t.get("restate_finished", int, 10_000)
        if restate < 0:
            raise t.error("restate_finished", f"must not be negative, got {restate}")
        return cls(
            venue=t.get("venue", str, "sim"),
            account_id=t.get("account_id", int, 1),
            book=t.get("book", str, "fast"),
            order_latency_us=optional_latency("order_latency_us"),
            report_latency_us=optional_latency("report_latency_us"),
            restate_finished=restate,
        )


class VenueGateway:
    """The exec agent: venue orders and market data in, venue reports out (single writer of the venue)."""

    def __init__(
        self,
        role_name: str,
        client: Any,
        report_fields: Any,
        open_reports: Callable[[], Publisher],
        clock: Clock,
        *,
        max_report_length: int,
        restate_finished: int = 10_000,
        telemetry: Publisher | None = None,
    ) -> None:
        self.role_name = role_name
        self.client = client  # adapters.sim.SimExecutionClient (or any client of the same shape)
        self.venue_id: int = client.venue_id
        self._report_fields = report_fields  # (report, venue_id, seq) -> ExecutionReport fields
        # venue_reports is opened only once this gateway listens on venue_orders: the oms takes a
        # publisher joining venue_reports as a venue that hears its reconciliation query (reconcile.py)
        self._open_reports = open_reports
        # encoded reports in order; held until venue_reports opens, and while the stream pushes back
        self.outbox = Outbox(None, f"exec {role_name}: venue report", log, hold_also=self._connecting)
        self._reports_opened_ns = 0
        self.clock = clock
        self._restate_finished = restate_finished
        self._buf = bytearray(max_report_length)
        self.telemetry = telemetry  # the heartbeats stream, for LatencySamples (None: not measured)
        self._samples: list[tuple[int, int, int, int, int]] = []  # arrival, trigger, send, strategy, clOrdId
        self._sample_buf = bytearray(LatencySample.BLOCK_LENGTH + 8)
        self._working: dict[int, Any] = {}  # orderId -> last report of a working order
        self._finished: OrderedDict[int, Any] = OrderedDict()  # orderId -> last report, bounded
        self._queries: deque[tuple[int, int, int]] = deque()  # reconciliations due: (due ns, corr, client)
        self._md_seq: dict[int, int] = {}
        self._md_lost: set[int] = set()
        self._report = RateLimitedLog(log)
        self.c = {
            "orders_new": 0,
            "orders_cancel": 0,
            "orders_replace": 0,
            "other_venue": 0,
            "no_order_id": 0,
            "queries": 0,
            "restated": 0,
            "reports": 0,
            **dict.fromkeys(_COUNTED.values(), 0),
            "market_events": 0,
            "md_gaps": 0,
            "md_bad": 0,
            "latency_samples": 0,
            "latency_dropped": 0,
        }
        self.orders_dispatcher = aerodesk_dispatcher(decoder=decode, label="venue_orders")
        self.orders_dispatcher.on(NewOrder.TEMPLATE_ID, self.on_new_order)
        self.orders_dispatcher.on(CancelOrder.TEMPLATE_ID, self.on_cancel_order)
        self.orders_dispatcher.on(ReplaceOrder.TEMPLATE_ID, self.on_replace_order)
        self.orders_dispatcher.on(QueryMessage.TEMPLATE_ID, self.on_query)
        self.md_dispatcher = aerodesk_dispatcher(decoder=decode, label="market_data")
        for message in (BookSnapshot, BookDelta, Trade, FeedState):
            self.md_dispatcher.on(message.TEMPLATE_ID, self.on_market_data)
        self.orders_sub: Any = None
        self.md_sub: Any = None

    def subscribe(self, host: DaemonHost) -> None:
        self.orders_sub = host.bus.subscriber("venue_orders", self.orders_dispatcher)
        self.md_sub = host.bus.subscriber("market_data", self.md_dispatcher)

    # -- Agent ------------------------------------------------------------------------------------
    def on_start(self) -> None:
        log.info("exec %s: venue id %d ready", self.role_name, self.venue_id)

    def do_work(self) -> int:
        if self.outbox.publisher is None:
            self._open_reports_once_listening()
        work = self.outbox.flush()
        # orders first: they are on the tick-to-order path, and an order acts only after the venue's
        # latency, by when the market data read just after it has been applied
        if self.orders_sub is not None:
            work += self.orders_sub.poll()
            if self._samples:
                self._publish_samples()
        if self.md_sub is not None:
            work += self.md_sub.poll()
        now = self.clock.time_ns()
        due = self.client.next_due()
        emitted = 0
        if due is not None and due <= now:
            for report in self.client.poll(now):
                self._emit(report)
                emitted += 1
        queries = self._queries
        while queries and queries[0][0] <= now:  # after the reports due by now: they come first
            _due, corr, client_id = queries.popleft()
            self._restate(corr, client_id, now)
            emitted += 1
        if emitted:
            work += emitted + self.outbox.flush()
        return work

    def _open_reports_once_listening(self) -> None:
        sub = self.orders_sub
        if sub is not None and sub.is_connected:
            self._reports_opened_ns = self.clock.time_ns()
            self.outbox.attach(self._open_reports())
            log.info("exec %s: listening on venue_orders; venue_reports open", self.role_name)

    def next_deadline_ns(self) -> int | None:
        """When the venue next acts on a request or delivers a report (its simulated latencies), or a
        reconciliation query is due to be answered."""
        due = self.client.next_due()
        if self._queries and (due is None or self._queries[0][0] < due):
            return self._queries[0][0]
        return due

    def on_close(self) -> None:
        if self.outbox.held:
            log.warning("exec %s: %d reports not sent at stop", self.role_name, len(self.outbox.held))

    def counters(self) -> dict[str, int]:
        o = self.outbox
        return {
            **self.c,
            "reports_held": o.held_total,
            "reports_dropped": o.dropped,
            "reports_waiting": len(o.held),
            "open_orders": len(self._working),
        }

    # -- orders in --------------------------------------------------------------------------------
    def on_new_order(self, m: Any, _header: Any) -> None:
        arrival = self.clock.time_ns()
        if not self._ours(m):
            return
        self.c["orders_new"] += 1
        if m.triggerTs > 0 and self.telemetry is not None:
            self._samples.append((arrival, m.triggerTs, m.sendTs, m.strategyId, m.clOrdId))
        if not m.orderId:
            self.c["no_order_id"] += 1
            self._refuse_new(m, "orderId is 0: venue orders carry the oms's order id")
            return
        self.client.on_new_order(m, self.clock.time_ns())

    def on_cancel_order(self, m: Any, _header: Any) -> None:
        if self._ours(m):
            self.c["orders_cancel"] += 1
            self.client.on_cancel_order(m, self.clock.time_ns())

    def on_replace_order(self, m: Any, _header: Any) -> None:
        if self._ours(m):
            self.c["orders_replace"] += 1
            self.client.on_replace_order(m, self.clock.time_ns())

    def _ours(self, m: Any) -> bool:
        if m.venueId != self.venue_id:
            self.c["other_venue"] += 1
            return False
        return True

    def _refuse_new(self, m: Any, text: str) -> None:
        now = self.clock.time_ns()
        self._encode_and_queue(
            orderId=m.orderId,
            clOrdId=m.clOrdId,
            origClOrdId=0,
            strategyId=m.strategyId,
            clientId=m.clientId,
            correlationId=m.correlationId,
            instrumentId=m.instrumentId,
            venueId=self.venue_id,
            venueOrderId="",
            execId=self.client.venue.ids.next_exec(),
            execType=ExecType.Rejected,
            ordStatus=OrdStatus.Rejected,
            side=_known(m.side),
            ordType=_known(m.ordType),
            timeInForce=_known(m.timeInForce),
            flags=int(m.flags or 0),
            price=m.price,
            qty=m.qty,
            lastPx=None,
            lastQty=0,
            cumQty=0,
            leavesQty=0,
            avgPx=(0, 0),
            fee=(0, 0),
            reason=Reason.InvalidOrder,
            transactTs=now,
            ts=now,
            seq=self._next_seq(),
            text=text,
        )
        self.c["rejects"] += 1

    # -- reconciliation ---------------------------------------------------------------------------
    def on_query(self, m: Any, _header: Any) -> None:
        if m.queryType != QueryType.Orders:
            return  # other queries are the oms's to answer
        corr = m.correlationId
        if corr & RECONCILE_BIT and (corr & 0xFFFF) != self.venue_id:
            self.c["other_venue"] += 1
            return
        self.c["queries"] += 1
        self._queries.append((self.clock.time_ns() + self.client.round_trip_ns, corr, m.clientId))

    def _restate(self, corr: int, client_id: int, now: int) -> None:
        """Answers a reconciliation query: a Restated report per order this venue holds, then Done."""
        restated = 0
        for report in (*self._working.values(), *self._finished.values()):
            fields = self._report_fields(report, self.venue_id, self._next_seq())
            fields.update(
                execType=ExecType.Restated,
                execId=self.client.venue.ids.next_exec(),
                correlationId=corr,
                clientId=client_id,
                lastPx=None,
                lastQty=0,
                ts=now,
                text="restated for reconciliation",
            )
            self._encode_and_queue(**fields)
            restated += 1
        self.c["restated"] += restated
        length = ControlAck.encode(
            self._buf,
            0,
            correlationId=corr,
            clientId=client_id,
            status=AckStatus.Done,
            reason=Reason(0),
            ts=now,
            text=f"venue {self.venue_id}: {restated} orders restated",
        )
        self.outbox.send(bytes(self._buf[:length]))
        log.info("exec %s: reconciliation query %d: %d orders restated", self.role_name, corr, restated)

    # -- market data in ---------------------------------------------------------------------------
    def on_market_data(self, m: Any, _header: Any) -> None:
        event = self._event(m)
        if event is None:
            return
        self.c["market_events"] += 1
        self.client.on_market(event)

    def _event(self, m: Any) -> MarketEvent | None:
        iid = m.instrumentId
        if isinstance(m, FeedState):
            status = FeedStatus(int(m.status)) if not m.status.is_unknown else None
            if status is None:
                self.c["md_bad"] += 1
                return None
            return FeedStateEvent(iid, m.ts, status, m.expectedSeq, m.receivedSeq, m.gapCount, m.text or "")
        ts = m.receiveTs or self.clock.time_ns()
        last = self._md_seq.get(iid)
        self._md_seq[iid] = m.seq
        if isinstance(m, BookSnapshot):
            self._md_lost.discard(iid)
            return BookSnapshotEvent(
                iid,
                m.venueSeq,
                ts,
                ts,
                tuple((e.price, e.qty) for e in m.bids),
                tuple((e.price, e.qty) for e in m.asks),
            )
        if iid in self._md_lost:
            return None  # waiting for a snapshot
        if last is not None and m.seq != last + 1:
            self.c["md_gaps"] += 1
            self._md_lost.add(iid)
            self._report.report(
                "md_gap", f"exec {self.role_name}: market data gap on instrument {iid} ({last} -> {m.seq})"
            )
            return FeedStateEvent(iid, ts, FeedStatus.GAP, last + 1, m.seq, text="md seq gap")
        if isinstance(m, BookDelta):
            try:
                levels = tuple((BookSide(int(e.side)), e.price, e.qty) for e in m.levels)
            except ValueError:
                self.c["md_bad"] += 1
                return None
            return BookDeltaEvent(iid, m.venueSeq, ts, ts, levels, 0)
        side = m.aggressorSide
        if side.is_unknown:
            self.c["md_bad"] += 1
            return None
        return TradeEvent(iid, m.tradeId, ts, ts, m.price, m.qty, Aggressor(int(side)))

    # -- latency telemetry --------------------------------------------------------------------------
    def _publish_samples(self) -> None:
        assert self.telemetry is not None
        buf = self._sample_buf
        for arrival, trigger_ts, send_ts, strategy_id, cl_ord_id in self._samples:
            length = LatencySample.encode(
                buf,
                0,
                ts=arrival,
                strategyId=strategy_id,
                clOrdId=cl_ord_id,
                mdPublishTs=trigger_ts,
                strategySendTs=send_ts,
                omsAcceptTs=0,
                venueAckTs=arrival,
            )
            if self.telemetry.offer(memoryview(buf)[:length]) is True:
                self.c["latency_samples"] += 1
            else:
                self.c["latency_dropped"] += 1
        self._samples.clear()

    # -- reports out ------------------------------------------------------------------------------
    def _emit(self, report: Any) -> None:
        length = self.client.encode_report(report, self._buf, 0)
        self.outbox.send(bytes(self._buf[:length]))
        self.c["reports"] += 1
        name = _COUNTED.get(report.exec_type)
        if name:
            self.c[name] += 1
        order_id = report.order_id
        if not order_id or report.exec_type in (ExecType.CancelRejected, ExecType.ReplaceRejected):
            return  # a refused cancel/replace says nothing new about the order itself
        if report.ord_status in _TERMINAL:
            self._working.pop(order_id, None)
            if self._restate_finished:
                self._finished[order_id] = report
                self._finished.move_to_end(order_id)
                while len(self._finished) > self._restate_finished:
                    self._finished.popitem(last=False)
        else:
            self._working[order_id] = report

    def _encode_and_queue(self, **fields: Any) -> None:
        length = ExecutionReport.encode(self._buf, 0, **fields)
        self.outbox.send(bytes(self._buf[:length]))

    def _next_seq(self) -> int:
        self.client.seq += 1  # one sequence over every ExecutionReport this venue sends
        return int(self.client.seq)

    def _connecting(self, failure: OfferFailure) -> bool:
        """A just-opened venue_reports may not have connected to its subscribers yet: hold, for a while."""
        return (
            failure is OfferFailure.NOT_CONNECTED
            and self.clock.time_ns() - self._reports_opened_ns < REPORTS_CONNECT_GRACE_NS
        )


def _known(value: Any) -> int:
    """The wire value of a decoded enum, 0 when it is not one this schema knows."""
    return int(value) if value is not None and not value.is_unknown else 0


def build(host: DaemonHost, spec: DaemonSpec) -> list[VenueGateway]:
    t = spec.config
    config = ExecConfig.from_table(t)
    catalog = static_data(t)
    t.reject_unknown()
    sim = _execution_module(t)
    venues = load_venues(instruments=catalog)
    try:
        venue = venues.get(config.venue)
    except KeyError as e:
        raise t.error("venue", str(e).strip("'\"")) from None
    if venue.sim is None:
        raise t.error("venue", f"venue {config.venue!r} is a {venue.kind} venue: only sim venues take orders")
    overrides = {}
    if config.order_latency_us is not None:
        overrides["order_latency_ns"] = config.order_latency_us * 1000
    if config.report_latency_us is not None:
        overrides["report_latency_ns"] = config.report_latency_us * 1000
    if overrides:
        venue = dataclasses.replace(venue, sim=dataclasses.replace(venue.sim, **overrides))
        venues = VenueCatalog([venue if v.name == venue.name else v for v in venues])
    try:
        client_config = sim.SimExecClientConfig(
            account_id=config.account_id, book=config.book, venue=venue.name
        )
    except ValueError as e:
        raise t.error("book", str(e)) from None
    provider = sim.SimInstrumentProvider(catalog, venue=venue.name, venues=venues)
    client = sim.SimExecutionClient(client_config, provider)
    gateway = VenueGateway(
        spec.name,
        client,
        sim.execution_report_fields,
        lambda: host.bus.publisher("venue_reports", retry=REPORT_RETRY),
        host.clock,
        max_report_length=host.bus.config.stream("venue_reports").max_message_length,
        restate_finished=config.restate_finished,
        telemetry=host.heartbeat.publisher,
    )
    gateway.subscribe(host)
    return [gateway]


def _execution_module(t: Table) -> Any:
    try:
        return importlib.import_module(EXECUTION_MODULE)
    except ImportError as e:
        raise ConfigError(
            t.file, t.prefix, f"the {EXECUTION_MODULE} execution client is not available: {e}"
        ) from None
