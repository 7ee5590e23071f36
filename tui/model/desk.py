"""DeskModel: everything the TUI knows about a desk, folded from bus messages; builds DeskViews.

Pure Python, no Textual and no bus: the bus worker feeds it decoded messages (or raw market-data
frames) with its own clock readings, and tests feed it encoded messages directly. It is conflating by
construction: every message updates the latest state per instrument, order, position or daemon, and a
view is built from that state at the render rate however many messages arrived in between.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.book import BookSide
from core.codec.messages import (
    AccountState,
    BookSnapshot,
    ExecutionReport,
    FeedState,
    Heartbeat,
    KillSwitchState,
    LatencySample,
    NewOrder,
    PositionUpdate,
    RiskEvent,
    decode,
)
from core.instruments import InstrumentCatalog
from tui.model.books import Books, BookState
from tui.model.health import LATENCY_STAGES, Health, LatencyWindow
from tui.model.mdwire import IID, PUBLISH_TS, read_delta, read_trade
from tui.model.orders import OrderBlotter
from tui.model.positions import Positions
from tui.model.risk import RiskState
from tui.model.staleness import StaleRules, book_stale_reason, daemon_stale, desk_status
from tui.model.view import (
    BookView,
    DaemonView,
    DeskView,
    LadderLevel,
    LatencyView,
    LinkView,
    Notice,
)

_SHOWN_COUNTERS = 6  # per daemon in the view; the rest stay in the model


@dataclass(frozen=True, slots=True)
class ModelConfig:
    depth: int = 10  # ladder levels per side in a view
    trades_kept: int = 32
    fills_kept: int = 200
    events_kept: int = 100
    notices_kept: int = 50
    rules: StaleRules = field(default_factory=StaleRules)


class DeskModel:
    def __init__(
        self,
        catalog: InstrumentCatalog,
        instance: str = "default",
        config: ModelConfig | None = None,
        wall_clock: Callable[[], int] | None = None,
    ) -> None:
        self.catalog = catalog
        self.instance = instance
        self.config = config or ModelConfig()
        self.books = Books(self.config.trades_kept)
        self.orders = OrderBlotter(self.config.fills_kept)
        self.positions = Positions(catalog)
        self.risk = RiskState(self.config.events_kept)
        self.health = Health()
        self.latency = LatencyWindow()
        self.notices: deque[Notice] = deque(maxlen=self.config.notices_kept)
        self._wall = wall_clock
        # link state, set by the bus worker
        self.connected = False
        self.connected_since_ns = 0
        self.down_text = f"desk {instance}: not connected"
        self.rejoins = 0
        self.resyncing = ""
        self.bus_counters: tuple[tuple[str, int], ...] = ()
        # market-data accounting
        self.md_received = 0
        self.md_undecodable = 0
        self._batch_newest_publish = 0
        self._lag_ns = 0
        self._rate_marks: deque[tuple[int, int]] = deque(maxlen=64)
        # the oms's state sequence (PositionUpdate, AccountState, RiskEvent, ExecutionReport)
        self.state_seq = 0
        self.state_gaps = 0
        self.resync_wanted = "initial snapshot"  # read and cleared by the bus worker
        # view building
        self._view_number = 0
        self._last_view: DeskView | None = None
        self._book_views: dict[int, tuple[int, int, BookView]] = {}  # iid -> (book ver, orders ver, view)
        self._sections: dict[str, tuple[Any, Any]] = {}

    # -- market data ------------------------------------------------------------------------------
    def on_md_frame(self, frame: bytes, template_id: int, now_ns: int) -> None:
        """A raw market-data frame (header included): deltas and trades take the fast path."""
        self.md_received += 1
        if template_id == 2:  # BookDelta
            v = read_delta(frame)
            if v is not None:
                book = self.books.by_id.get(v[IID]) or self.books.get(v[IID])
                book.apply_delta(v, now_ns)
                if v[PUBLISH_TS] > self._batch_newest_publish:
                    self._batch_newest_publish = v[PUBLISH_TS]
                return
        elif template_id == 3:  # Trade
            t = read_trade(frame)
            if t is not None:
                iid, seq, _tid, exch, publish, price, qty, side = t
                self.books.get(iid).apply_trade(seq, exch or publish, price, qty, side, publish, now_ns)
                if publish > self._batch_newest_publish:
                    self._batch_newest_publish = publish
                return
        try:
            msg = decode(frame)
        except Exception:
            self.md_undecodable += 1
            return
        self.on_md_message(msg, now_ns)

    def on_md_message(self, msg: Any, now_ns: int) -> None:
        """A decoded market-data message (snapshots, feed state, and the slow path of the others)."""
        tid = msg.TEMPLATE_ID
        if tid == BookSnapshot.TEMPLATE_ID:
            self.books.get(msg.instrumentId).apply_snapshot(msg, now_ns)
            self._batch_newest_publish = max(self._batch_newest_publish, msg.publishTs)
        elif tid == FeedState.TEMPLATE_ID:
            self.books.on_feed_state(msg, now_ns)
        elif tid == 2:
            levels = [(int(x.side), x.price, x.qty, x.orderCount) for x in msg.levels]
            head = (0, tid, 0, 0, msg.instrumentId, msg.seq, msg.publishTs, 0, len(levels))
            self.books.get(msg.instrumentId).apply_delta((*head, *[y for x in levels for y in x]), now_ns)
        elif tid == 3:
            self.books.get(msg.instrumentId).apply_trade(
                msg.seq,
                msg.exchangeTs or msg.publishTs,
                msg.price,
                msg.qty,
                int(msg.aggressorSide),
                msg.publishTs,
                now_ns,
            )

    def end_batch(self, wall_ns: int) -> None:
        """After a poll batch: how old was the newest market data on arrival (are we behind?)."""
        if self._batch_newest_publish:
            lag = wall_ns - self._batch_newest_publish
            if lag > self._lag_ns:
                self._lag_ns = lag
            self._batch_newest_publish = 0

    def md_rejoined(self, why: str) -> None:
        self.books.mark_rejoined()
        self.rejoins += 1
        self.notice("warning", f"market data: {why}; books resync on the next snapshots")

    # -- state (oms) ------------------------------------------------------------------------------
    def on_state(self, msg: Any, now_ns: int) -> None:
        tid = msg.TEMPLATE_ID
        if tid == ExecutionReport.TEMPLATE_ID:
            self._state_seq(msg.seq)
            self.orders.on_execution_report(msg)
        elif tid == PositionUpdate.TEMPLATE_ID:
            self._state_seq(msg.seq)
            self.positions.on_position_update(msg)
        elif tid == AccountState.TEMPLATE_ID:
            self._state_seq(msg.seq)
            self.positions.on_account_state(msg)
            self.risk.on_account_kill_flag(bool(msg.killEngaged))
        elif tid == RiskEvent.TEMPLATE_ID:
            self._state_seq(msg.seq)
            self.risk.on_risk_event(msg)
        elif tid == KillSwitchState.TEMPLATE_ID:
            self.risk.on_kill_switch_state(msg)

    def on_orders_snapshot(self, pages: list[Any]) -> None:
        self.orders.replace_working([e for p in pages for e in p.orders])

    def on_positions_snapshot(self, pages: list[Any]) -> None:
        self.positions.replace([e for p in pages for e in p.positions])

    def on_risk_snapshot(self, pages: list[Any]) -> None:
        self.risk.on_risk_snapshot(pages)

    def request_resync(self, why: str) -> None:
        if not self.resync_wanted:
            self.resync_wanted = why

    def _state_seq(self, seq: int) -> None:
        last = self.state_seq
        self.state_seq = seq
        if last == 0 or seq == last + 1:
            return
        self.state_gaps += 1
        if seq <= last:
            self.request_resync(f"the oms restarted its sequence ({last} -> {seq})")
        else:
            self.request_resync(f"missed {seq - last - 1} state messages")

    # -- health -----------------------------------------------------------------------------------
    def on_health(self, msg: Any, now_ns: int) -> None:
        tid = msg.TEMPLATE_ID
        if tid == Heartbeat.TEMPLATE_ID:
            self.health.on_heartbeat(msg, now_ns)
        elif tid == LatencySample.TEMPLATE_ID:
            self.latency.on_latency_sample(msg)

    def on_order_request(self, msg: Any) -> None:
        """A NewOrder seen on order_requests: tick-to-order when no LatencySample flows."""
        if msg.TEMPLATE_ID == NewOrder.TEMPLATE_ID:
            self.latency.on_new_order(msg.sendTs, msg.triggerTs)

    # -- link -------------------------------------------------------------------------------------
    def set_connected(self, connected: bool, now_ns: int, text: str = "") -> None:
        if connected and not self.connected:
            self.connected_since_ns = now_ns
        self.connected = connected
        if text:
            self.down_text = text

    def notice(self, severity: str, text: str) -> None:
        wall = self._wall() if self._wall is not None else 0
        self.notices.appendleft(Notice(wall, severity, text))

    # -- views ------------------------------------------------------------------------------------
    def forget_views(self) -> None:
        """Forget what building views remembers (the md rate's marks, cached sections and books): for a
        copy of the model kept to be folded on later, from a time before its last view (replay)."""
        self._rate_marks.clear()
        self._last_view = None
        self._book_views.clear()
        self._sections.clear()

    def view(self, now_ns: int, wall_ns: int) -> DeskView:
        rules = self.config.rules
        self._view_number += 1
        self._rate_marks.append((now_ns, self.md_received))
        while len(self._rate_marks) > 2 and now_ns - self._rate_marks[0][0] > 1_000_000_000:
            self._rate_marks.popleft()
        t0, n0 = self._rate_marks[0]
        rate = (self.md_received - n0) * 1_000_000_000 // (now_ns - t0) if now_ns > t0 else 0
        lag, self._lag_ns = self._lag_ns, 0

        daemons = list(self.health.daemons.values())
        status, status_text = desk_status(
            connected=self.connected,
            connected_since_ns=self.connected_since_ns,
            last_beat_ns=self.health.last_beat_ns,
            daemons=daemons,
            now_ns=now_ns,
            rules=rules,
            down_text=self.down_text,
        )
        link = LinkView(
            instance=self.instance,
            status=status,
            status_text=status_text,
            connected=self.connected,
            rejoins=self.rejoins,
            resyncing=self.resyncing,
            md_rate=rate,
            md_received=self.md_received,
            md_gaps=self.books.gaps,
            lag_ns=lag,
            behind=lag > rules.behind_after_ns,
            bus_counters=self.bus_counters,
            notices=tuple(self.notices),
        )
        instruments = tuple(sorted(self.books.by_id))
        books = {iid: self._book_view(self.books.by_id[iid], now_ns) for iid in instruments}
        o, p, r = self.orders, self.positions, self.risk
        orders = self._section("orders", o.version, lambda: tuple(o.working.values()))
        fills = self._section("fills", o.version, lambda: tuple(o.fills))
        positions = self._section("positions", p.version, lambda: tuple(p.strategy_rows()))
        desk_positions = self._section("desk_positions", p.version, lambda: tuple(p.desk_rows()))
        totals = self._section("totals", p.version, lambda: tuple(p.strategy_totals()))
        desk_total = self._section("desk_total", p.version, p.desk_total)
        limits = self._section("limits", r.version, lambda: tuple(r.limits))
        events = self._section("events", r.version, lambda: tuple(r.events))
        latency = self._section("latency", self.latency.version, self._latency_view)
        view = DeskView(
            number=self._view_number,
            built_ns=now_ns,
            wall_ns=wall_ns,
            link=link,
            instruments=instruments,
            books=books,
            orders=orders,
            fills=fills,
            positions=positions,
            desk_positions=desk_positions,
            strategy_totals=totals,
            desk_total=desk_total,
            kill=r.kill,
            limits=limits,
            daily_pnl=r.daily_pnl,
            risk_events=events,
            daemons=tuple(self._daemon_view(d, now_ns, wall_ns) for d in self._daemons_sorted()),
            latency=latency,
        )
        self._last_view = view
        return view

    def _section(self, name: str, version: int, build: Callable[[], Any]) -> Any:
        cached = self._sections.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        value = build()
        self._sections[name] = (version, value)
        return value

    def _book_view(self, b: BookState, now_ns: int) -> BookView:
        stale = book_stale_reason(b, now_ns, self.config.rules)
        cached = self._book_views.get(b.instrument_id)
        if cached is not None and cached[0] == b.version and cached[1] == self.orders.version:
            prev = cached[2]
            if prev.stale_reason == stale:
                return prev
        depth = self.config.depth
        own = self.orders.own_levels(b.instrument_id)
        bids = b.book.depth(BookSide.BID, depth)
        asks = b.book.depth(BookSide.ASK, depth)
        bid_levels = tuple(LadderLevel(p, q, own.pop((1, p), 0)) for p, q in bids)
        ask_levels = tuple(LadderLevel(p, q, own.pop((2, p), 0)) for p, q in asks)
        inst = self.catalog.get(b.instrument_id)
        view = BookView(
            instrument_id=b.instrument_id,
            symbol=inst.symbol if inst is not None else f"#{b.instrument_id}",
            bids=bid_levels,
            asks=ask_levels,
            trades=tuple(b.trades),
            synced=b.synced,
            stale_reason=stale,
            seq=b.seq,
            gaps=b.gaps,
            messages=b.messages,
            last_publish_ts=b.last_publish_ts,
            own_outside=len(own),
        )
        self._book_views[b.instrument_id] = (b.version, self.orders.version, view)
        return view

    def _daemons_sorted(self) -> list[Any]:
        return sorted(self.health.daemons.values(), key=lambda d: (d.role, d.strategy_id))

    def _daemon_view(self, d: Any, now_ns: int, wall_ns: int) -> DaemonView:
        counters = tuple(sorted(d.counters.items(), key=lambda kv: -abs(kv[1]))[:_SHOWN_COUNTERS])
        return DaemonView(
            role=d.role,
            strategy_id=d.strategy_id,
            pid=d.pid,
            state=d.state.name,
            age_ns=now_ns - d.last_seen_ns,
            stale=daemon_stale(d, now_ns, self.config.rules),
            uptime_ns=max(0, wall_ns - d.started_ts) if d.started_ts else 0,
            beats=d.beats,
            counters=counters,
        )

    def _latency_view(self) -> LatencyView:
        stages = []
        for stage in LATENCY_STAGES:
            p = self.latency.percentiles(stage)
            if p is not None:
                stages.append((stage, *p))
        return LatencyView(self.latency.source, tuple(stages))
