"""RecordFolder: feeds journal records into a DeskModel through the bus worker's own entry points.

Market data goes in as raw frames (the fast path for deltas and trades), state, heartbeats and order
requests decoded, each with the record's receive time as "now", so ages and staleness are those of the
recording. Snapshot replies the oms sent to other clients (recorded on the state stream) are applied
where they sit in the stream once their last page is in, as the live worker applies its own. The
recorder's gap markers become warnings, and a market-data gap marks the books out of sync until the
next snapshot, as a live rejoin would. Nothing is sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.bus.config import load_bus_config
from core.codec.messages import (
    FeedState,
    OrdersSnapshot,
    PositionsSnapshot,
    RiskSnapshot,
    decode,
)
from core.codec.messages import NewOrder as NewOrderMsg
from core.config import ConfigError
from core.journal import Record
from core.oms.queries import PAGE_SIZE
from core.recorder.markers import MARKER_STREAM_ID
from tui.model.desk import DeskModel

_DEFAULT_STREAM_IDS = {"market_data": 20, "order_requests": 30, "state": 60, "heartbeats": 70}
_SNAPSHOT_GROUP = {
    OrdersSnapshot.TEMPLATE_ID: "orders",
    PositionsSnapshot.TEMPLATE_ID: "positions",
    RiskSnapshot.TEMPLATE_ID: "limits",
}


@dataclass(frozen=True, slots=True)
class ReplayStreams:
    market_data: int
    state: int
    heartbeats: int
    order_requests: int

    @classmethod
    def from_config(cls) -> ReplayStreams:
        """Stream ids from configs/channels.toml; the documented defaults if it cannot be read."""
        ids = dict(_DEFAULT_STREAM_IDS)
        try:
            streams = load_bus_config().streams
        except ConfigError:
            streams = {}
        for name in ids:
            if name in streams:
                ids[name] = streams[name].stream_id
        return cls(**ids)

    @property
    def shown(self) -> frozenset[int]:
        """Streams whose messages change what the desk screen shows (a "message" step stops at these)."""
        return frozenset({self.market_data, self.state})


class RecordFolder:
    def __init__(self, model: DeskModel, streams: ReplayStreams) -> None:
        self.model = model
        self.streams = streams
        self.folded = 0
        self.skipped = 0  # records of streams the screen does not show (control, venue traffic)
        self.undecodable = 0
        self.recorder_gaps = 0
        self._pages: dict[tuple[int, int], list[Any]] = {}

    def fold(self, record: Record) -> None:
        self.folded += 1
        sid = record.stream_id
        now = record.receive_time_ns
        model = self.model
        s = self.streams
        if sid == s.market_data:
            model.on_md_frame(record.payload, record.template_id, now)
            model.end_batch(now)
            return
        if sid == s.order_requests and record.template_id != NewOrderMsg.TEMPLATE_ID:
            self.skipped += 1  # only NewOrder feeds the model (tick-to-order latency)
            return
        if sid not in (s.state, s.heartbeats, s.order_requests, MARKER_STREAM_ID):
            self.skipped += 1
            return
        try:
            msg = decode(record.payload)
        except Exception:  # a record the codec cannot read: counted and shown, never fatal
            self.undecodable += 1
            return
        if sid == s.state:
            if msg.TEMPLATE_ID in _SNAPSHOT_GROUP:
                self._snapshot_page(msg)
            else:
                model.on_state(msg, now)
        elif sid == s.heartbeats:
            model.on_health(msg, now)
        elif sid == s.order_requests:
            model.on_order_request(msg)
        elif msg.TEMPLATE_ID == FeedState.TEMPLATE_ID:
            self._gap_marker(msg)

    def _snapshot_page(self, msg: Any) -> None:
        key = (msg.clientId, msg.correlationId)
        pages = self._pages.setdefault(key, [])
        pages.append(msg)
        if len(getattr(msg, _SNAPSHOT_GROUP[msg.TEMPLATE_ID])) >= PAGE_SIZE:
            return  # more pages follow
        del self._pages[key]
        if msg.TEMPLATE_ID == OrdersSnapshot.TEMPLATE_ID:
            self.model.on_orders_snapshot(pages)
        elif msg.TEMPLATE_ID == PositionsSnapshot.TEMPLATE_ID:
            self.model.on_positions_snapshot(pages)
        else:
            self.model.on_risk_snapshot(pages)

    def _gap_marker(self, msg: Any) -> None:
        self.recorder_gaps += 1
        stream_id = msg.instrumentId  # a marker names the bus stream that lost data
        self.model.notice("warning", f"the recorder lost data here: {msg.text}")
        if stream_id == self.streams.market_data:
            self.model.md_rejoined("the recording has a gap")

    def counters(self) -> tuple[tuple[str, int], ...]:
        """Shown where the live TUI shows its bus counters (health pane)."""
        return (
            ("records folded", self.folded),
            ("md received", self.model.md_received),
            ("state gaps", self.model.state_gaps),
            ("not shown", self.skipped),
            ("bad input", self.undecodable + self.model.md_undecodable),
            ("recorder gaps", self.recorder_gaps),
        )
