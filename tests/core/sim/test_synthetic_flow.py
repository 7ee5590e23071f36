"""The engine driven by the seeded synthetic market: random orders from several accounts against a
live book, checked with the same invariants as the property tests, on both own-order books."""

from __future__ import annotations

import random

import pytest

from core.book import ReferenceL2Book
from core.codec.messages import OrdType, Side, TimeInForce
from core.market.params import SyntheticParams
from core.market.synthetic import SyntheticMarket
from core.marketdata.events import BookDeltaEvent, TradeEvent
from core.sim import (
    CancelRequest,
    Liquidity,
    MatchingEngine,
    NewOrderRequest,
    OrderAccepted,
    OrderFilled,
    ReplaceRequest,
    SimVenueConfig,
)
from tests.core.sim.conftest import INST
from tests.core.sim.test_properties import check_book, check_reports


def drive(book: str, seed: int, market_book=None):
    params = SyntheticParams.for_instrument(INST, "100.00", level_spacing_ticks=1, event_rate_hz=200.0)
    gen = SyntheticMarket(INST, params, seed=seed)
    engine = MatchingEngine(INST, SimVenueConfig(), book=book, market_book=market_book)
    rng = random.Random(seed)
    reports = []
    accepted: list[tuple[int, int]] = []
    cl = 0
    last = None
    for ev in gen.take(6000):
        ts = ev.exchange_ts_ns
        reports += engine.on_event(ev, ts)
        check_book(engine)
        if isinstance(ev, TradeEvent):
            last = ev.price
        if last is None or not isinstance(ev, BookDeltaEvent):
            continue
        cl += 1
        u = rng.random()
        acct = rng.randint(1, 3)
        if u < 0.5:
            side = rng.choice([Side.Buy, Side.Sell])
            kind = rng.choice(["limit", "limit", "ioc", "fok", "post", "market"])
            price = last + rng.randint(-6, 6) * (1 if side == Side.Sell else -1)
            req = NewOrderRequest(
                instrument_id=INST.id, cl_ord_id=cl, side=side, qty=rng.randint(1, 60),
                price=None if kind == "market" else max(1, price),
                ord_type=OrdType.Market if kind == "market" else OrdType.Limit,
                tif={"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}.get(kind, TimeInForce.GTC),
                post_only=kind == "post", account_id=acct,
            )  # fmt: skip
            out = engine.on_new(req, ts)
            accepted += [(r.venue_order_id, acct) for r in out if isinstance(r, OrderAccepted)]
        elif u < 0.7 and accepted:
            venue_id, acct = rng.choice(accepted)
            out = engine.on_cancel(
                CancelRequest(instrument_id=INST.id, cl_ord_id=cl, venue_order_id=venue_id, account_id=acct),
                ts,
            )
        elif u < 0.8 and accepted:
            venue_id, acct = rng.choice(accepted)
            req = ReplaceRequest(
                instrument_id=INST.id, cl_ord_id=cl, venue_order_id=venue_id, account_id=acct,
                qty=rng.randint(1, 80), price=last + rng.randint(-5, 5),
            )  # fmt: skip
            out = engine.on_replace(req, ts)
        else:
            continue
        reports += out
        check_book(engine)
    return engine, reports


@pytest.mark.parametrize("seed", [1, 2])
def test_random_orders_on_the_synthetic_market(seed):
    engine, reports = drive("fast", seed)
    check_reports(engine, reports)
    fills = [r for r in reports if isinstance(r, OrderFilled)]
    # The flow exercises every way to fill: internal matches, taking market size, and the market
    # reaching resting orders (trades through the queue or the book moving through).
    assert any(f.contra_venue_order_id for f in fills)
    assert any(f.contra_venue_order_id == 0 and f.liquidity == Liquidity.TAKER for f in fills)
    assert any(f.contra_venue_order_id == 0 and f.liquidity == Liquidity.MAKER for f in fills)


def test_fast_and_reference_agree_on_the_synthetic_market():
    _, fast = drive("fast", 3)
    _, reference = drive("reference", 3, market_book=ReferenceL2Book(INST.id))
    assert fast == reference
