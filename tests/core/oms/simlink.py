"""The engine's counterparty in tests: the real simulated venue (core/sim), linked the way an exec gateway
would link it: the oms's venue orders become sim requests, the sim's reports become SBE ExecutionReports
applied to the engine at their delivery time. Market data goes to both (the sim's book, the oms's mid).
"""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import CancelOrder, ExecutionReport, NewOrder, Reason, ReplaceOrder, decode
from core.marketdata.events import BookSnapshotEvent
from core.oms import wire
from core.sim.config import SimVenueConfig
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest
from core.sim.reports import VenueReport
from core.sim.venue import SimVenue
from tests.core.oms.harness import CATALOG, SIM, Desk

VENUE_CL_BASE = 1 << 40  # the link's own ids for cancel / replace requests (orders use their orderId)


class SimLink:
    def __init__(self, desk: Desk, config: SimVenueConfig | None = None, instruments=(1, 2, 3)) -> None:
        self.desk = desk
        self.venue = SimVenue(
            [CATALOG.by_id(i) for i in instruments],
            config or SimVenueConfig(order_latency_ns=250_000, report_latency_ns=150_000),
        )
        self.forwarded = 0  # outputs of the desk already looked at
        self.venue_cl: dict[int, int] = {}  # orderId -> the client id the venue knows the order by
        self.next_cl = VENUE_CL_BASE
        self.requests = 0
        self.reports: list[VenueReport] = []
        self.seq = 0

    # -- market data -------------------------------------------------------------------------------
    def market(self, inst: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """A book snapshot to the sim venue and its top of book to the oms, at the desk's next instant."""
        self.seq += 1
        at = self.desk.now + 1_000
        self.venue.on_market(BookSnapshotEvent(inst, self.seq, at, at, tuple(bids), tuple(asks)))
        self.desk.book(inst, bids[0][0], asks[0][0], dt=1_000)
        self.forward()

    # -- orders to the venue -----------------------------------------------------------------------
    def forward(self) -> None:
        outputs = self.desk.out.outputs
        while self.forwarded < len(outputs):
            o = outputs[self.forwarded]
            self.forwarded += 1
            if o.kind != "venue_order" or o.target != SIM:
                continue
            self.requests += 1
            m = decode(o.payload)
            now = self.desk.now
            if isinstance(m, NewOrder):
                self.venue_cl[m.orderId] = m.orderId
                self.venue.submit(
                    NewOrderRequest(
                        instrument_id=m.instrumentId,
                        cl_ord_id=m.orderId,
                        side=m.side,
                        qty=m.qty,
                        price=m.price,
                        ord_type=m.ordType,
                        tif=m.timeInForce,
                        post_only=bool(m.flags & 1),
                        account_id=1,
                        strategy_id=m.strategyId,
                        client_id=m.clientId,
                        order_id=m.orderId,
                        correlation_id=m.correlationId,
                    ),
                    now,
                )
            elif isinstance(m, CancelOrder):
                self.next_cl += 1
                self.venue.cancel(
                    CancelRequest(
                        instrument_id=m.instrumentId,
                        cl_ord_id=self.next_cl,
                        orig_cl_ord_id=self.venue_cl[m.orderId],
                        account_id=1,
                        strategy_id=m.strategyId,
                        order_id=m.orderId,
                    ),
                    now,
                )
            elif isinstance(m, ReplaceOrder):
                self.next_cl += 1
                self.venue.replace(
                    ReplaceRequest(
                        instrument_id=m.instrumentId,
                        cl_ord_id=self.next_cl,
                        qty=m.qty,
                        price=m.price,
                        orig_cl_ord_id=self.venue_cl[m.orderId],
                        account_id=1,
                        strategy_id=m.strategyId,
                        order_id=m.orderId,
                    ),
                    now,
                )

    # -- reports back ------------------------------------------------------------------------------
    def run(self, duration_ns: int) -> None:
        """Deliver reports and fire engine deadlines, in time order, for duration_ns of desk time."""
        end = self.desk.now + duration_ns
        while True:
            self.forward()
            due = [t for t in (self.venue.next_due(), self.desk.engine.next_deadline()) if t is not None]
            if not due or min(due) > end:
                break
            at = max(min(due), self.desk.now)
            reports = self.venue.poll_reports(at)
            if reports:
                for r in reports:
                    self.reports.append(r)
                    if r.exec_type.name == "Replaced":
                        self.venue_cl[r.order_id] = r.cl_ord_id
                    self.desk.send(report_bytes(r), max(r.ts - self.desk.now, 0))
            elif (d := self.desk.engine.next_deadline()) is not None and d <= at:
                self.desk.tick(max(at - self.desk.now, 0))
            else:
                self.venue.advance(at)
                if self.desk.now < at:
                    self.desk.now = at
        if self.desk.now < end:
            self.desk.now = end


def _dec(value: Decimal | None) -> tuple[int, int]:
    return wire.dec64(value or 0)


def report_bytes(r: VenueReport) -> bytes:
    """A sim venue report as the exec gateway publishes it: an SBE ExecutionReport."""
    return ExecutionReport.encode_bytes(
        orderId=r.order_id,
        clOrdId=r.cl_ord_id,
        origClOrdId=r.orig_cl_ord_id,
        strategyId=r.strategy_id,
        clientId=r.client_id,
        correlationId=r.correlation_id,
        instrumentId=r.instrument_id,
        venueId=SIM,
        venueOrderId=str(r.venue_order_id),
        execId=r.exec_id,
        execType=r.exec_type,
        ordStatus=r.ord_status,
        side=r.side or 1,
        ordType=r.ord_type or 1,
        timeInForce=r.tif or 1,
        flags=1 if r.post_only else 0,
        price=r.price,
        qty=r.qty,
        lastPx=getattr(r, "last_px", None),
        lastQty=getattr(r, "last_qty", 0),
        cumQty=r.cum_qty,
        leavesQty=r.leaves_qty,
        avgPx=_dec(getattr(r, "avg_px", None)),
        fee=_dec(getattr(r, "fee", None)),
        reason=getattr(r, "reason", Reason(0)),
        transactTs=r.transact_ts,
        ts=r.ts,
        seq=r.exec_id,
        text=getattr(r, "text", "").encode(),
    )
