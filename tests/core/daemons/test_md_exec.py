"""The md and exec daemons in a real desk (driver, supervisor, daemon processes): market data on the
bus, and the simulated venue answering real venue orders."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.book import BookSide, FastL2Book
from core.codec.messages import AckStatus, ExecType, OrdStatus, Reason, Side
from core.instruments import load_instruments
from tests.core.daemons.busio import Collector, OrderSender, pump
from tests.desk import PROFILES, Desk, desk_fixture

desk = desk_fixture(PROFILES / "md_exec.toml")
CATALOG = load_instruments(PROFILES / "instruments.toml")
SIM_INSTRUMENTS = (1, 2, 3)
_ids = itertools.count(1_000_000)


def next_id() -> int:
    return next(_ids)


# -- md ---------------------------------------------------------------------------------------------
def test_md_publishes_books_and_trades_with_gap_free_seq(desk: Desk) -> None:
    bus = desk.bus()
    md = Collector(bus, "market_data")
    snapshots = lambda iid: [m for m in md.of("BookSnapshot") if m.instrumentId == iid]  # noqa: E731
    pump(
        bus, [md], lambda: all(len(snapshots(i)) >= 3 for i in SIM_INSTRUMENTS), "3 snapshots per instrument"
    )
    md.sub.close()

    last_seq: dict[int, int] = {}
    books: dict[int, FastL2Book] = {}
    compared = 0
    for m in md.messages:
        if m.NAME not in ("BookSnapshot", "BookDelta", "Trade"):
            continue
        iid = m.instrumentId
        assert iid in SIM_INSTRUMENTS
        if iid in last_seq:
            assert m.seq == last_seq[iid] + 1, f"instrument {iid}: seq {last_seq[iid]} then {m.seq}"
        last_seq[iid] = m.seq
        assert m.exchangeTs > 0 and m.receiveTs > 0
        assert m.publishTs >= m.receiveTs
        inst = CATALOG.by_id(iid)
        if m.NAME == "BookSnapshot":
            levels = [(e.price, e.qty) for e in m.bids], [(e.price, e.qty) for e in m.asks]
            if iid in books:  # a republished snapshot must be exactly the book the deltas built
                book = books[iid]
                assert (book.depth(BookSide.BID), book.depth(BookSide.ASK)) == levels
                compared += 1
            books[iid] = FastL2Book(iid)
            books[iid].apply_snapshot(*levels)
            assert levels[0] and levels[1] and levels[0][0][0] < levels[1][0][0]
        elif m.NAME == "BookDelta":
            assert len(m.levels) > 0
            if iid in books:
                books[iid].apply_deltas([(BookSide(int(e.side)), e.price, e.qty) for e in m.levels])
            for e in m.levels:
                assert e.price % inst.tick_size == 0 and e.qty % inst.lot_size == 0
        else:
            assert m.price % inst.tick_size == 0 and m.qty % inst.lot_size == 0 and m.qty > 0
    assert compared >= 2 * len(SIM_INSTRUMENTS)
    assert len(md.of("Trade")) > 0 and len(md.of("BookDelta")) > len(md.of("BookSnapshot"))


def test_md_heartbeat_counts_what_it_published(desk: Desk) -> None:
    code, status = desk.status()
    assert code == 0, status
    md = next(d for d in status["daemons"] if d["name"] == "md")
    c = md["counters"]
    kinds = c["md.snapshots"] + c["md.deltas"] + c["md.trades"] + c["md.feed_states"]
    assert c["md.published"] > 0
    assert c["md.published"] == kinds  # one counter per template, none missing
    assert c["md.instruments"] == len(SIM_INSTRUMENTS)
    assert c["md.republished"] > 0 and c["md.snapshots"] > c["md.republished"]
    assert c["md.gaps"] == 0 and c["md.bad_events"] == 0 and c["md.dropped"] == 0


# -- exec -------------------------------------------------------------------------------------------
class Venue:
    """Orders in, reports out, and the current top of book from the md daemon."""

    def __init__(self, desk: Desk) -> None:
        self.bus = desk.bus()
        self.md = Collector(self.bus, "market_data", tether=False)
        self.reports = Collector(self.bus, "venue_reports")
        self.orders = OrderSender(self.bus)
        self.orders.wait_connected()
        pump(self.bus, [self.md, self.reports], lambda: self.reports.sub.is_connected, "venue_reports")

    def top(self, iid: int) -> tuple[int, int]:
        """Best bid and ask of the latest snapshot of an instrument (waits for one)."""
        snaps: list[Any] = []

        def seen() -> bool:
            snaps[:] = [m for m in self.md.of("BookSnapshot") if m.instrumentId == iid]
            return bool(snaps)

        self.md.messages.clear()
        pump(self.bus, [self.md], seen, f"a snapshot of instrument {iid}")
        return snaps[-1].bids[0].price, snaps[-1].asks[0].price

    def reports_for(self, order_id: int) -> list[Any]:
        return [m for m in self.reports.of("ExecutionReport") if m.orderId == order_id]

    def wait_report(self, order_id: int, exec_type: ExecType) -> Any:
        found: list[Any] = []

        def seen() -> bool:
            found[:] = [m for m in self.reports_for(order_id) if m.execType == exec_type]
            return bool(found)

        pump(self.bus, [self.md, self.reports], seen, f"{exec_type.name} for order {order_id}")
        return found[0]

    def wait_ack(self, correlation_id: int) -> Any:
        """The first ControlAck with this correlationId (waits for it)."""
        acks = lambda: [a for a in self.reports.of("ControlAck") if a.correlationId == correlation_id]  # noqa: E731
        pump(self.bus, [self.reports], lambda: bool(acks()), f"the ControlAck of {correlation_id}")
        return acks()[0]

    def close(self) -> None:
        self.bus.close()


@pytest.fixture
def venue(desk: Desk):
    v = Venue(desk)
    yield v
    v.close()


def test_exec_fills_a_marketable_order_against_the_synthetic_market(venue: Venue) -> None:
    _bid, ask = venue.top(2)
    oid = next_id()
    venue.orders.new(oid, 2, Side.Buy, 5, ask + 500)  # ETH-USD, 5 above the ask: marketable
    ack = venue.wait_report(oid, ExecType.New)
    assert ack.ordStatus == OrdStatus.New and ack.venueId == 1 and ack.venueOrderId
    pump(
        venue.bus,
        [venue.reports],
        lambda: any(r.ordStatus == OrdStatus.Filled for r in venue.reports_for(oid)),
        f"order {oid} filled",
    )
    fills = [r for r in venue.reports_for(oid) if r.execType == ExecType.Trade]
    assert sum(f.lastQty for f in fills) == 5
    assert all(f.lastPx <= ask + 500 for f in fills)
    assert fills[-1].cumQty == 5 and fills[-1].leavesQty == 0
    assert fills[-1].clientId == venue.orders.client_id and fills[-1].correlationId == oid


def test_exec_rests_then_cancels_a_passive_order(venue: Venue) -> None:
    bid, _ask = venue.top(1)
    oid = next_id()
    venue.orders.new(oid, 1, Side.Buy, 20, bid - 100_000)  # 1000 USD below the bid: rests
    assert venue.wait_report(oid, ExecType.New).leavesQty == 20
    venue.orders.cancel(next_id(), oid, oid, 1)
    canceled = venue.wait_report(oid, ExecType.Canceled)
    assert canceled.ordStatus == OrdStatus.Canceled and canceled.cumQty == 0


@pytest.mark.parametrize(
    ("instrument", "qty", "price_offset", "reason", "text"),
    [
        (999, 10, 0, Reason.UnknownInstrument, "does not trade instrument 999"),
        (3, 1, 1, Reason.InvalidOrder, "tick"),  # BTC-PERP tick is 5 mantissa units
        (1, 15, 0, Reason.InvalidOrder, "lot"),  # BTC-USD lot is 10 in the test static data
        (1, 2_000_000, 0, Reason.InvalidOrder, "maximum"),
        (1, 0, 0, Reason.InvalidOrder, "not positive"),
    ],
)
def test_exec_rejects_bad_orders_with_reasons(
    venue: Venue, instrument: int, qty: int, price_offset: int, reason: Reason, text: str
) -> None:
    bid, _ = venue.top(3 if instrument == 3 else 1)
    oid = next_id()
    venue.orders.new(oid, instrument, Side.Buy, qty, bid - 50 + price_offset)
    rej = venue.wait_report(oid, ExecType.Rejected)
    assert rej.ordStatus == OrdStatus.Rejected and rej.reason == reason
    assert text in rej.text, rej.text


def test_exec_rejects_an_order_without_an_oms_order_id(venue: Venue) -> None:
    bid, _ = venue.top(1)
    cl = next_id()
    venue.orders.new(cl, 1, Side.Buy, 10, bid - 1000, orderId=0)
    pump(
        venue.bus,
        [venue.reports],
        lambda: any(r.clOrdId == cl for r in venue.reports.of("ExecutionReport")),
        "the reject of an order without orderId",
    )
    rej = next(r for r in venue.reports.of("ExecutionReport") if r.clOrdId == cl)
    assert rej.execType == ExecType.Rejected and "orderId" in rej.text


def test_exec_refuses_to_cancel_an_unknown_order(venue: Venue) -> None:
    oid = next_id()
    venue.orders.cancel(next_id(), oid, oid, 1)
    refused = venue.wait_report(oid, ExecType.CancelRejected)
    assert refused.reason == Reason.UnknownOrder


def test_exec_ignores_other_venues_and_survives_garbage(desk: Desk, venue: Venue) -> None:
    before = _exec_counters(desk)
    oid = next_id()
    venue.orders.new(oid, 1, Side.Buy, 10, 1000, venueId=2)  # addressed to another venue
    venue.orders.send_raw(b"\x01\x02\x03")  # shorter than an SBE header
    venue.orders.send_raw(b"\x00" * 64)  # a header of another schema
    after = desk.wait_for(
        lambda: (
            (c := _exec_counters(desk)) and c["exec-sim.other_venue"] > before["exec-sim.other_venue"] and c
        ),
        "the exec daemon to count the other venue's order",
    )
    bad = sum(after.get(f"venue_orders.{k}", 0) for k in ("bad_short_header", "bad_schema"))
    assert bad >= 2
    assert not venue.reports_for(oid)
    # still serving
    bid, _ = venue.top(1)
    ok = next_id()
    venue.orders.new(ok, 1, Side.Buy, 10, bid - 1000)
    assert venue.wait_report(ok, ExecType.New).ordStatus == OrdStatus.New


def test_exec_restates_its_orders_on_a_reconciliation_query(venue: Venue) -> None:
    bid, _ = venue.top(1)
    resting = next_id()
    venue.orders.new(resting, 1, Side.Buy, 30, bid - 200_000)
    venue.wait_report(resting, ExecType.New)
    corr = (1 << 62) | 1  # the oms's reconciliation query for venue 1
    venue.orders.query_orders(corr)
    ack = venue.wait_ack(corr)
    assert ack.status == AckStatus.Done and ack.clientId == venue.orders.client_id
    restated = [r for r in venue.reports.of("ExecutionReport") if r.execType == ExecType.Restated]
    mine = [r for r in restated if r.orderId == resting]
    assert len(mine) == 1 and mine[0].ordStatus == OrdStatus.New and mine[0].leavesQty == 30
    assert all(r.correlationId == corr for r in restated)
    assert f"{len(restated)} orders restated" in ack.text
    other = (1 << 62) | 2  # addressed to venue 2: not ours to answer
    venue.orders.query_orders(other)
    venue.orders.query_orders(corr + 0)  # and ours again, to know the first was skipped by now
    pump(
        venue.bus,
        [venue.reports],
        lambda: sum(a.correlationId == corr for a in venue.reports.of("ControlAck")) == 2,
        "the second reconciliation answer",
    )
    assert not [a for a in venue.reports.of("ControlAck") if a.correlationId == other]


def test_a_query_right_behind_an_order_restates_it_after_its_ack(venue: Venue) -> None:
    """The order is still inside the venue's order latency when the query arrives: the answer waits
    one venue round trip, so the order is restated (not reported unknown, which would make the oms
    end an order the venue is about to ack) and its ack comes before the restatement."""
    bid, _ = venue.top(1)
    order = next_id()
    corr = 7 << 40 | order  # no venue bit: every exec daemon answers it
    venue.orders.new(order, 1, Side.Buy, 20, bid - 300_000)
    venue.orders.query_orders(corr)
    venue.wait_ack(corr)
    seen = []  # what arrived for this order and this query, in arrival order
    for m in venue.reports.messages:
        if m.NAME == "ExecutionReport" and m.orderId == order:
            seen.append(m.execType)
        elif m.NAME == "ControlAck" and m.correlationId == corr:
            seen.append("done")
    assert seen == [ExecType.New, ExecType.Restated, "done"], seen
    restated = next(r for r in venue.reports_for(order) if r.execType == ExecType.Restated)
    assert restated.correlationId == corr and restated.ordStatus == OrdStatus.New and restated.leavesQty == 20


def _exec_counters(desk: Desk) -> dict[str, int]:
    return desk.heartbeats()["exec-sim"].counters
