"""Helpers for the matching-engine tests: every engine test runs on both own-order books."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from core.codec.messages import OrdType, Side, TimeInForce
from core.instruments import Instrument
from core.sim import (
    CancelRequest,
    MatchingEngine,
    NewOrderRequest,
    OrderFilled,
    ReplaceRequest,
    SimVenueConfig,
    VenueReport,
)

BUY, SELL = Side.Buy, Side.Sell
BID, ASK = Side.Buy, Side.Sell  # book sides share the values (1 bid, 2 ask)

INST = Instrument(
    id=7,
    symbol="TEST-USD",
    venue="sim",
    kind="spot",
    base="TEST",
    quote="USD",
    price_exponent=-2,
    qty_exponent=0,
    tick_size=1,
    lot_size=1,
    min_qty=1,
    max_qty=100_000,
)


@pytest.fixture(params=["fast", "reference"])
def book_impl(request) -> str:
    return request.param


class Driver:
    """Sends requests to one engine with increasing times and client order ids."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.t = 1_000
        self.cl = 0
        self.log: list[VenueReport] = []

    def _tick(self) -> int:
        self.t += 10
        return self.t

    def new(
        self,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        acct: int = 1,
        strategy: int = 0,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        ord_type: OrdType | None = None,
        cl: int | None = None,
        instrument_id: int | None = None,
    ) -> list[VenueReport]:
        self.cl += 1
        req = NewOrderRequest(
            instrument_id=self.engine.instrument.id if instrument_id is None else instrument_id,
            cl_ord_id=self.cl if cl is None else cl,
            side=side,
            qty=qty,
            price=price,
            ord_type=ord_type
            if ord_type is not None
            else (OrdType.Market if price is None else OrdType.Limit),
            tif=tif,
            post_only=post_only,
            account_id=acct,
            strategy_id=strategy,
            client_id=acct,
        )
        return self._log(self.engine.on_new(req, self._tick()))

    def buy(self, qty: int, price: int | None = None, **kw) -> list[VenueReport]:
        return self.new(BUY, qty, price, **kw)

    def sell(self, qty: int, price: int | None = None, **kw) -> list[VenueReport]:
        return self.new(SELL, qty, price, **kw)

    def cancel(self, *, venue_order_id: int = 0, orig: int = 0, acct: int = 1) -> list[VenueReport]:
        self.cl += 1
        req = CancelRequest(
            instrument_id=self.engine.instrument.id,
            cl_ord_id=self.cl,
            orig_cl_ord_id=orig,
            venue_order_id=venue_order_id,
            account_id=acct,
        )
        return self._log(self.engine.on_cancel(req, self._tick()))

    def replace(
        self, venue_order_id: int, qty: int, price: int | None = None, *, acct: int = 1, cl: int | None = None
    ) -> list[VenueReport]:
        self.cl += 1
        req = ReplaceRequest(
            instrument_id=self.engine.instrument.id,
            cl_ord_id=self.cl if cl is None else cl,
            venue_order_id=venue_order_id,
            qty=qty,
            price=price,
            account_id=acct,
        )
        return self._log(self.engine.on_replace(req, self._tick()))

    def snapshot(self, bids, asks) -> list[VenueReport]:
        return self._log(self.engine.on_snapshot(bids, asks, self._tick()))

    def delta(self, *levels) -> list[VenueReport]:
        return self._log(self.engine.on_delta(levels, self._tick()))

    def trade(self, price: int, qty: int, aggressor: Side) -> list[VenueReport]:
        return self._log(self.engine.on_trade(price, qty, aggressor, self._tick()))

    def _log(self, reports: list[VenueReport]) -> list[VenueReport]:
        self.log.extend(reports)
        return reports


def make_engine(book_impl: str, inst: Instrument = INST, **config) -> MatchingEngine:
    return MatchingEngine(inst, replace(SimVenueConfig(), **config), book=book_impl)


@pytest.fixture
def drv(book_impl) -> Driver:
    return Driver(make_engine(book_impl))


def fills(reports: list[VenueReport], venue_order_id: int | None = None) -> list[OrderFilled]:
    return [
        r
        for r in reports
        if isinstance(r, OrderFilled) and (venue_order_id is None or r.venue_order_id == venue_order_id)
    ]


def kinds(reports: list[VenueReport]) -> list[str]:
    return [type(r).__name__ for r in reports]


def oid(reports: list[VenueReport]) -> int:
    """The venue order id of the first report (the ack of a new order)."""
    return reports[0].venue_order_id


ZERO = Decimal(0)
