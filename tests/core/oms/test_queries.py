"""Queries: answered to the asking client only, paginated by the documented convention, read-only."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import AckStatus, OrdersSnapshot, QueryType, RiskSnapshot, Side
from core.oms.money import from_decimal64
from core.oms.queries import PAGE_SIZE, pages
from tests.core.oms.harness import BTC, ETH, Desk, config

MID = 6_000_000


def replies(d: Desk, mark: int) -> list[tuple[int, object]]:
    return [(o.target, o.message()) for o in d.out.outputs[mark:] if o.kind == "query_reply"]


def test_pages_follow_the_short_last_page_convention():
    assert [len(p) for p in pages(list(range(250)))] == [100, 100, 50]
    assert [len(p) for p in pages(list(range(200)))] == [100, 100, 0]  # an empty page says "no more"
    assert [len(p) for p in pages([])] == [0]


def test_orders_query_is_paginated_and_goes_to_the_asking_client():
    d = Desk(config({"max_open_orders": 1000}))
    d.book(BTC, MID - 50, MID + 50)
    for i in range(PAGE_SIZE + 30):
        d.order(1 + i % 2, i + 1, BTC, Side.Buy, 100, MID - 100 - i)
    mark = len(d.out)
    corr = d.query(QueryType.Orders, client=42)
    got = replies(d, mark)
    assert [t for t, _ in got] == [42, 42]
    assert all(isinstance(m, OrdersSnapshot) and m.correlationId == corr and m.clientId == 42 for _, m in got)
    assert [len(m.orders) for _, m in got] == [PAGE_SIZE, 30]
    ids = [o.orderId for _, m in got for o in m.orders]
    assert ids == list(range(1, PAGE_SIZE + 31))
    assert got[0][1].orders[0].price == MID - 100 and got[0][1].orders[0].leavesQty == 100
    assert len(d.out) - mark == 2  # nothing else was published


def test_positions_query_lists_strategy_and_account_positions():
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.order(1, 1, BTC, Side.Buy, 10_000, MID)
    d.ack(1)
    d.fill(1, 10_000, MID)
    mark = len(d.out)
    d.query(QueryType.Positions, client=5)
    [(_, snap)] = replies(d, mark)
    rows = {(p.strategyId, p.accountId): p for p in snap.positions}
    assert set(rows) == {(1, 1), (0, 1)}
    assert rows[(1, 1)].netQty == 10_000 and from_decimal64(*rows[(1, 1)].avgPx) == Decimal("60000")


def test_risk_query_reports_limits_with_their_use():
    d = Desk(
        config(
            {"max_gross_exposure": "1000000", "daily_loss": "5000", "max_open_orders": 10},
            instruments={BTC: {"max_position": "3"}},
        )
    )
    d.book(BTC, MID - 50, MID + 50)
    d.book(ETH, 299_950, 300_050)
    d.order(1, 1, BTC, Side.Buy, 10_000, MID)
    d.ack(1)
    d.fill(1, 10_000, MID)
    d.order(1, 2, BTC, Side.Buy, 5_000, MID - 100)  # working
    d.book(BTC, MID - 10_050, MID - 9_950)  # -100
    mark = len(d.out)
    d.query(QueryType.Risk, client=5)
    [(_, snap)] = replies(d, mark)
    assert isinstance(snap, RiskSnapshot) and snap.killEngaged == 0
    assert from_decimal64(*snap.dailyPnl) == -100
    used = {
        (r.name, r.strategyId, r.instrumentId): (from_decimal64(*r.value), from_decimal64(*r.used))
        for r in snap.limits
    }
    assert used[("daily_loss", 0, 0)] == (5000, 100)
    assert used[("max_open_orders", 1, 0)] == (10, 1)
    assert used[("max_position", 1, BTC)] == (3, Decimal("1.5"))  # 1 held + 0.5 working
    assert used[("max_gross_exposure", 0, 0)] == (1_000_000, Decimal("1.5") * 59_900)


def test_status_query_is_answered_with_an_ack_to_the_client():
    d = Desk(config())
    mark = len(d.out)
    d.query(QueryType.Status, client=8)
    [(target, ack)] = replies(d, mark)
    assert target == 8 and ack.status == AckStatus.Done and "working=0" in ack.text
