"""The market maker: symmetric quotes when flat, skew with inventory, its own limits, requotes only past its
threshold, pulls on a crossed or stale book, backs off after a refusal. It runs in a host fed SBE
messages; the oms's answers are ExecutionReports / PositionUpdates as the oms sends them."""

from __future__ import annotations

import pytest

from core.codec.messages import CancelOrder, ExecType, NewOrder, OrdStatus, Reason, ReplaceOrder, Side
from core.strategy import strategy_spec
from core.strategy.builtin.market_maker import MarketMaker
from tests.core.strategy.helpers import (
    BTC,
    CATALOG,
    MS,
    SEC,
    T0,
    delta,
    feed,
    make_host,
    position_update,
    report,
    snapshot,
)

BID, ASK = 6_000_000, 6_000_100  # 60000.00 / 60001.00: a 100-tick spread
MM = "core.strategy.builtin.market_maker:MarketMaker"


def mm(**params):
    p = {"instrument": "BTC-USD", "quote_size": "0.01", "max_position": "0.05", "spread_ticks": 20}
    p.update(params)
    p = {k: v for k, v in p.items() if v is not None}
    host, clock, out = make_host(strategy_spec("mm", 1, MM, p, CATALOG))
    return host, clock, out, host.strategy("mm").strategy


class Acks:
    """Answers the mm's requests as the oms would once the venue accepted them."""

    def __init__(self, host, out) -> None:
        self.host, self.out = host, out
        self.seen = 0
        self.next_id = 1

    def ack(self) -> list:
        reqs = self.out.requests()[self.seen :]
        self.seen += len(reqs)
        for r in reqs:
            strat = self.host.strategy("mm")
            order = strat.order(r.clOrdId)
            if isinstance(r, NewOrder):
                feed(
                    self.host, report(r, ExecType.New, OrdStatus.New, order_id=self.next_id, leaves_qty=r.qty)
                )
                self.next_id += 1
            elif isinstance(r, ReplaceOrder):
                feed(
                    self.host,
                    report(
                        r,
                        ExecType.Replaced,
                        OrdStatus.Replaced,
                        order_id=order.order_id,
                        orig_cl_ord_id=r.origClOrdId,
                        cum_qty=order.cum_qty,
                    ),
                )
            elif isinstance(r, CancelOrder):
                feed(
                    self.host,
                    report(
                        r,
                        ExecType.Canceled,
                        OrdStatus.Canceled,
                        order_id=order.order_id,
                        cl_ord_id=order.cl_ord_id,
                        cum_qty=order.cum_qty,
                    ),
                )
        return reqs


def quotes(strategy) -> tuple:
    b, a = strategy.quotes[Side.Buy], strategy.quotes[Side.Sell]
    return (b.price, b.qty) if b else None, (a.price, a.qty) if a else None


def test_flat_quotes_are_symmetric_about_the_mid() -> None:
    for ask in (ASK, ASK + 1):  # an even and an odd mid (x2)
        host, _, out, mm_ = mm()
        feed(host, snapshot(BTC.id, [(BID, 1000)], [(ask, 1000)]))
        bid_req, ask_req = out.requests()
        assert (bid_req.side, ask_req.side) == (Side.Buy, Side.Sell)
        mid_x2 = BID + ask
        assert mid_x2 - 2 * bid_req.price == 2 * ask_req.price - mid_x2  # same distance from the mid
        assert ask_req.price - bid_req.price in (20, 21)  # the configured width (+1 tick when the mid is .5)
        assert bid_req.qty == ask_req.qty == 100 and bid_req.flags.postOnly
        assert mm_.stats["quotes"] == 2


def test_quotes_width_in_bps() -> None:
    host, _, out, _ = mm(spread_ticks=None, spread_bps="0.1")
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    bid_req, ask_req = out.requests()
    # 0.1 bp of the mid 60000.50 is 60.0005 ticks: 30.00025 each side, rounded away from the mid
    assert (bid_req.price, ask_req.price) == (6_000_050 - 31, 6_000_050 + 31)


@pytest.mark.parametrize(("inventory", "shift"), [(300, -3), (-300, 3), (0, 0)])
def test_quotes_skew_against_the_inventory(inventory: int, shift: int) -> None:
    # 100 ticks per BTC: 0.03 BTC long -> 3 ticks lower; short -> higher
    host, _, out, mm_ = mm(skew_ticks_per_unit="100", requote_ticks=1)
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    Acks(host, out).ack()
    flat = quotes(mm_)
    feed(host, position_update(1, BTC.id, inventory, seq=1))
    reqs = out.requests()[2:]
    if shift == 0:
        assert reqs == [] and quotes(mm_) == flat
        return
    assert sorted(r.price for r in reqs) == sorted((flat[0][0] + shift, flat[1][0] + shift))
    assert all(isinstance(r, ReplaceOrder) for r in reqs)


