"""DeskLink: the TUI's bus worker. One thread owns the bus client, every subscription, the ControlClient
and the DeskModel; the UI thread only submits commands and takes finished views.

- Observer only: every subscription is untethered, so a slow or frozen TUI never slows the desk. If the
  driver drops it (it fell a window behind) it rejoins at the live end: the worker notices (an image
  left, a sequence gap), says so, marks the books out of sync until the md's next BookSnapshot, and asks
  the oms for fresh Orders, Positions and Risk snapshots.
- Conflation: messages are folded into the model as they come (latest state per instrument, order,
  position, daemon); a DeskView is built at most `render_hz` times a second (and at least twice a second
  so ages keep moving), and only the newest view is kept for the UI. `on_view` is called when a view is
  ready and the UI has taken the previous one, so a slow UI never queues up work.
- Commands go to the oms with the ControlClient; each answer (or its absence within the action timeout)
  comes back through `on_outcome`.
- Snapshot replies are taken from this worker's own state subscription, in stream order with the
  execution reports around them, so a snapshot never overwrites newer state or is overwritten by older.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.agent.idle import backoff
from core.bus.client import BusClient
from core.bus.config import BusConfig
from core.bus.dispatch import aerodesk_dispatcher
from core.bus.errors import DeskNotRunning
from core.bus.instance import instance_dir, resolve_instance
from core.codec.messages import (
    AccountState,
    AckStatus,
    BookDelta,
    BookSnapshot,
    ExecutionReport,
    FeedState,
    Heartbeat,
    KillSwitchState,
    LatencySample,
    OrdersSnapshot,
    OrdStatus,
    PositionsSnapshot,
    PositionUpdate,
    QueryType,
    RiskEvent,
    RiskSnapshot,
    Trade,
    decode,
)
from core.codec.messages import NewOrder as NewOrderMsg
from core.control.client import ControlClient
from core.instruments import InstrumentCatalog
from core.oms.queries import PAGE_SIZE
from tui.commands import (
    ActionOutcome,
    CancelAll,
    CancelOrder,
    Command,
    EngageKill,
    Flatten,
    NewOrder,
    Outcome,
    ReadOnlyRefused,
    ReleaseKill,
)
from tui.config import TuiConfig
from tui.model.desk import DeskModel
from tui.model.view import DeskView

log = logging.getLogger("aerodesk.tui")

MD_FRAGMENT_LIMIT = 1024
MD_POLL_BUDGET_NS = 20_000_000  # keep building views on time even under a flood
IDLE_VIEW_NS = 500_000_000  # a view at least this often, so ages and staleness move on screen
RESYNC_RETRY_NS = 1_000_000_000
IDLE_MIN_PARK_NS = 1_000_000
IDLE_MAX_PARK_NS = 1_000_000
_SNAPSHOT_GROUP = {
    OrdersSnapshot.TEMPLATE_ID: "orders",
    PositionsSnapshot.TEMPLATE_ID: "positions",
    RiskSnapshot.TEMPLATE_ID: "limits",
}
_QUERIES = (QueryType.Orders, QueryType.Positions, QueryType.Risk)
_ORDER_FINAL_STATUSES = frozenset(
    {OrdStatus.New, OrdStatus.PartiallyFilled, OrdStatus.Filled, OrdStatus.Rejected, OrdStatus.Canceled}
)


def _noop(*_args: Any) -> None:
    pass


@dataclass
class _Pending:
    command: Command
    sent_ns: int
    acks_seen: int = 0
    reports_seen: int = 0


@dataclass
class _QueryJob:
    """Snapshot queries in flight: pages collected from our own state subscription, by correlation id."""

    reason: str
    sent_ns: int
    cids: dict[int, QueryType]
    pages: dict[int, list[Any]] = field(default_factory=dict)
    done: dict[int, list[Any]] = field(default_factory=dict)
    announce: bool = True


class DeskLink:
    def __init__(
        self,
        instance: str | None,
        catalog: InstrumentCatalog,
        config: TuiConfig,
        *,
        read_only: bool = False,
        on_view: Callable[[], None] = _noop,
        on_outcome: Callable[[ActionOutcome], None] = _noop,
        bus_config: BusConfig | None = None,
        mono_clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.instance = resolve_instance(instance)
        self.catalog = catalog
        self.config = config
        self.read_only = read_only
        self.on_view = on_view
        self.on_outcome = on_outcome
        self.model = DeskModel(catalog, self.instance, config.model, wall_clock=wall_clock)
        self._bus_config = bus_config
        self._mono = mono_clock
        self._wall = wall_clock
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._latest: DeskView | None = None
        self._view_pending = False
        self._stop = threading.Event()
        self._frozen_until_ns = 0
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.views_built = 0
        self.worker_cpu_s = 0.0  # CPU time of the bus worker thread so far (thread_time), for benchmarks
        # worker-thread state
        self._now = 0
        self._bus: BusClient | None = None
        self._cc: ControlClient | None = None
        self._subs: dict[str, Any] = {}
        self._images: dict[str, tuple[int, int]] = {}
        self._lost: set[str] = set()  # streams that lost an image and have not had one join since
        self._was_connected = False
        self._ever_connected = False
        self._pending: dict[int, _Pending] = {}
        self._query: _QueryJob | None = None
        self._next_query_ns = 0
        self._next_risk_ns = 0
        self._next_view_ns = 0
        self._last_view_ns = 0
        self._dirty = True

    # -- UI thread --------------------------------------------------------------------------------
    def start(self) -> DeskLink:
        self._thread = threading.Thread(
            target=self._run, name=f"aerodesk-tui-bus-{self.instance}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, command: Command) -> None:
        """Queue a command for the oms; ReadOnlyRefused in a read-only session (nothing is sent)."""
        if self.read_only:
            raise ReadOnlyRefused(command.label)
        self._commands.put(command)

    def take_view(self) -> DeskView | None:
        """The newest view (None before the first); allows the worker to announce the next one."""
        self._view_pending = False
        return self._latest

    def latest_view(self) -> DeskView | None:
        return self._latest

    @property
    def client_id(self) -> int:
        """This TUI's client id on the bus (0 before the worker started); the oms routes replies by it."""
        return self._cc.client_id if self._cc is not None else 0

    def freeze(self, seconds: float) -> None:
        """Stop polling for a while, as a frozen or starved TUI would (used to test rejoining)."""
        self._frozen_until_ns = self._mono() + int(seconds * 1e9)

    # -- worker thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._setup()
            self._loop()
        except BaseException as e:  # the UI shows it; the thread must not die silently
            self.failure = e
            log.exception("tui bus worker failed")
            self.model.notice("error", f"bus worker failed: {type(e).__name__}: {e}")
            self.model.set_connected(False, self._mono(), f"bus worker failed: {e}")
            self._publish_view(self._mono())
        finally:
            if self._bus is not None:
                self._bus.close()

    def _setup(self) -> None:
        bus = BusClient(
            self.instance, config=self._bus_config, role_name="tui", client_name=f"aerodesk-tui-{os.getpid()}"
        )
        self._bus = bus
        model = self.model

        md = aerodesk_dispatcher()  # raw bytes: deltas and trades are read with mdwire
        for template in (BookDelta, Trade, BookSnapshot, FeedState):
            md.on(template.TEMPLATE_ID, self._md_handler(template.TEMPLATE_ID))
        state = aerodesk_dispatcher(decoder=decode, default_handler=_noop)
        for template in (ExecutionReport, PositionUpdate, AccountState, RiskEvent, KillSwitchState):
            state.on(template.TEMPLATE_ID, lambda m, _h: model.on_state(m, self._now))
        for template in (OrdersSnapshot, PositionsSnapshot, RiskSnapshot):
            state.on(template.TEMPLATE_ID, self._on_snapshot_page)
        health = aerodesk_dispatcher(decoder=decode, default_handler=_noop)
        for template in (Heartbeat, LatencySample):
            health.on(template.TEMPLATE_ID, lambda m, _h: model.on_health(m, self._now))
        orders = aerodesk_dispatcher(decoder=decode, default_handler=_noop)
        orders.on(NewOrderMsg.TEMPLATE_ID, lambda m, _h: model.on_order_request(m))

        self._subs = {
            "market_data": bus.subscriber("market_data", md, tether=False, fragment_limit=MD_FRAGMENT_LIMIT),
            "state": bus.subscriber("state", state, tether=False),
            "heartbeats": bus.subscriber("heartbeats", health, tether=False),
            "order_requests": bus.subscriber("order_requests", orders, tether=False),
        }
        self._images = {name: (0, 0) for name in self._subs}
        self._cc = ControlClient(bus, tool="tui")
        now = self._mono()
        model.set_connected(False, now, self._down_text(ever=False))
        # A first connection is not a "reconnect"; if the desk is down, do_work retries.
        with contextlib.suppress(DeskNotRunning):
            bus.connect()

    def _md_handler(self, template_id: int) -> Callable[[Any, Any], None]:
        fold = self.model.on_md_frame

        def on_md(frame: bytes, _header: Any) -> None:
            fold(frame, template_id, self._now)

        return on_md

    def _loop(self) -> None:
        # An observer: a millisecond is fine, a core is not. No spinning or yielding (they cost CPU for
        # nothing here): park 0.25-1 ms when idle, and fold what arrived meanwhile in one batch.
        idle = backoff(max_spins=1, max_yields=1, min_park_ns=IDLE_MIN_PARK_NS, max_park_ns=IDLE_MAX_PARK_NS)
        bus = self._bus
        cc = self._cc
        assert bus is not None and cc is not None
        md = self._subs["market_data"]
        others = [self._subs["state"], self._subs["heartbeats"], self._subs["order_requests"]]
        while not self._stop.is_set():
            now = self._now = self._mono()
            if now < self._frozen_until_ns:
                time.sleep(0.01)
                continue
            work = bus.do_work()
            self._watch_link(now)
            work += self._poll_md(md, now)
            for sub in others:
                work += sub.poll()
            work += cc.do_work()
            self.model.end_batch(self._wall())
            work += self._drain_commands(now)
            self._follow_pending(now)
            self._follow_queries(now)
            if work:
                self._dirty = True
            if now >= self._next_view_ns and (self._dirty or now - self._last_view_ns >= IDLE_VIEW_NS):
                self._publish_view(now)
            idle.idle(work)

    def _poll_md(self, md: Any, now: int) -> int:
        total = 0
        deadline = now + MD_POLL_BUDGET_NS
        while True:
            n = md.poll()
            total += n
            if n < MD_FRAGMENT_LIMIT or self._mono() >= deadline:
                return total
            self._now = self._mono()

    def _publish_view(self, now: int) -> None:
        model = self.model
        bus = self._bus
        if bus is not None:
            model.bus_counters = _bus_counters(bus, self.model)
        self._latest = model.view(now, self._wall())
        self.views_built += 1
        self.worker_cpu_s = time.thread_time()
        self._dirty = False
        self._last_view_ns = now
        self._next_view_ns = now + 1_000_000_000 // self.config.render_hz
        if not self._view_pending:
            self._view_pending = True
            self.on_view()

    # -- connection, rejoin, resync ----------------------------------------------------------------
    def _watch_link(self, now: int) -> None:
        bus = self._bus
        assert bus is not None
        connected = bus.is_connected
        model = self.model
        if connected != self._was_connected:
            self._was_connected = connected
            if connected:
                model.set_connected(True, now)
                if self._ever_connected:
                    model.notice("warning", f"reconnected to desk {self.instance}")
                    model.md_rejoined("reconnected to the desk")
                    model.request_resync("reconnected to the desk")
                else:
                    model.notice("information", f"connected to desk {self.instance}")
                self._ever_connected = True
            else:
                model.set_connected(False, now, self._down_text(ever=self._ever_connected))
                model.notice("error", model.down_text)
                self._query = None
            self._dirty = True
        if not connected:
            return
        for name, sub in self._subs.items():
            joined, left = sub.counters.images_joined, sub.counters.images_left
            old_joined, old_left = self._images[name]
            if (joined, left) == (old_joined, old_left):
                continue
            self._images[name] = (joined, left)
            self._dirty = True
            if name not in ("market_data", "state"):
                continue
            if left > old_left:
                # A publisher went away (its daemon stopped), or the driver dropped this slow observer.
                self._lost.add(name)
                if name == "market_data":
                    model.md_rejoined("lost the market data stream (md stopped, or this TUI was dropped)")
                else:
                    model.notice("warning", "lost the state stream (oms stopped, or this TUI was dropped)")
            if joined > old_joined and name in self._lost:
                self._lost.discard(name)
                if name == "state":
                    model.notice("warning", "rejoined the state stream")
                    model.request_resync("rejoined the state stream")
                else:
                    model.notice(
                        "warning", "rejoined the market data stream; books resync on the next snapshots"
                    )

    def _down_text(self, ever: bool) -> str:
        if ever:
            return f"lost the media driver of desk {self.instance}; reconnecting when it is back"
        return (
            f"desk {self.instance} is not running (no media driver at {instance_dir(self.instance)}); "
            "waiting for it"
        )

    def _follow_queries(self, now: int) -> None:
        """Initial snapshots, resyncs after a rejoin or gap, and the periodic Risk query."""
        model = self.model
        cc = self._cc
        assert cc is not None
        if not self._was_connected:
            return
        job = self._query
        if job is not None:
            if len(job.done) == len(job.cids):
                self._apply_snapshots(job)
                self._query = None
            elif now - job.sent_ns > self.config.action_timeout_ms * 1_000_000:
                for cid in job.cids:
                    cc.forget(cid)
                if job.announce:
                    model.notice(
                        "warning", f"no snapshot from the oms within the timeout ({job.reason}); retrying"
                    )
                    model.request_resync(job.reason)
                self._query = None
            return
        if model.resync_wanted and now >= self._next_query_ns:
            reason = model.resync_wanted
            if self._send_queries(reason, _QUERIES, announce=True, now=now):
                model.resync_wanted = ""
                model.resyncing = f"asking the oms for orders, positions and risk ({reason})"
            else:
                model.resyncing = f"waiting for the oms to answer ({reason})"
                self._next_query_ns = now + RESYNC_RETRY_NS
            self._dirty = True
        elif now >= self._next_risk_ns:
            self._next_risk_ns = now + self.config.risk_refresh_ms * 1_000_000
            self._send_queries("risk refresh", (QueryType.Risk,), announce=False, now=now)

    def _send_queries(self, reason: str, types: tuple[QueryType, ...], *, announce: bool, now: int) -> bool:
        cc = self._cc
        assert cc is not None
        cids: dict[int, QueryType] = {}
        try:
            for qt in types:
                cids[cc.send_query(qt)] = qt
        except ConnectionError:
            for cid in cids:
                cc.forget(cid)
            return False
        self._query = _QueryJob(reason, now, cids, announce=announce)
        return True

    def _on_snapshot_page(self, msg: Any, _header: Any) -> None:
        job = self._query
        cc = self._cc
        if job is None or cc is None or msg.clientId != cc.client_id or msg.correlationId not in job.cids:
            return
        pages = job.pages.setdefault(msg.correlationId, [])
        pages.append(msg)
        if len(getattr(msg, _SNAPSHOT_GROUP[msg.TEMPLATE_ID])) < PAGE_SIZE:
            job.done[msg.correlationId] = pages
            # Apply each reply where it sits in the stream, between the reports around it.
            self._apply_reply(job.cids[msg.correlationId], pages)

    def _apply_reply(self, qt: QueryType, pages: list[Any]) -> None:
        if qt == QueryType.Orders:
            self.model.on_orders_snapshot(pages)
        elif qt == QueryType.Positions:
            self.model.on_positions_snapshot(pages)
        elif qt == QueryType.Risk:
            self.model.on_risk_snapshot(pages)

    def _apply_snapshots(self, job: _QueryJob) -> None:
        cc = self._cc
        assert cc is not None
        for cid in job.cids:
            cc.forget(cid)
        if job.announce:
            self.model.resyncing = ""
            verb = "loaded" if job.reason == "initial snapshot" else "resynced"
            self.model.notice("information", f"{verb} orders, positions and risk from the oms ({job.reason})")
        self._dirty = True

    # -- commands ----------------------------------------------------------------------------------
    def _drain_commands(self, now: int) -> int:
        n = 0
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return n
            n += 1
            self._send(command, now)

    def _send(self, command: Command, now: int) -> None:
        cc = self._cc
        assert cc is not None
        try:
            match command:
                case EngageKill(reason=reason):
                    cid = cc.send_kill(reason)
                case ReleaseKill(reason=reason):
                    cid = cc.send_release(reason)
                case Flatten(instrument_id=iid, reason=reason):
                    cid = cc.send_flatten(iid, reason=reason)
                case CancelAll(instrument_id=iid, reason=reason):
                    cid = cc.send_cancel_all(iid, reason=reason)
                case CancelOrder(order_id=oid, instrument_id=iid, strategy_id=sid):
                    cid = cc.send_cancel_order(order_id=oid, instrument_id=iid, strategy_id=sid)
                case NewOrder():
                    cid = cc.send_new_order(
                        instrument_id=command.instrument_id,
                        side=command.side,
                        qty=command.qty,
                        price=command.price,
                        ord_type=command.ord_type,
                        tif=command.tif,
                    )
                case _:
                    raise TypeError(f"not a command: {command!r}")
        except ConnectionError as e:
            self.on_outcome(ActionOutcome(command.label, Outcome.FAILED, str(e)))
            return
        self._pending[cid] = _Pending(command, now)
        self.on_outcome(ActionOutcome(command.label, Outcome.SENT, "waiting for the oms", cid))

    def _follow_pending(self, now: int) -> None:
        if not self._pending:
            return
        cc = self._cc
        assert cc is not None
        timeout_ns = self.config.action_timeout_ms * 1_000_000
        for cid, p in list(self._pending.items()):
            reply = cc.replies(cid)
            final = False
            if reply is not None:
                for ack in reply.acks[p.acks_seen :]:
                    outcome = _ACK_OUTCOME.get(ack.status, Outcome.DONE)
                    if isinstance(p.command, NewOrder | CancelOrder) and outcome == Outcome.ACCEPTED:
                        outcome = Outcome.DONE if isinstance(p.command, CancelOrder) else Outcome.ACCEPTED
                    text = ack.text or ("" if ack.reason == 0 else ack.reason.name)
                    if outcome == Outcome.REFUSED and ack.reason != 0:
                        text = f"{ack.reason.name}: {text}" if ack.text else ack.reason.name
                    self.on_outcome(ActionOutcome(p.command.label, outcome, text, cid))
                    final = final or outcome.final
                p.acks_seen = len(reply.acks)
                for er in reply.reports[p.reports_seen :]:
                    if er.ordStatus == OrdStatus.Rejected:
                        text = f"order {er.orderId} rejected: {er.reason.name}" + (
                            f" ({er.text})" if er.text else ""
                        )
                        self.on_outcome(ActionOutcome(p.command.label, Outcome.REFUSED, text, cid))
                        final = True
                    elif isinstance(p.command, NewOrder) and er.ordStatus in _ORDER_FINAL_STATUSES:
                        self.on_outcome(
                            ActionOutcome(
                                p.command.label,
                                Outcome.ACCEPTED,
                                f"order {er.orderId} {er.ordStatus.name}",
                                cid,
                            )
                        )
                        final = True
                p.reports_seen = len(reply.reports)
            if not final and isinstance(p.command, CancelOrder):
                final = self._cancel_outcome(cid, p.command)
            if not final and now - p.sent_ns > timeout_ns:
                self.on_outcome(
                    ActionOutcome(
                        p.command.label,
                        Outcome.UNANSWERED,
                        f"no answer from the oms within {self.config.action_timeout_ms / 1000:g} s",
                        cid,
                    )
                )
                final = True
            if final:
                del self._pending[cid]
                cc.forget(cid)

    def _cancel_outcome(self, cid: int, command: CancelOrder) -> bool:
        """A cancel is answered by execution reports that go to the order's owner: watch the model."""
        orders = self.model.orders
        refusal = orders.request_rejects.pop(cid, None)
        if refusal is not None:
            self.on_outcome(ActionOutcome(command.label, Outcome.REFUSED, refusal, cid))
            return True
        status = orders.finished.get(command.order_id)
        if status is None:
            return False
        if status == OrdStatus.Canceled:
            self.on_outcome(
                ActionOutcome(command.label, Outcome.DONE, f"order {command.order_id} canceled", cid)
            )
        else:
            text = f"too late: order {command.order_id} is {status.name}"
            self.on_outcome(ActionOutcome(command.label, Outcome.REFUSED, text, cid))
        return True


_ACK_OUTCOME = {
    AckStatus.Accepted: Outcome.ACCEPTED,
    AckStatus.Refused: Outcome.REFUSED,
    AckStatus.Done: Outcome.DONE,
    AckStatus.InProgress: Outcome.IN_PROGRESS,
}


def _bus_counters(bus: BusClient, model: DeskModel) -> tuple[tuple[str, int], ...]:
    c = bus.counters_dict()
    bad = sum(v for k, v in c.items() if ".bad_" in k or k.endswith(".handler_error"))
    return (
        ("md received", c.get("market_data.received", 0)),
        ("state received", c.get("state.received", 0)),
        ("heartbeats", c.get("heartbeats.received", 0)),
        ("md images left", c.get("market_data.images_left", 0)),
        ("state gaps", model.state_gaps),
        ("bad input", bad + model.md_undecodable),
        ("driver lost", c.get("bus.driver_lost", 0)),
        ("reconnects", c.get("bus.reconnects", 0)),
    )
