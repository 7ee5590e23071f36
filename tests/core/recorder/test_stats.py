"""`log stats` figures on journals whose gaps and latencies are known by construction."""

from __future__ import annotations

from pathlib import Path

from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION, Trade
from core.journal import FsyncPolicy, JournalReader, JournalWriter
from core.recorder.markers import MARKER_STREAM_ID, GapMarker, GapReason
from core.recorder.names import StreamNames
from core.recorder.stats import journal_stats
from tests.core.recorder.desk import book_delta, execution_report, new_order

S = 1_000_000_000
T0 = 1_800_000_000 * S


def _md(seq: int, instrument: int, kind: str = "trade") -> bytes:
    if kind == "delta":
        return book_delta(seq - 1, instrument)  # book_delta(i) carries seq i + 1
    return Trade.encode_bytes(
        instrumentId=instrument,
        seq=seq,
        tradeId=seq,
        exchangeTs=0,
        receiveTs=0,
        publishTs=0,
        price=1,
        qty=1,
        aggressorSide=1,
    )


def _journal(path: Path, records: list[tuple[int, int, int, bytes]]) -> JournalReader:
    with JournalWriter(
        path, schema_id=SCHEMA_ID, schema_version=SCHEMA_VERSION, instance="t", fsync=FsyncPolicy.never()
    ) as w:
        for t, stream, session, payload in records:
            w.append(payload, stream_id=stream, receive_time_ns=t, session_id=session)
    return JournalReader(path)


def test_sequence_gaps_per_instrument_and_session(tmp_path):
    records = []
    t = T0
    # session 1, instrument 1: seq 1..10 without 4, 7 and 8 (2 gaps, 3 missing); trades and deltas share it
    for seq in [1, 2, 3, 5, 6, 9, 10]:
        records.append((t, 20, 1, _md(seq, 1, "delta" if seq % 2 else "trade")))
        t += 1_000
    # session 1, instrument 2: 1..5 complete, then a repeat of 5 (out of order)
    for seq in [1, 2, 3, 4, 5, 5]:
        records.append((t, 20, 1, _md(seq, 2)))
        t += 1_000
    # session 2 (the md daemon restarted), instrument 1 starts again from 1: not a gap
    for seq in [1, 2, 3]:
        records.append((t, 20, 2, _md(seq, 1)))
        t += 1_000
    # a trade on another stream is not market data
    records.append((t, 60, 3, _md(99, 1)))
    stats = journal_stats(_journal(tmp_path / "j", records), StreamNames())
    by_key = {(g.session_id, g.instrument_id): g for g in stats.seq_gaps}
    assert set(by_key) == {(1, 1), (1, 2), (2, 1)}
    g = by_key[(1, 1)]
    assert (g.messages, g.gaps, g.missing, g.out_of_order, g.first_seq, g.last_seq) == (7, 2, 3, 0, 1, 10)
    g = by_key[(1, 2)]
    assert (g.messages, g.gaps, g.missing, g.out_of_order) == (6, 0, 0, 1)
    g = by_key[(2, 1)]
    assert (g.messages, g.gaps, g.missing, g.out_of_order) == (3, 0, 0, 0)
    assert stats.to_dict()["md_missing_total"] == 3


def test_rates_and_recorder_markers(tmp_path):
    records = [(T0 + i * (S // 100), 20, 1, _md(i + 1, 1)) for i in range(250)]  # 100/s for 2.5 s
    records += [(T0 + i * (S // 1000), 60, 2, execution_report(i)) for i in range(300)]  # a 300-message burst
    records.sort()
    marker = GapMarker(GapReason.POSITION_JUMP, 20, "market_data", 1, T0 + S, 640, 1280, 1)
    records.append((T0 + S, MARKER_STREAM_ID, 1, marker.encode()))
    stats = journal_stats(_journal(tmp_path / "j", records), StreamNames())
    rates = {r.name: r for r in stats.rates}
    assert rates["market_data"].count == 250 and rates["market_data"].peak_per_s == 100
    assert rates["state"].count == 300 and rates["state"].peak_per_s == 300
    assert stats.span_ns == 249 * (S // 100)
    assert abs(rates["market_data"].mean_per_s - 250 / 2.49) < 1e-6
    assert stats.markers == [marker]
    assert stats.templates == {"Trade": 250, "FeedState": 1, "ExecutionReport": 300}


def test_stage_latencies_link_orders_to_market_data_and_acks(tmp_path):
    records = []
    expected = {"md -> order": [], "order -> oms ack": [], "order -> venue ack": [], "md -> venue ack": []}
    for i in range(50):
        md_ts = T0 + i * S
        send = md_ts + 20_000 + 1_000 * i  # 20 us + i us
        oms_ack = send + 5_000
        venue_ack = send + 300_000 + 10_000 * (i % 5)
        order_id = 9000 + i
        records.append((send, 30, 11, new_order(i, send_ts=send, trigger_ts=md_ts)))
        records.append((oms_ack, 40, 12, new_order(i, send_ts=send, order_id=order_id)))
        records.append((oms_ack, 60, 12, execution_report(i, ts=oms_ack)))
        records.append(
            (oms_ack + 1, 60, 12, execution_report(i, ts=oms_ack + 99_999))
        )  # a later one: not first
        records.append((venue_ack, 50, 13, execution_report(i, ts=venue_ack, order_id=order_id)))
        expected["md -> order"].append(send - md_ts)
        expected["order -> oms ack"].append(5_000)
        expected["order -> venue ack"].append(venue_ack - send)
        expected["md -> venue ack"].append(venue_ack - md_ts)
    # an order without market data behind it (manual): no md -> order sample
    records.append((T0 + 99 * S, 30, 11, new_order(77, send_ts=T0 + 99 * S)))
    records.sort(key=lambda r: r[0])
    stats = journal_stats(_journal(tmp_path / "j", records), StreamNames())
    lat = {x.stage: x for x in stats.latencies}
    for stage, values in expected.items():
        assert lat[stage].count == len(values), stage
        values.sort()
        close = lambda got, want: abs(got - want) <= want // 500 + 1  # noqa: E731 (HDR: 3 digits)
        assert close(lat[stage].percentiles_ns["max"], values[-1]), stage
        median = values[len(values) // 2 - 1]
        assert close(lat[stage].percentiles_ns["p50"], median), stage
