"""SimVenue: the deterministic latency model, routing by instrument, bad market data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.book import BookSide
from core.codec.messages import OrdStatus, OrdType, Reason, Side, TimeInForce
from core.marketdata.events import Aggressor, BookDeltaEvent, BookSnapshotEvent, TradeEvent
from core.sim import (
    CancelRejected,
    CancelRequest,
    NewOrderRequest,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    RejectCode,
    SimVenue,
    SimVenueConfig,
)
from tests.core.sim.conftest import INST

LAT_IN, LAT_OUT = 250, 100


@pytest.fixture(params=["fast", "reference"])
def venue(request) -> SimVenue:
    other = replace(INST, id=8, symbol="OTHER-USD")
    cfg = SimVenueConfig(order_latency_ns=LAT_IN, report_latency_ns=LAT_OUT)
    return SimVenue([INST, other], cfg, book=request.param)


def new(
    cl: int, side: Side, qty: int, price: int | None, *, instrument_id: int = INST.id, **kw
) -> NewOrderRequest:
    ord_type = OrdType.Limit if price is not None else OrdType.Market
    return NewOrderRequest(
        instrument_id=instrument_id,
        cl_ord_id=cl,
        side=side,
        qty=qty,
        price=price,
        ord_type=ord_type,
        account_id=kw.pop("acct", 1),
        **kw,
    )


def snapshot(ts: int, bids, asks, instrument_id: int = INST.id) -> BookSnapshotEvent:
    return BookSnapshotEvent(instrument_id, 1, ts, ts, tuple(bids), tuple(asks))


def delta(ts: int, *levels, seq: int = 2) -> BookDeltaEvent:
    return BookDeltaEvent(INST.id, seq, ts, ts, tuple(levels), seq - 1)


def test_request_acts_after_the_order_latency_and_reports_after_the_report_latency(venue: SimVenue):
    assert venue.submit(new(1, Side.Buy, 5, 100), now=1_000) == 1_000 + LAT_IN
    assert venue.next_due() == 1_250
    assert venue.poll_reports(1_249) == []
    assert venue.next_due() == 1_250
    assert venue.poll_reports(1_250) == []  # acted at 1250, delivered at 1350
    assert venue.next_due() == 1_350
    assert venue.poll_reports(1_349) == []
    [ack] = venue.poll_reports(1_350)
    assert isinstance(ack, OrderAccepted) and ack.transact_ts == 1_250 and ack.ts == 1_350
    assert venue.next_due() is None


def test_the_order_sees_the_book_as_of_its_arrival(venue: SimVenue):
    venue.on_market(snapshot(1_000, [(98, 5)], [(100, 5)]))
    venue.submit(new(1, Side.Buy, 5, 100, tif=TimeInForce.IOC), now=1_000)  # acts at 1250
    venue.on_market(delta(1_200, (BookSide.ASK, 100, 0), (BookSide.ASK, 101, 5)))  # the offer left first
    reports = venue.poll_reports(2_000)
    assert [type(r) for r in reports] == [OrderAccepted, OrderExpired]


def test_market_data_after_the_arrival_comes_too_late_to_matter(venue: SimVenue):
    venue.on_market(snapshot(1_000, [(98, 5)], [(100, 5)]))
    venue.submit(new(1, Side.Buy, 5, 100, tif=TimeInForce.IOC), now=1_000)  # acts at 1250
    venue.on_market(delta(1_300, (BookSide.ASK, 100, 0), (BookSide.ASK, 101, 5)))
    reports = venue.poll_reports(2_000)
    assert [type(r) for r in reports] == [OrderAccepted, OrderFilled]
    assert reports[1].transact_ts == 1_250


def test_a_request_arriving_exactly_at_an_event_acts_first(venue: SimVenue):
    venue.on_market(snapshot(1_000, [(98, 5)], [(100, 5)]))
    venue.submit(new(1, Side.Buy, 5, 100, tif=TimeInForce.IOC), now=1_000)
    venue.on_market(delta(1_250, (BookSide.ASK, 100, 0)))
    assert [type(r) for r in venue.poll_reports(2_000)] == [OrderAccepted, OrderFilled]


def test_cancel_racing_a_fill_is_too_late(venue: SimVenue):
    venue.on_market(snapshot(1_000, [(98, 5)], [(101, 5)]))
    venue.submit(new(1, Side.Buy, 2, 99), now=1_000)
    venue.poll_reports(2_000)
    order_id = venue.engine(INST.id).live_orders()[0].venue_order_id
    venue.cancel(
        CancelRequest(instrument_id=INST.id, cl_ord_id=2, venue_order_id=order_id, account_id=1), now=3_000
    )
    venue.on_market(TradeEvent(INST.id, 1, 3_100, 3_100, 99, 5, Aggressor.SELL))  # fills us before it arrives
    reports = venue.poll_reports(4_000)
    assert [type(r) for r in reports] == [OrderFilled, CancelRejected]
    assert reports[1].reason == Reason.TooLateToCancel and reports[1].transact_ts == 3_250


def test_requests_with_one_arrival_time_act_in_submission_order(venue: SimVenue):
    venue.submit(new(1, Side.Sell, 5, 100, acct=2), now=1_000)
    venue.submit(new(2, Side.Buy, 5, 100), now=1_000)
    reports = venue.poll_reports(2_000)
    assert [(type(r).__name__, r.cl_ord_id) for r in reports] == [
        ("OrderAccepted", 1),
        ("OrderAccepted", 2),
        ("OrderFilled", 1),
        ("OrderFilled", 2),
    ]


def test_unknown_instrument_is_rejected_with_its_reason(venue: SimVenue):
    venue.submit(new(1, Side.Buy, 5, 100, instrument_id=999), now=1_000)
    venue.cancel(CancelRequest(instrument_id=999, cl_ord_id=2, orig_cl_ord_id=1, account_id=1), now=1_000)
    rej, cxl = venue.poll_reports(2_000)
    assert isinstance(rej, OrderRejected) and rej.reason == Reason.UnknownInstrument
    assert rej.code == RejectCode.UNKNOWN_INSTRUMENT and rej.ord_status == OrdStatus.Rejected
    assert isinstance(cxl, CancelRejected) and cxl.reason == Reason.UnknownInstrument


def test_bad_market_data_is_counted_and_skipped(venue: SimVenue):
    venue.on_market(snapshot(1_000, [(98, 5)], [(100, 5)]))
    venue.on_market(delta(1_100, (BookSide.ASK, 100, -3)))  # a negative size
    venue.on_market(snapshot(1_200, [(98, 5)], [(100, 5)], instrument_id=555))
    assert venue.stats.market_events_bad == 1 and "negative" in venue.stats.last_error
    venue.on_market(TradeEvent(INST.id, 9, 1_250, 1_250, 100, 0, Aggressor.BUY))  # an empty trade
    assert venue.stats.market_events_bad == 2 and "positive" in venue.stats.last_error
    assert venue.stats.market_events_unknown_instrument == 1
    venue.submit(new(1, Side.Buy, 5, 100), now=1_300)
    assert [type(r) for r in venue.poll_reports(2_000)] == [OrderAccepted, OrderFilled]


def test_venue_time_never_goes_back(venue: SimVenue):
    venue.submit(new(1, Side.Buy, 5, 100), now=5_000)
    venue.advance(6_000)
    venue.on_market(snapshot(4_000, [], [(100, 6)]))  # stamped before the venue's time: acts at 6000
    venue.submit(new(2, Side.Buy, 1, 101, acct=2), now=6_000)
    reports = venue.poll_reports(10_000)
    times = [r.transact_ts for r in reports]
    assert times == sorted(times)
    fill_times = {r.transact_ts for r in reports if isinstance(r, OrderFilled)}
    assert fill_times == {6_000, 6_250}


def test_exec_and_order_ids_are_unique_across_the_venues_instruments(venue: SimVenue):
    venue.submit(new(1, Side.Buy, 5, 100), now=1_000)
    venue.submit(new(1, Side.Buy, 5, 100, instrument_id=8), now=1_000)
    a, b = venue.poll_reports(2_000)
    assert a.instrument_id != b.instrument_id
    assert a.exec_id != b.exec_id and a.venue_order_id != b.venue_order_id


def test_engine_lookup_names_the_instrument(venue: SimVenue):
    with pytest.raises(KeyError, match="999"):
        venue.engine(999)
