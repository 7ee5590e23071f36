"""Reconciliation after a restart: the oms asks each venue for its open orders; restatements book the
fills it missed and take the venue's status; orders the venue does not know are ended."""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import Decimal64, ExecType, OrdStatus, Query, QueryType, RiskEventType, Side, decode
from core.oms.engine import OMS_CLIENT_ID, RECONCILE_CORRELATION
from core.oms.money import from_decimal64
from tests.core.oms.harness import BTC, SIM, Desk, config
from tests.core.oms.test_wal import replayed

MID = 6_000_000


def test_restart_replays_then_reconciles_with_the_venue():
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.order(1, 1, BTC, Side.Buy, 1_000, MID)  # order 1: the venue filled 500, we heard of 300
    d.order(1, 2, BTC, Side.Buy, 1_000, MID - 500)  # order 2: the venue never got it
    d.order(1, 3, BTC, Side.Sell, 200, MID + 500)  # order 3: the venue canceled it, we missed the report
    d.ack(1)
    d.fill(1, 300, MID)
    d.ack(3)
    engine, out = replayed(d)  # the restarted oms
    d.engine, d.out = engine, out
    [(venue, payload)] = engine.reconcile_requests()
    query = decode(payload)
    assert venue == SIM and isinstance(query, Query) and query.queryType == QueryType.Orders
    assert query.correlationId == RECONCILE_CORRELATION | SIM and query.clientId == OMS_CLIENT_ID
    mark = len(out)
    d.report(
        1, ExecType.Restated, OrdStatus.PartiallyFilled, cum=500, leaves=500, avg_px=Decimal64(6_000_008, -2)
    )  # 500 at 60000.08 on average
    d.report(3, ExecType.Restated, OrdStatus.Canceled, cum=0)
    d.venue_ack(query.correlationId, OMS_CLIENT_ID)
    o1, o2, o3 = (engine.orders[i] for i in (1, 2, 3))
    assert (o1.status, o1.cum_qty, o1.leaves) == (OrdStatus.PartiallyFilled, 500, 500)
    # the 200 we missed were at (500 x 60000.08 - 300 x 60000.00) / 200 = 60000.20
    assert o1.fill_value == 500 * 6_000_008  # price mantissa x qty
    pos = engine.ledger.positions[("s", 1, BTC)]
    assert pos.net == 500 and pos.avg_price() == 6_000_008
    assert o2.status == OrdStatus.Canceled and o3.status == OrdStatus.Canceled
    assert engine.working_count == 1 and engine.exposure.strategy[(1, BTC)] == [500, 500, 0]
    [ev] = [e for e in d.risk_events(mark) if e.eventType == RiskEventType.Reconciled]
    assert "2 orders restated" in ev.text and "1 orders unknown" in ev.text
    assert from_decimal64(*ev.value) == 3  # fill booked, order 3 status, order 2 lost
    restated = [r for r in d.reports(mark) if r.execType == ExecType.Restated]
    assert [r.orderId for r in restated] == [1, 3]
    assert from_decimal64(*restated[0].avgPx) == Decimal("60000.08")
