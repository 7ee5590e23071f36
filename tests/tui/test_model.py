"""The TUI's model: real encoded bus messages folded into state, conflation, staleness. No Textual, no bus."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.codec.messages import (
    AccountState,
    BookDelta,
    BookSide,
    BoolFlag,
    DaemonState,
    ExecType,
    FeedState,
    FeedStatus,
    KillSwitchState,
    OrdersSnapshot,
    OrdStatus,
    OrdType,
    Reason,
    RiskEvent,
    RiskEventType,
    Side,
    TimeInForce,
    decode,
)
from core.instruments import load_instruments
from tests.tui.recorded import (
    BTC,
    ETH,
    MONO0,
    OPERATOR,
    SYSTEM,
    T0,
    book_delta,
    book_snapshot,
    d64,
    execution_report,
    heartbeat,
    position,
    recorded_model,
    risk_snapshot,
    trade,
)
from tui.model import DeskModel, DeskStatus, ModelConfig, StaleRules
from tui.model.health import LatencyWindow
from tui.model.mdwire import IID, PUBLISH_TS, SEQ, delta_levels, read_delta

MS = 1_000_000
S = 1_000_000_000


def new_model(**rules: int) -> DeskModel:
    config = ModelConfig(depth=5, rules=StaleRules(**rules)) if rules else ModelConfig(depth=5)
    m = DeskModel(load_instruments(), "t", config, wall_clock=lambda: T0)
    m.set_connected(True, MONO0)
    return m


def md(m: DeskModel, payload: bytes, at: int = MONO0) -> None:
    m.on_md_frame(payload, int.from_bytes(payload[2:4], "little"), at)


def state(m: DeskModel, payload: bytes, at: int = MONO0) -> None:
    m.on_state(decode(payload), at)


def levels(view_side) -> list[tuple[int, int]]:
    return [(lv.price, lv.qty) for lv in view_side]


# -- books ---------------------------------------------------------------------------------------
def test_snapshot_then_deltas_build_the_ladder() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5), (99, 3)], asks=[(101, 2), (103, 1)]))
    md(m, book_delta(BTC, 2, T0, [(BookSide.Bid, 100, 7), (BookSide.Ask, 102, 4), (BookSide.Ask, 101, 0)]))
    b = m.view(MONO0, T0).books[BTC]
    assert b.synced and b.stale_reason == ""
    assert levels(b.bids) == [(100, 7), (99, 3)]
    assert levels(b.asks) == [(102, 4), (103, 1)]
    assert b.spread == 2 and b.mid_x2 == 202
    assert b.symbol == "BTC-USD"


def test_sequence_gap_drops_sync_until_the_next_snapshot() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    md(m, book_delta(BTC, 3, T0, [(BookSide.Bid, 100, 9)]))  # seq 2 was lost
    b = m.view(MONO0, T0).books[BTC]
    assert not b.synced
    assert "gap" in b.stale_reason and "expected 2, got 3" in b.stale_reason
    assert levels(b.bids) == [(100, 5)]  # the delta after the gap was not applied
    md(m, book_delta(BTC, 4, T0, [(BookSide.Bid, 100, 11)]))  # in sequence again, still not trusted
    assert levels(m.view(MONO0, T0).books[BTC].bids) == [(100, 5)]
    md(m, book_snapshot(BTC, 5, T0, bids=[(100, 12)], asks=[(101, 2)]))
    md(m, book_delta(BTC, 6, T0, [(BookSide.Ask, 101, 6)]))
    b = m.view(MONO0, T0).books[BTC]
    assert b.synced and b.stale_reason == "" and b.gaps == 1
    assert levels(b.bids) == [(100, 12)] and levels(b.asks) == [(101, 6)]


def test_deltas_before_any_snapshot_are_not_shown() -> None:
    m = new_model()
    md(m, book_delta(BTC, 7, T0, [(BookSide.Bid, 100, 9)]))
    b = m.view(MONO0, T0).books[BTC]
    assert not b.synced and b.bids == () and "snapshot" in b.stale_reason


def test_trades_are_a_tape_newest_first_and_advance_the_sequence() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    md(m, trade(BTC, 2, T0 + 1, 101, 3, Side.Buy))
    md(m, trade(BTC, 3, T0 + 2, 100, 4, Side.Sell))
    md(m, book_delta(BTC, 4, T0 + 3, [(BookSide.Ask, 101, 0)]))  # would be a gap if trades did not count
    b = m.view(MONO0, T0).books[BTC]
    assert b.synced
    assert [(t[1], t[2], t[3]) for t in b.trades] == [(100, 4, int(Side.Sell)), (101, 3, int(Side.Buy))]
    assert b.asks == ()


def test_feed_state_marks_a_book_the_feed_lost() -> None:
    m = new_model()
    md(m, book_snapshot(ETH, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    md(
        m,
        FeedState.encode_bytes(
            instrumentId=ETH,
            ts=T0,
            status=FeedStatus.Gap,
            expectedSeq=5,
            receivedSeq=9,
            gapCount=1,
            text="venue skipped 4 updates",
        ),
    )
    assert m.view(MONO0, T0).books[ETH].stale_reason == "feed Gap: venue skipped 4 updates"
    md(
        m,
        FeedState.encode_bytes(
            instrumentId=ETH, ts=T0, status=FeedStatus.Ok, expectedSeq=0, receivedSeq=0, gapCount=1, text=""
        ),
    )
    assert m.view(MONO0, T0).books[ETH].stale_reason == ""


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([1, 2]), st.integers(-(2**62), 2**62), st.integers(0, 2**62)),
        min_size=0,
        max_size=40,
    ),
    st.integers(1, 2**32 - 1),
    st.integers(0, 2**63 - 1),
)
def test_fast_delta_reader_agrees_with_the_generated_codec(levels_in, iid, seq) -> None:
    frame = BookDelta.encode_bytes(
        instrumentId=iid,
        seq=seq,
        venueSeq=3,
        exchangeTs=4,
        receiveTs=5,
        publishTs=6,
        levels=[(s, p, q, 1) for s, p, q in levels_in],
    )
    fast = read_delta(frame)
    assert fast is not None
    generic = decode(frame)
    assert (fast[IID], fast[SEQ], fast[PUBLISH_TS]) == (generic.instrumentId, generic.seq, generic.publishTs)
    assert delta_levels(fast) == [(int(x.side), x.price, x.qty) for x in generic.levels]


def test_a_delta_with_a_longer_block_takes_the_generated_decoder() -> None:
    """A newer schema minor version may append fields to the block: the fast reader steps aside and the
    generated decoder skips the extra bytes by blockLength."""
    frame = bytearray(book_delta(BTC, 2, T0, [(BookSide.Bid, 100, 9)]))
    block = int.from_bytes(frame[0:2], "little")
    extended = (block + 8).to_bytes(2, "little") + bytes(frame[2 : 8 + block]) + b"\xee" * 8
    extended += bytes(frame[8 + block :])
    assert read_delta(extended) is None
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    md(m, extended)
    b = m.view(MONO0, T0).books[BTC]
    assert b.synced and levels(b.bids) == [(100, 9)]
    assert m.md_undecodable == 0


def test_garbage_market_data_is_counted_not_fatal() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    bad = bytearray(book_delta(BTC, 2, T0, [(BookSide.Bid, 100, 9)]))
    bad[54:56] = (60000).to_bytes(2, "little")  # claims 60000 levels in a 77-byte frame
    m.on_md_frame(bytes(bad), 2, MONO0)
    assert m.md_undecodable == 1
    assert levels(m.view(MONO0, T0).books[BTC].bids) == [(100, 5)]


# -- conflation ----------------------------------------------------------------------------------
def test_views_conflate_any_number_of_messages_to_the_latest_state() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    md(m, book_snapshot(ETH, 1, T0, bids=[(50, 5)], asks=[(51, 2)]))
    v1 = m.view(MONO0, T0)
    for i in range(10_000):
        md(
            m,
            book_delta(BTC, 2 + i, T0 + i, [(BookSide.Bid, 100, 1 + i % 97), (BookSide.Ask, 101 + i % 3, 5)]),
        )
    v2 = m.view(MONO0 + 1, T0 + 1)
    btc = v2.books[BTC]
    # the last delta (i = 9999) decides each level; every level ever touched is still there
    assert levels(btc.bids) == [(100, 1 + 9999 % 97)]
    assert levels(btc.asks) == [(101, 5), (102, 5), (103, 5)]
    assert btc.messages == 10_001 and btc.seq == 10_001
    # untouched sections are the very same objects: the UI skips them by identity
    assert v2.books[ETH] is v1.books[ETH]
    assert v2.orders is v1.orders and v2.positions is v1.positions and v2.limits is v1.limits
    assert v2.books[BTC] is not v1.books[BTC]


def test_ladder_depth_is_the_configured_depth_best_first() -> None:
    m = new_model()
    md(
        m,
        book_snapshot(
            BTC, 1, T0, bids=[(100 - i, 1 + i) for i in range(20)], asks=[(101 + i, 1 + i) for i in range(20)]
        ),
    )
    b = m.view(MONO0, T0).books[BTC]
    assert [lv.price for lv in b.bids] == [100, 99, 98, 97, 96]
    assert [lv.price for lv in b.asks] == [101, 102, 103, 104, 105]


# -- orders, positions, risk ---------------------------------------------------------------------
def _order(order_id: int, status: OrdStatus, exec_type: ExecType, seq: int, **kw) -> bytes:
    args = dict(
        order_id=order_id,
        strategy_id=1,
        iid=BTC,
        side=Side.Buy,
        price=100,
        qty=500,
        status=status,
        exec_type=exec_type,
        ts=T0,
        seq=seq,
    )
    args.update(kw)
    return execution_report(**args)


def test_orders_follow_execution_reports_and_own_orders_mark_the_ladder() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5), (99, 3)], asks=[(101, 2)]))
    state(m, _order(1, OrdStatus.New, ExecType.New, 1))
    state(m, _order(2, OrdStatus.New, ExecType.New, 2, price=99, qty=200))
    state(m, _order(3, OrdStatus.New, ExecType.New, 3, side=Side.Sell, price=101, qty=100))
    state(
        m,
        _order(
            1,
            OrdStatus.PartiallyFilled,
            ExecType.Trade,
            4,
            cum=120,
            last_px=100,
            last_qty=120,
            fee=d64(3, -2),
        ),
    )
    v = m.view(MONO0, T0)
    assert sorted(o.order_id for o in v.orders) == [1, 2, 3]
    one = next(o for o in v.orders if o.order_id == 1)
    assert (one.status, one.cum_qty, one.leaves_qty) == (OrdStatus.PartiallyFilled, 120, 380)
    assert [(f.order_id, f.price, f.qty, f.fee) for f in v.fills] == [(1, 100, 120, Decimal("0.03"))]
    b = v.books[BTC]
    assert [(lv.price, lv.own) for lv in b.bids] == [(100, 380), (99, 200)]
    assert [(lv.price, lv.own) for lv in b.asks] == [(101, 100)]
    state(m, _order(1, OrdStatus.Filled, ExecType.Trade, 5, cum=500, last_px=100, last_qty=380))
    state(m, _order(2, OrdStatus.Canceled, ExecType.Canceled, 6, price=99, qty=200))
    v = m.view(MONO0, T0)
    assert [o.order_id for o in v.orders] == [3]
    assert [f.qty for f in v.fills] == [380, 120]
    assert [lv.own for lv in v.books[BTC].bids] == [0, 0]


def test_an_orders_snapshot_replaces_the_working_set() -> None:
    m = new_model()
    state(m, _order(1, OrdStatus.New, ExecType.New, 1))
    state(m, _order(2, OrdStatus.New, ExecType.New, 2))
    snap = OrdersSnapshot.encode_bytes(
        correlationId=9,
        clientId=7,
        ts=T0,
        orders=[
            (
                2,
                1002,
                1,
                BTC,
                1,
                Side.Buy,
                OrdType.Limit,
                TimeInForce.GTC,
                OrdStatus.PartiallyFilled,
                100,
                500,
                100,
                400,
                T0,
                T0,
            ),
            (
                5,
                1005,
                3,
                ETH,
                1,
                Side.Sell,
                OrdType.Limit,
                TimeInForce.IOC,
                OrdStatus.New,
                51,
                10,
                0,
                10,
                T0,
                T0,
            ),
        ],
    )
    m.on_orders_snapshot([decode(snap)])
    v = m.view(MONO0, T0)
    assert sorted((o.order_id, o.status, o.leaves_qty) for o in v.orders) == [
        (2, OrdStatus.PartiallyFilled, 400),
        (5, OrdStatus.New, 10),
    ]


def test_positions_per_strategy_with_totals_and_the_desk_total_from_the_oms() -> None:
    m = new_model()
    state(m, position(1, BTC, 100, d64(5999950, -2), d64(300, -2), d64(5, -1), 6000025, T0, 1))
    state(m, position(1, ETH, -2000, d64(300010, -2), d64(-100, -2), d64(200, -2), 300000, T0, 2))
    state(m, position(3, ETH, 1000, d64(300000, -2), d64(50, -2), d64(-25, -2), 300000, T0, 3))
    state(m, position(0, BTC, 100, d64(5999950, -2), d64(300, -2), d64(5, -1), 6000025, T0, 4))  # account row
    state(
        m,
        AccountState.encode_bytes(
            accountId=1,
            ts=T0,
            realizedPnl=d64(250, -2),
            unrealizedPnl=d64(225, -2),
            dailyPnl=d64(475, -2),
            grossExposure=d64(12000, 0),
            netExposure=d64(-3000, 0),
            openOrders=4,
            killEngaged=BoolFlag(0),
            seq=5,
        ),
    )
    v = m.view(MONO0, T0)
    assert [(p.strategy_id, p.instrument_id) for p in v.positions] == [(1, BTC), (1, ETH), (3, ETH)]
    totals = {t.strategy_id: t for t in v.strategy_totals}
    assert totals[1].realized == Decimal("2.00") and totals[1].unrealized == Decimal("2.50")
    # exposure at the mark: 0.0100 BTC x 60000.25 + 2.000 ETH x 3000.00
    assert totals[1].exposure == Decimal("600.0025") + Decimal("6000.00000")
    assert totals[3].pnl == Decimal("0.25")
    d = v.desk_total
    assert d is not None and d.pnl == Decimal("4.75") and d.open_orders == 4 and d.gross_exposure == 12000


def test_kill_switch_is_unknown_until_the_oms_speaks_then_follows_it() -> None:
    m = new_model()
    assert m.view(MONO0, T0).kill.engaged is None
    m.on_state(
        decode(
            KillSwitchState.encode_bytes(
                ts=T0,
                engaged=BoolFlag(1),
                changedTs=T0,
                workingOrders=2,
                operator=OPERATOR,
                reason="fat finger",
            )
        ),
        MONO0,
    )
    k = m.view(MONO0, T0).kill
    assert k.engaged is True and k.reason == "fat finger" and k.operator.startswith("trader@desk1")
    state(
        m,
        RiskEvent.encode_bytes(
            ts=T0,
            eventType=RiskEventType.KillReleased,
            reason=Reason.Operator,
            strategyId=0,
            instrumentId=0,
            clOrdId=0,
            correlationId=0,
            value=d64(0),
            limit=d64(0),
            operator=OPERATOR,
            seq=1,
            text="all clear",
        ),
    )
    v = m.view(MONO0, T0)
    assert v.kill.engaged is False
    assert [(e.event, e.text) for e in v.risk_events] == [(RiskEventType.KillReleased, "all clear")]


def test_risk_snapshot_limits_with_their_use() -> None:
    m = new_model()
    m.on_risk_snapshot([decode(risk_snapshot(kill_engaged=True))])
    v = m.view(MONO0, T0)
    by_name = {lim.name: lim for lim in v.limits}
    assert by_name["max_position"].strategy_id == 1 and by_name["max_position"].instrument_id == BTC
    assert by_name["max_open_orders"].use_fraction == Decimal("0.06")  # 3 of 50
    assert by_name["daily_loss"].use_fraction == Decimal("0.00105")  # |-5.25| of |-5000|
    assert v.kill.engaged is True and v.kill.reason == "stop: fat finger on ETH"
    assert v.daily_pnl == Decimal("-5.25")


def test_a_gap_in_the_oms_sequence_asks_for_a_resync() -> None:
    m = new_model()
    m.resync_wanted = ""
    state(m, _order(1, OrdStatus.New, ExecType.New, 1))
    state(m, _order(2, OrdStatus.New, ExecType.New, 2))
    assert m.resync_wanted == ""
    state(m, _order(3, OrdStatus.New, ExecType.New, 7))
    assert "missed 4 state messages" in m.resync_wanted
    m.resync_wanted = ""
    state(m, _order(4, OrdStatus.New, ExecType.New, 1))  # the oms started over
    assert "restarted its sequence" in m.resync_wanted


# -- health and staleness ------------------------------------------------------------------------
def _beat(m: DeskModel, role: str, at: int, pid: int = 10) -> None:
    m.on_health(decode(heartbeat(role, pid, T0, 1, [(f"{role}.sent", 5)])), at)


def test_desk_status_follows_connection_and_heartbeats() -> None:
    m = DeskModel(load_instruments(), "t", ModelConfig(rules=StaleRules(stale_after_ns=3 * S)))
    assert m.view(MONO0, T0).link.status == DeskStatus.DOWN
    m.set_connected(True, MONO0)
    assert m.view(MONO0 + 1 * S, T0).link.status == DeskStatus.CONNECTING
    assert m.view(MONO0 + 4 * S, T0).link.status == DeskStatus.STALE  # connected, nobody beats
    _beat(m, "md", MONO0 + 4 * S)
    _beat(m, "oms", MONO0 + 4 * S)
    assert m.view(MONO0 + 5 * S, T0).link.status == DeskStatus.LIVE
    _beat(m, "md", MONO0 + 7 * S)  # the oms goes quiet
    v = m.view(MONO0 + 8 * S, T0)
    assert v.link.status == DeskStatus.DEGRADED and "oms silent for 4.0 s" in v.link.status_text
    assert {d.role: d.stale for d in v.daemons} == {"md": False, "oms": True}
    v = m.view(MONO0 + 11 * S, T0)  # everyone quiet
    assert v.link.status == DeskStatus.STALE and "no heartbeat from any daemon" in v.link.status_text
    m.set_connected(False, MONO0 + 12 * S, "lost the media driver")
    v = m.view(MONO0 + 12 * S, T0)
    assert v.link.status == DeskStatus.DOWN and v.link.status_text == "lost the media driver"


def test_a_degraded_daemon_degrades_the_desk() -> None:
    from core.codec.messages import Heartbeat

    m = new_model()
    m.on_health(
        decode(
            Heartbeat.encode_bytes(
                ts=T0,
                role="md",
                pid=3,
                state=DaemonState.Degraded,
                seq=1,
                startedTs=T0,
                strategyId=0,
                counters=[],
                instance="t",
            )
        ),
        MONO0,
    )
    v = m.view(MONO0 + 1, T0)
    assert v.link.status == DeskStatus.DEGRADED and v.link.status_text == "md degraded"


def test_a_book_without_market_data_goes_stale() -> None:
    m = new_model(book_stale_after_ns=5 * S)
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]), at=MONO0)
    assert m.view(MONO0 + 4 * S, T0).books[BTC].stale_reason == ""
    assert m.view(MONO0 + 6 * S, T0).books[BTC].stale_reason == "no market data for 6.0 s"


def test_market_data_older_than_the_threshold_on_arrival_means_behind() -> None:
    m = new_model(behind_after_ns=1 * S)
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    m.end_batch(T0 + 200 * MS)
    v = m.view(MONO0, T0)
    assert not v.link.behind and v.link.lag_ns == 200 * MS
    md(m, book_delta(BTC, 2, T0 + 10 * MS, [(BookSide.Bid, 100, 1)]))
    m.end_batch(T0 + 2_010 * MS)
    v = m.view(MONO0 + 1, T0)
    assert v.link.behind and v.link.lag_ns == 2 * S
    assert m.view(MONO0 + 2, T0).link.lag_ns == 0  # measured per view period


def test_a_rejoin_marks_every_book_out_of_sync_and_says_so() -> None:
    m = new_model()
    md(m, book_snapshot(BTC, 1, T0, bids=[(100, 5)], asks=[(101, 2)]))
    m.md_rejoined("lost the market data stream")
    v = m.view(MONO0, T0)
    assert not v.books[BTC].synced and "rejoined" in v.books[BTC].stale_reason
    assert v.link.rejoins == 1 and "lost the market data stream" in v.link.notices[0].text


def test_latency_percentiles_are_nearest_rank_over_the_window() -> None:
    w = LatencyWindow(size=1000)
    for i in range(1, 101):
        w.on_new_order(send_ts=1_000 + i, trigger_ts=1_000)
    assert w.percentiles("tick→order") == (100, 50, 99, 100)
    assert w.source == "NewOrder"
    w2 = LatencyWindow(size=10)
    for i in range(1, 101):
        w2.on_new_order(send_ts=1_000 + i, trigger_ts=1_000)
    assert w2.percentiles("tick→order") == (10, 95, 100, 100)  # the last 10 samples: 91..100


def test_the_recorded_session_folds_into_a_complete_view() -> None:
    v = recorded_model(kill_engaged=True).view(MONO0 + 200 * MS, T0)
    assert set(v.instruments) == {1, 2, 3}
    assert v.kill.engaged and {d.role for d in v.daemons} == {"md", "oms", "exec-sim", "strategies"}
    assert v.latency.source == "LatencySample" and v.latency.stages[0][1] == 20
    assert len(v.orders) == 3 and len(v.fills) == 2 and v.desk_total is not None
    assert v.link.status == DeskStatus.LIVE


def test_operator_identity_is_absent_for_system_events() -> None:
    m = new_model()
    state(
        m,
        RiskEvent.encode_bytes(
            ts=T0,
            eventType=RiskEventType.CheckFired,
            reason=Reason.PriceBand,
            strategyId=1,
            instrumentId=BTC,
            clOrdId=1,
            correlationId=0,
            value=d64(7),
            limit=d64(5),
            operator=SYSTEM,
            seq=1,
            text="",
        ),
    )
    e = m.view(MONO0, T0).risk_events[0]
    assert e.operator == "" and e.reason == Reason.PriceBand and e.value == 7


def test_first_state_message_sets_the_baseline() -> None:
    m = new_model()
    m.resync_wanted = ""
    state(m, _order(1, OrdStatus.New, ExecType.New, 500))  # joining mid-session is not a gap
    assert m.resync_wanted == ""
