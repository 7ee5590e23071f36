"""The WAL: journaled inputs replayed through a fresh engine rebuild state and outputs byte for byte."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.codec.messages import ExecType, KillAction, OrdStatus, QueryType, Side, TimeInForce
from core.journal import FsyncPolicy
from core.oms.engine import OmsEngine
from core.oms.outputs import OutputCollector
from core.oms.wal import (
    JournaledEngine,
    WalDamageError,
    clock_tick,
    is_journaled,
    open_wal,
    replay,
    replay_wal,
)
from tests.core.oms.harness import (
    BTC,
    CATALOG,
    ETH,
    MS,
    PERP,
    SEC,
    VENUES,
    Desk,
    check_invariants,
    config,
    state_of,
)
from tests.core.oms.simlink import SimLink

MID = 6_000_000


def journaled(desk: Desk) -> list[tuple[int, bytes]]:
    return [(ts, p) for ts, p in desk.inputs if is_journaled(p)]


def outputs_without_query_replies(out: OutputCollector) -> list:
    return [o for o in out.outputs if o.kind != "query_reply"]


def replayed(desk: Desk) -> tuple[OmsEngine, OutputCollector]:
    out = OutputCollector()
    engine = replay(journaled(desk), CATALOG, desk.config, out, desk.fees, VENUES)
    return engine, out


def busy_session() -> Desk:
    """Orders, fills through the sim venue, limit change, dead-man, kill, flatten, release."""
    d = Desk(
        config(
            {"price_band_bps": "300", "daily_loss": "100000", "flatten_band_bps": "50"},
            strategies={1: {"deadman_ms": 2000}},
        )
    )
    link = SimLink(d)
    link.market(BTC, [(MID - 50, 200_000)], [(MID + 50, 200_000)])
    link.market(PERP, [(600_000, 5_000)], [(600_010, 5_000)])
    d.heartbeat(1)
    for i in range(6):
        d.order(
            1, i + 1, BTC, Side.Buy if i % 2 else Side.Sell, 2_000 + i * 100, MID + (60 if i % 2 else -60)
        )
        d.order(2, i + 1, PERP, Side.Buy, 10 + i, 600_010 - 5 * i)
        link.run(3 * MS)
        d.query(QueryType.Positions)
    d.order(1, 20, BTC, Side.Buy, 1_000, MID - 5_000)  # rests
    d.set_limit("max_order_qty", "0.5", strategy=1, inst=BTC)
    link.market(BTC, [(MID + 950, 200_000)], [(MID + 1_050, 200_000)])
    link.run(3 * SEC)  # strategy 1 misses its heartbeat: dead-man cancels its order
    d.query(QueryType.Risk)
    d.kill(reason="end of day")
    d.flatten()
    link.run(2 * SEC)
    d.kill(KillAction.Release, reason="flat")
    d.query(QueryType.Status)
    link.run(1 * SEC)
    return d


def test_replay_reproduces_state_and_outputs_byte_for_byte():
    d = busy_session()
    check_invariants(d.engine)
    engine, out = replayed(d)
    assert outputs_without_query_replies(out) == outputs_without_query_replies(d.out)
    assert state_of(engine) == state_of(d.engine)
    # the session did what it says: fills, a dead-man, a kill, a flatten
    kinds = {e.eventType.name for e in d.risk_events()}
    assert {"DeadManTriggered", "KillEngaged", "FlattenDone", "KillReleased", "LimitChanged"} <= kinds
    assert any(r.execType == ExecType.Trade for r in d.reports())


def test_queries_are_not_journaled_and_change_nothing():
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    d.order(1, 1, BTC, Side.Buy, 100, MID)
    before = state_of(d.engine)
    for q in QueryType:
        if not q.is_unknown:
            d.query(q)
    assert state_of(d.engine) | {"ids": None} == before | {"ids": None}
    assert d.engine.seq == before["ids"][2]  # no output sequence number was used
    assert [p for _, p in d.inputs if not is_journaled(p)] == [p for _, p in d.inputs[-4:]]


def test_what_is_journaled():
    d = Desk(config())
    d.heartbeat(0)  # another daemon's heartbeat: no strategy
    d.heartbeat(5)
    d.venue_ack(1, 0xFFFF_FFFF)  # a venue's end of reconciliation
    d.venue_ack(1, 44)  # somebody else's
    flags = [is_journaled(p) for _, p in d.inputs]
    assert flags == [False, True, True, False]
    assert is_journaled(clock_tick(5)) and not is_journaled(b"junk")


def test_the_real_journal_round_trip_with_a_restart(tmp_path):
    d = busy_session()
    wal_dir = tmp_path / "wal"
    half = len(d.inputs) // 2
    live = OmsEngine(CATALOG, d.config, OutputCollector(), venue_ids=VENUES)
    with open_wal(wal_dir, "test", FsyncPolicy.never()) as writer:
        host = JournaledEngine(live, writer)
        for ts, payload in d.inputs[:half]:
            host.on_message(ts, payload)
    # restart: rebuild from the WAL, then carry on journaling into the same directory
    resumed = replay_wal(wal_dir, CATALOG, d.config, venue_ids=VENUES)
    assert state_of(resumed) == state_of(live)
    with open_wal(wal_dir, "test", FsyncPolicy.never()) as writer:
        host = JournaledEngine(resumed, writer)
        for ts, payload in d.inputs[half:]:
            host.on_message(ts, payload)
    out = OutputCollector()
    final = replay_wal(wal_dir, CATALOG, d.config, out, venue_ids=VENUES)
    assert state_of(final) == state_of(d.engine)
    assert outputs_without_query_replies(out) == outputs_without_query_replies(d.out)
    assert final.counters["wal_torn_tail"] == 0


def test_a_torn_tail_ends_the_log_and_middle_damage_refuses(tmp_path):
    wal_dir = tmp_path / "wal"
    d = Desk(config())
    d.book(BTC, MID - 50, MID + 50)
    for i in range(5):
        d.order(1, i + 1, BTC, Side.Buy, 100, MID)
    with open_wal(wal_dir, "test", FsyncPolicy.never()) as writer:
        host = JournaledEngine(OmsEngine(CATALOG, d.config, OutputCollector(), venue_ids=VENUES), writer)
        for ts, payload in d.inputs:
            host.on_message(ts, payload)
    [segment] = sorted(wal_dir.glob("*.seg"))
    for idx in wal_dir.glob("*.idx"):
        idx.unlink()  # as after a crash: no sealed index
    size = segment.stat().st_size
    with open(segment, "r+b") as f:
        f.truncate(size - 20)  # the last order's record cut short
    engine = replay_wal(wal_dir, CATALOG, d.config, venue_ids=VENUES)
    assert engine.counters["wal_torn_tail"] == 1 and engine.next_order_id == 5  # four orders survived
    with open(segment, "r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(16))  # damage in the middle, with records after it
        f.seek(0, 2)
    with pytest.raises(WalDamageError):
        replay_wal(wal_dir, CATALOG, d.config, venue_ids=VENUES)


# -- random sessions ---------------------------------------------------------------------------------
_order = st.tuples(
    st.just("order"),
    st.integers(1, 3),
    st.sampled_from([BTC, ETH]),
    st.booleans(),
    st.integers(1, 3_000),
    st.integers(-200, 200),
    st.booleans(),
)
_ack = st.tuples(st.just("ack"), st.integers(0, 30))
_fill = st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 2_000), st.booleans())
actions = st.lists(
    st.one_of(
        _order,
        _order,
        _order,
        _ack,
        _ack,
        _fill,
        _fill,
        _fill,
        st.tuples(st.just("book"), st.sampled_from([BTC, ETH]), st.integers(-300, 300)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("canceled"), st.integers(0, 30)),
        st.tuples(st.just("kill"), st.booleans()),
        st.tuples(
            st.just("limit"),
            st.sampled_from(["max_order_qty", "price_band_bps", "max_open_orders"]),
            st.integers(1, 500),
        ),
        st.tuples(st.just("cancel_all"), st.integers(0, 3)),
        st.tuples(st.just("tick"), st.integers(1, 3_000)),
        st.tuples(st.just("start"), st.integers(1, 10_000)),  # the oms was down that long, then started
        st.tuples(st.just("heartbeat"), st.integers(1, 3)),
        st.tuples(st.just("query"), st.sampled_from([QueryType.Orders, QueryType.Positions, QueryType.Risk])),
        st.tuples(st.just("flatten"), st.sampled_from([0, BTC])),
    ),
    min_size=10,
    max_size=50,
)


def play(d: Desk, script: list) -> None:
    mids = {BTC: MID, ETH: 300_000}
    for inst, mid in mids.items():
        d.book(inst, mid - 50, mid + 50)
    exec_id = 0
    for step in script:
        kind = step[0]
        ids = sorted(d.engine.orders)
        if kind == "book":
            mids[step[1]] += step[2] * 10
            d.book(step[1], mids[step[1]] - 50, mids[step[1]] + 50)
        elif kind == "order":
            _, s, inst, buy, qty, off, ioc = step
            d.order(
                s,
                len(d.inputs) + 1,
                inst,
                Side.Buy if buy else Side.Sell,
                qty,
                mids[inst] + off * 10,
                tif=TimeInForce.IOC if ioc else TimeInForce.GTC,
            )
        elif kind in ("ack", "fill", "cancel", "canceled") and ids:
            oid = ids[step[1] % len(ids)]
            o = d.engine.orders[oid]
            exec_id += 1
            if kind == "ack":
                d.ack(oid, exec_id=exec_id)
            elif kind == "fill":
                d.fill(oid, min(step[2], o.qty), o.price or MID, exec_id=exec_id - 1 if step[3] else exec_id)
            elif kind == "cancel":
                d.cancel(o.strategy_id, 10_000 + len(d.inputs), o.cl_ord_id)
            else:
                d.report(oid, ExecType.Canceled, OrdStatus.Canceled, exec_id=exec_id)
        elif kind == "kill":
            d.kill(KillAction.Engage if step[1] else KillAction.Release)
        elif kind == "limit":
            d.set_limit(step[1], str(step[2]), inst=BTC if step[1] != "max_open_orders" else 0)
        elif kind == "cancel_all":
            d.cancel_all(strategy=step[1])
        elif kind == "tick":
            d.tick(step[1] * MS)
        elif kind == "start":
            d.restart(step[1] * MS)
        elif kind == "heartbeat":
            d.heartbeat(step[1])
        elif kind == "query":
            d.query(step[1])
        elif kind == "flatten":
            d.flatten(inst=step[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_random_sessions_replay_to_identical_outputs(script):
    d = Desk(
        config(
            {
                "daily_loss": "500",
                "cancel_retry_ms": 300,
                "flatten_timeout_ms": 1000,
                "max_position": "0.5",
                "max_gross_exposure": "300000",
            },
            strategies={2: {"deadman_ms": 1500}},
        )
    )
    play(d, script)
    check_invariants(d.engine)
    engine, out = replayed(d)
    assert outputs_without_query_replies(out) == outputs_without_query_replies(d.out)
    assert state_of(engine) == state_of(d.engine)


def test_the_host_ticks_at_deadlines_and_the_ticks_are_journaled(tmp_path):
    cfg = config(strategies={1: {"deadman_ms": 1000}})
    d = Desk(cfg)
    d.book(BTC, MID - 50, MID + 50)
    d.heartbeat(1)
    d.order(1, 1, BTC, Side.Buy, 100, MID - 100)
    d.ack(1)
    out = OutputCollector()
    live = OmsEngine(CATALOG, cfg, out, venue_ids=VENUES)
    with open_wal(tmp_path / "wal", "test", FsyncPolicy.never()) as writer:
        host = JournaledEngine(live, writer)
        for ts, payload in d.inputs:
            host.on_message(ts, payload)
        now = d.now
        assert host.on_idle(now + 500 * MS) == 0  # nothing due yet: no tick, nothing journaled
        journaled = host.journaled
        assert host.on_idle(now + 1_000 * MS) == 1  # the dead-man deadline has come
        assert host.journaled == journaled + 1
    assert [m.orderId for m in out.messages("venue_order") if m.NAME == "CancelOrder"] == [1]
    replayed_out = OutputCollector()
    replay_wal(tmp_path / "wal", CATALOG, cfg, replayed_out, venue_ids=VENUES)
    assert replayed_out.outputs == out.outputs