def test_sizes_respect_the_position_limit() -> None:
    host, _, out, mm_ = mm(max_position="0.015", requote_ticks=1)  # quote 0.01, limit 0.015
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    acks = Acks(host, out)
    acks.ack()
    feed(host, position_update(1, BTC.id, 100, seq=1))  # long 0.01: the bid may add 0.005 only
    acks.ack()
    assert quotes(mm_)[0][1] == 50 and quotes(mm_)[1][1] == 100
    feed(host, position_update(1, BTC.id, 150, seq=2))  # at the limit: no bid at all
    (cancel,) = acks.ack()
    assert isinstance(cancel, CancelOrder)
    assert quotes(mm_)[0] is None and quotes(mm_)[1][1] == 100
    feed(host, position_update(1, BTC.id, -150, seq=3))  # short at the limit: no ask; the bid comes back
    reqs = acks.ack()
    assert {type(r).__name__: r.side if isinstance(r, NewOrder) else None for r in reqs}.keys() >= {
        "NewOrder"
    }
    assert quotes(mm_)[1] is None and quotes(mm_)[0][1] == 100


def test_requotes_only_past_the_threshold() -> None:
    host, _, out, mm_ = mm(requote_ticks=10)
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    Acks(host, out).ack()
    before = len(out.requests())
    feed(host, delta(BTC.id, [(1, BID + 8, 10), (2, ASK + 8, 10), (1, BID, 0), (2, ASK, 0)]))  # mid +8 ticks
    assert len(out.requests()) == before and mm_.stats["requotes"] == 0
    feed(host, delta(BTC.id, [(1, BID + 12, 10), (2, ASK + 12, 10), (1, BID + 8, 0), (2, ASK + 8, 0)]))
    reqs = out.requests()[before:]
    assert [type(r) for r in reqs] == [ReplaceOrder, ReplaceOrder]
    assert [r.price for r in reqs] == [BID + 50 - 10 + 12, BID + 50 + 10 + 12]
    assert mm_.stats["requotes"] == 2


def test_pulls_quotes_on_a_crossed_book_and_comes_back() -> None:
    host, _, out, mm_ = mm()
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    acks = Acks(host, out)
    acks.ack()
    feed(host, delta(BTC.id, [(1, ASK + 5, 10)]))  # bid above the ask: crossed
    pulled = acks.ack()
    assert [type(r) for r in pulled] == [CancelOrder, CancelOrder]
    assert mm_.pulled == "book unusable" and quotes(mm_) == (None, None)
    feed(host, delta(BTC.id, [(1, ASK + 5, 0)]))  # uncrossed
    back = acks.ack()
    assert [type(r) for r in back] == [NewOrder, NewOrder] and mm_.pulled == ""


def test_pulls_quotes_on_a_stale_book() -> None:
    host, clock, out, mm_ = mm(max_book_age_ms=1000, check_interval_ms=100)
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    acks = Acks(host, out)
    acks.ack()
    clock.set(T0 + 900 * MS)
    host.poll_timers(clock.time_ns())
    assert acks.ack() == []
    clock.set(T0 + 1100 * MS)
    host.poll_timers(clock.time_ns())
    assert [type(r) for r in acks.ack()] == [CancelOrder, CancelOrder] and mm_.pulled == "stale book"


def test_a_refused_side_waits_before_quoting_again() -> None:
    host, clock, out, mm_ = mm(reject_backoff_ms=500)
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    bid_req, ask_req = out.requests()
    feed(host, report(bid_req, ExecType.Rejected, OrdStatus.Rejected, reason=Reason.OrderRate))
    feed(host, report(ask_req, ExecType.New, OrdStatus.New, order_id=2, leaves_qty=100))
    assert len(out.requests()) == 2  # the refusal was not answered with a new order
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    assert len(out.requests()) == 2 and mm_.stats["rejects"] == 1
    clock.set(T0 + SEC)
    feed(host, snapshot(BTC.id, [(BID, 1000)], [(ASK, 1000)]))
    (again,) = out.requests()[2:]
    assert again.side == Side.Buy


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MarketMaker.Params(BTC, quote_size=1, max_position=1)  # type: ignore[arg-type]
