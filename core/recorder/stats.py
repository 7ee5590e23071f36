"""`aerodesk log stats`: rates, gaps and stage latencies of a journal, computed with numpy on its index
and its decoded columns (core.recorder.columns).

- Rates: messages per stream and per template, mean rate over the journal's span and the peak of any
  one-second bucket.
- Gaps: the md daemon's per-instrument `seq` (one sequence over BookSnapshot, BookDelta and Trade of an
  instrument, from 1) must rise by one per message of a publisher session; a rise of more is a gap of
  that many minus one, a fall or repeat is counted as out of order. Plus the recorder's own gap markers.
- Latency between stages, as percentiles (HDR histogram), from the messages' own timestamps:
    md -> order         NewOrder.sendTs - NewOrder.triggerTs (the md publishTs that led to the order)
    order -> oms ack    first ExecutionReport on the state stream for (strategyId, clOrdId): ts - sendTs
    order -> venue ack  first ExecutionReport on venue_reports for the order's orderId (linked to the
                        client order by the oms's NewOrder on venue_orders): ts - sendTs
    md -> venue ack     that venue ack's ts - triggerTs
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from core.codec.messages import BookDelta, BookSnapshot, ExecutionReport, NewOrder, Trade
from core.journal import Damage, JournalReader
from core.recorder.columns import decode_columns
from core.recorder.markers import MARKER_STREAM_ID, GapMarker, decode_marker
from core.recorder.names import StreamNames, template_name
from core.recorder.timespec import format_duration, format_time

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
MD_TEMPLATES = (BookSnapshot, BookDelta, Trade)
_DEFAULT_IDS = {"market_data": 20, "order_requests": 30, "venue_orders": 40, "venue_reports": 50, "state": 60}
STAGES = ("md -> order", "order -> oms ack", "order -> venue ack", "md -> venue ack")


@dataclass
class StreamRate:
    name: str
    stream_id: int
    count: int
    mean_per_s: float
    peak_per_s: int


@dataclass
class SeqGaps:
    session_id: int
    instrument_id: int
    messages: int
    gaps: int
    missing: int
    out_of_order: int
    first_seq: int
    last_seq: int


@dataclass
class LatencyStats:
    stage: str
    count: int
    percentiles_ns: dict[str, int]
    negative: int = 0  # samples below zero (clocks of different hosts), left out of the percentiles


@dataclass
class JournalStats:
    path: str
    records: int
    first_ns: int | None
    last_ns: int | None
    rates: list[StreamRate] = field(default_factory=list)
    templates: dict[str, int] = field(default_factory=dict)
    seq_gaps: list[SeqGaps] = field(default_factory=list)
    markers: list[GapMarker] = field(default_factory=list)
    latencies: list[LatencyStats] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)

    @property
    def span_ns(self) -> int:
        return 0 if self.first_ns is None or self.last_ns is None else self.last_ns - self.first_ns

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records": self.records,
            "first_receive_ns": self.first_ns,
            "last_receive_ns": self.last_ns,
            "span_ns": self.span_ns,
            "rates": [r.__dict__ for r in self.rates],
            "templates": self.templates,
            "seq_gaps": [g.__dict__ for g in self.seq_gaps],
            "md_gaps_total": sum(g.gaps for g in self.seq_gaps),
            "md_missing_total": sum(g.missing for g in self.seq_gaps),
            "recorder_gaps": [m.to_dict() for m in self.markers],
            "latency": [lat.__dict__ for lat in self.latencies],
            "damage": [d.to_dict() for d in self.damage],
        }

    def to_text(self) -> str:
        lines = [f"journal {self.path}"]
        if self.first_ns is None or self.last_ns is None:
            lines.append("  no records")
        else:
            lines.append(
                f"  {self.records} records, {format_time(self.first_ns)} .. {format_time(self.last_ns)} "
                f"({format_duration(self.span_ns)})"
            )
        lines.append("rates (messages; mean/s over the span; peak in any second):")
        for r in self.rates:
            lines.append(
                f"  {r.name:<16} {r.count:>10}  mean {r.mean_per_s:>12,.1f}/s  peak {r.peak_per_s:>9}/s"
            )
        lines.append("templates: " + (" ".join(f"{k}={v}" for k, v in self.templates.items()) or "none"))
        gaps = [g for g in self.seq_gaps if g.gaps or g.out_of_order]
        lines.append(
            f"market data sequence gaps: {sum(g.gaps for g in self.seq_gaps)} gap(s), "
            f"{sum(g.missing for g in self.seq_gaps)} message(s) missing over {len(self.seq_gaps)} "
            "instrument session(s)"
        )
        for g in gaps:
            lines.append(
                f"  instrument {g.instrument_id} session {g.session_id}: {g.gaps} gap(s), "
                f"{g.missing} missing, {g.out_of_order} out of order "
                f"(seq {g.first_seq}..{g.last_seq}, {g.messages} messages)"
            )
        lines.append(f"recorder gap markers: {len(self.markers)}")
        for m in self.markers:
            lost = f"{m.messages} message(s)" if m.messages is not None else f"{m.bytes_lost} byte(s)"
            lines.append(
                f"  {format_time(m.ts_ns)} {m.stream} session {m.session_id}: {m.reason}, {lost} not recorded"
            )
        lines.append("latency between stages (us):")
        for lat in self.latencies:
            if lat.count == 0:
                lines.append(f"  {lat.stage:<18} no samples")
                continue
            pct = "  ".join(f"{k}={v / 1000:,.1f}" for k, v in lat.percentiles_ns.items())
            neg = f"  ({lat.negative} negative, left out)" if lat.negative else ""
            lines.append(f"  {lat.stage:<18} n={lat.count}  {pct}{neg}")
        return "\n".join(lines)


def journal_stats(reader: JournalReader, names: StreamNames | None = None) -> JournalStats:
    names = names or StreamNames()
    rows = reader.scan()
    times = rows["receive_time_ns"]
    stats = JournalStats(
        path=str(reader.path),
        records=len(rows),
        first_ns=int(times.min()) if len(rows) else None,
        last_ns=int(times.max()) if len(rows) else None,
    )
    stats.rates = _rates(rows, names, stats)
    ids, counts = np.unique(rows["template_id"], return_counts=True)
    stats.templates = {template_name(t): c for t, c in zip(ids.tolist(), counts.tolist(), strict=True)}
    stream = {n: names.by_name.get(n, default) for n, default in _DEFAULT_IDS.items()}
    stats.seq_gaps = _seq_gaps(reader, stream["market_data"])
    stats.markers = [
        m
        for r in reader.records(stream_ids=[MARKER_STREAM_ID])
        if (m := decode_marker(r.payload, r.session_id)) is not None
    ]
    stats.latencies = _latencies(reader, stream)
    stats.damage = reader.damage
    return stats


def _rates(rows: np.ndarray, names: StreamNames, stats: JournalStats) -> list[StreamRate]:
    out = []
    span_s = stats.span_ns / 1e9
    for sid in np.unique(rows["stream_id"]).tolist():
        times = rows["receive_time_ns"][rows["stream_id"] == sid]
        seconds = (times - times.min()) // 1_000_000_000
        peak = int(np.bincount(seconds).max()) if len(times) else 0
        out.append(
            StreamRate(names.name(sid), sid, len(times), len(times) / span_s if span_s > 0 else 0.0, peak)
        )
    return out


def _seq_gaps(reader: JournalReader, md_stream: int) -> list[SeqGaps]:
    parts = []
    for message in MD_TEMPLATES:
        cols = decode_columns(reader, message, stream_ids=[md_stream], groups=False, data=False)
        if len(cols):
            parts.append(
                (
                    cols.rows["sequence"].astype(np.int64),
                    cols.rows["session_id"].astype(np.int64),
                    cols.blocks["instrumentId"].astype(np.int64),
                    cols.blocks["seq"].astype(np.int64),
                )
            )
    if not parts:
        return []
    order_, session, instrument, seq = (np.concatenate(c) for c in zip(*parts, strict=True))
    sequenced = seq > 0  # seq 0: not sequenced (e.g. a reference top-of-book)
    order_, session, instrument, seq = (
        order_[sequenced],
        session[sequenced],
        instrument[sequenced],
        seq[sequenced],
    )
    idx = np.lexsort((order_, instrument, session))  # by session, instrument, then journal order
    session, instrument, seq = session[idx], instrument[idx], seq[idx]
    step = np.diff(seq)
    same = (np.diff(session) == 0) & (np.diff(instrument) == 0)
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    bounds = np.append(starts, len(seq))
    out = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        s = step[a : b - 1]
        out.append(
            SeqGaps(
                session_id=int(session[a]),
                instrument_id=int(instrument[a]),
                messages=b - a,
                gaps=int((s > 1).sum()),
                missing=int((s[s > 1] - 1).sum()),
                out_of_order=int((s <= 0).sum()),
                first_seq=int(seq[a]),
                last_seq=int(seq[b - 1]),
            )
        )
    return out


def _latencies(reader: JournalReader, stream: dict[str, int]) -> list[LatencyStats]:
    orders = decode_columns(reader, NewOrder, stream_ids=[stream["order_requests"]], groups=False, data=False)
    b = orders.blocks
    send = {
        (s, c): t
        for s, c, t in zip(b["strategyId"].tolist(), b["clOrdId"].tolist(), b["sendTs"].tolist(), strict=True)
    }
    trigger = {
        (s, c): t
        for s, c, t in zip(
            b["strategyId"].tolist(), b["clOrdId"].tolist(), b["triggerTs"].tolist(), strict=True
        )
        if t > 0
    }
    samples: dict[str, list[int]] = {stage: [] for stage in STAGES}
    samples["md -> order"] = [send[k] - t for k, t in trigger.items() if send[k] > 0]

    oms_acks = _first_ts(reader, stream["state"], ("strategyId", "clOrdId"))
    samples["order -> oms ack"] = [ts - send[k] for k, ts in oms_acks.items() if k in send and send[k] > 0]

    routed = decode_columns(
        reader, NewOrder, stream_ids=[stream["venue_orders"]], groups=False, data=False
    ).blocks
    client_order = {
        o: (s, c)
        for o, s, c in zip(
            routed["orderId"].tolist(), routed["strategyId"].tolist(), routed["clOrdId"].tolist(), strict=True
        )
        if o
    }
    venue_acks = _first_ts(reader, stream["venue_reports"], ("orderId",))
    for (order_id,), ts in venue_acks.items():
        key = client_order.get(order_id)
        if key is None:
            continue
        if send.get(key, 0) > 0:
            samples["order -> venue ack"].append(ts - send[key])
        if key in trigger:
            samples["md -> venue ack"].append(ts - trigger[key])
    return [_percentiles(stage, samples[stage]) for stage in STAGES]


def _first_ts(reader: JournalReader, stream_id: int, key: tuple[str, ...]) -> dict[tuple[int, ...], int]:
    """The ts of the first ExecutionReport per key on one stream (journal order)."""
    blocks = decode_columns(reader, ExecutionReport, stream_ids=[stream_id], groups=False, data=False).blocks
    first: dict[tuple[int, ...], int] = {}
    columns = [blocks[k].tolist() for k in key]
    for k, ts in zip(zip(*columns, strict=True), blocks["ts"].tolist(), strict=True):
        first.setdefault(k, ts)
    return first


def _percentiles(stage: str, values: list[int]) -> LatencyStats:
    negative = sum(1 for v in values if v < 0)
    kept = [v for v in values if v >= 0]
    if not kept:
        return LatencyStats(stage, 0, {}, negative)
    hist = HdrHistogram(1, 3_600_000_000_000, 3)
    for v in kept:
        hist.record_value(max(v, 1))
    pct = {f"p{p:g}": int(hist.get_value_at_percentile(p)) for p in PERCENTILES}
    pct["max"] = int(hist.get_max_value())
    return LatencyStats(stage, len(kept), pct, negative)
