"""OmsAgent: the oms engine on the bus, behind its write-ahead log.

Inputs, tethered (the oms must never miss one; a slow oms holds its publishers back instead):
- control: KillSwitch, Flatten, CancelAll, SetLimit (journaled), Query (answered, not journaled);
- order_requests: NewOrder, CancelOrder, ReplaceOrder from strategies and manual orders;
- venue_reports: ExecutionReports of the exec gateways, and their ControlAck ending a reconciliation;
- market_data: books and deltas, reduced by ReferenceFeed to one top-of-book snapshot per mid change;
and untethered:
- heartbeats: the strategy hosts' per-strategy heartbeats (the dead-man); other daemons' are ignored.
  Heartbeats repeat (every interval, deadman_ms being many intervals), so one missed costs nothing,
  whereas a tethered subscriber that dies holds every publisher of the stream until the driver drops
  it (client_liveness_timeout_ms, 10 s): every daemon's heartbeat would stop, and the supervisor would
  restart the whole desk because the oms was killed.

Every input that can change the state is stamped with the clock, appended to the WAL (fsynced before
the append returns, by default) and only then applied (JournaledEngine); when the engine has a
deadline due and nothing arrives, a clock tick is journaled and applied the same way. An input the
engine must not see is never applied: undecodable frames and templates a stream does not carry are
counted and dropped (the engine's time only moves with journaled inputs, so replay fires every
deadline at the same input).

A WAL that cannot be written is fatal for the input at hand, never for the daemon: a request is
refused with a reason (refusals.py), a venue report is left to the next reconciliation, a reference
or a tick is skipped; the heartbeat goes Degraded and the failure is logged and published as a
RiskEvent until an append succeeds again.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from typing import Any

from core.agent.clock import Clock
from core.agent.ratelimit import RateLimitedLog
from core.bus.client import BusClient
from core.bus.dispatch import MessageDispatcher, aerodesk_dispatcher
from core.bus.doorbell import stream_bit
from core.bus.publisher import RetryPolicy
from core.codec.messages import (
    AckStatus,
    CancelAll,
    CancelOrder,
    ControlAck,
    DaemonState,
    ExecutionReport,
    Flatten,
    Heartbeat,
    KillSwitch,
    NewOrder,
    Query,
    Reason,
    ReplaceOrder,
    SetLimit,
    decode,
)
from core.daemons.heartbeat import HeartbeatPublisher
from core.daemons.oms.outputs import BusOutputs
from core.daemons.oms.reconcile import Reconciler
from core.daemons.oms.refusals import (
    is_kill_engage,
    refusal_text,
    refusals,
    unjournaled_kill_event,
    wal_failure_event,
)
from core.journal import FsyncMode, JournalWriteError, JournalWriter
from core.oms import wire
from core.oms.engine import CLOCK_ROLE, OMS_CLIENT_ID, START_ROLE, OmsEngine
from core.oms.reference import ReferenceFeed
from core.oms.snapshot import PeriodicSnapshots, SnapshotPlan
from core.oms.wal import JournaledEngine, clock_tick, start_marker

log = logging.getLogger("aerodesk.oms")

NO_RETRY_ON_PRESSURE = RetryPolicy(back_pressured=0, admin_action=10, not_connected=0)  # outboxes hold
CLOCK_STREAM_ID = 0  # WAL records of the oms's own clock ticks and start markers
WAL_RETRY_NS = 100_000_000  # while the WAL fails, deadlines are retried this often (not every cycle)
_TEMPLATE = struct.Struct("<H")  # the template id, at byte 2 of the SBE header


class OmsAgent:
    def __init__(
        self,
        role_name: str,
        bus: BusClient,
        clock: Clock,
        engine: OmsEngine,
        writer: JournalWriter,
        *,
        heartbeat: HeartbeatPublisher | None = None,
        reconcile_timeout_ms: int = 5_000,
        connect_wait_ms: int = 10_000,
        fragment_limit: int = 64,
        on_start_inputs: Callable[[], list[tuple[str, bytes]]] | None = None,
        replayed: int = 0,
        snapshot: SnapshotPlan | None = None,
        snapshot_every: int = 0,
    ) -> None:
        self.role_name = role_name
        self.bus = bus
        self.clock = clock
        self.engine = engine
        self.writer = writer
        self.journal = JournaledEngine(engine, writer)
        self.snapshot = snapshot  # saved at a clean stop (core/oms/snapshot.py)
        # and every `snapshot_every` journaled records while running, so a crash replays at most that many
        self.periodic = (
            PeriodicSnapshots(snapshot, snapshot_every, f"oms {role_name}")
            if snapshot is not None and snapshot_every > 0
            else None
        )
        self.heartbeat = heartbeat
        self.fragment_limit = fragment_limit
        self._on_start_inputs = on_start_inputs
        self.outputs = BusOutputs(
            bus.publisher("state", retry=NO_RETRY_ON_PRESSURE),
            bus.publisher("venue_orders", retry=NO_RETRY_ON_PRESSURE),
            on_venue_drop=lambda venue: self.reconciler.want(f"an order for venue {venue} could not be sent"),
        )
        engine.out = self.outputs
        self.reference = ReferenceFeed()
        self.reconciler = Reconciler(
            engine.reconcile_requests,
            self.outputs.venue_order,
            lambda: self.subs["venue_reports"].is_connected,
            reconcile_timeout_ms * 1_000_000,
            engine.working_venues,
        )
        self.deferred: list[bytes] = []  # Flatten commands waiting for a reconciliation to end
        self.connect_wait_ns = connect_wait_ms * 1_000_000
        self._orders_open = False  # order requests wait until the outputs can reach venue and observers
        self._orders_deadline = 0
        self.wal_failing: str = ""  # the last WAL error while it lasts
        self._wal_retry_at = 0
        self._report = RateLimitedLog(log)
        self._venue_images = 0
        self._venue_bit = stream_bit(bus.config.stream("venue_orders").stream_id)
        self.c: dict[str, int] = {
            "in.new_order": 0,
            "in.cancel_order": 0,
            "in.replace_order": 0,
            "in.exec_report": 0,
            "in.venue_ack": 0,
            "in.kill": 0,
            "in.flatten": 0,
            "in.cancel_all": 0,
            "in.set_limit": 0,
            "in.query": 0,
            "in.strategy_hb": 0,
            "in.md": 0,
            "in.reference": 0,
            "in.clock_tick": 0,
            "in.start": 0,
            "in.ignored": 0,
            "wal.replayed": replayed,
            "wal.refused": 0,
            "wal.unjournaled_kills": 0,
            "wal.unjournaled": 0,
        }
        self._stream_ids = {name: bus.config.stream(name).stream_id for name in bus.config.streams}
        self.subs = {
            "control": bus.subscriber("control", self._control_dispatcher()),
            "venue_reports": bus.subscriber("venue_reports", self._venue_dispatcher()),
            "order_requests": bus.subscriber("order_requests", self._orders_dispatcher()),
            "heartbeats": bus.subscriber("heartbeats", self._heartbeat_dispatcher(), tether=False),
            # reference prices are never urgent here: they must not wake the oms when a tick has to
            # reach the strategies first (read at the next wake-up, at most the idle max wait later)
            "market_data": bus.subscriber("market_data", self._md_dispatcher(), wake=False),
        }

    # -- Agent ------------------------------------------------------------------------------------
    def on_start(self) -> None:
        e = self.engine
        log.info(
            "oms %s: WAL %s replayed (%d records): %d working orders, %d positions, kill switch %s",
            self.role_name,
            self.writer.path,
            self.c["wal.replayed"],
            e.working_count,
            sum(1 for p in e.ledger.positions.values() if p.net),
            f"ENGAGED ({e.kill.reason})" if e.kill.engaged else "released",
        )
        watched = e.deadman_watched()
        # Replayed heartbeats are stale: without a grace the dead-man would cancel at the first tick the
        # orders of strategies that are alive but could not be heard while the oms was down. The start
        # goes first: anything else applied before it would advance time and fire the stale timers.
        if watched and self._input(CLOCK_STREAM_ID, start_marker(self.clock.time_ns()), "in.start"):
            log.info(
                "oms %s: dead-man armed for strategies %s: each has one interval from now to be heard",
                self.role_name,
                watched,
            )
        elif watched:
            log.warning(
                "oms %s: the start could not be journaled: strategies %s get no dead-man grace",
                self.role_name,
                watched,
            )
        for stream, payload in self._on_start_inputs() if self._on_start_inputs else []:
            self._input(self._stream_ids.get(stream, 0), payload, "in.set_limit")
        self._orders_deadline = self.clock.time_ns() + self.connect_wait_ns

    def do_work(self) -> int:
        work = self.outputs.flush()
        limit = self.fragment_limit
        subs = self.subs
        work += subs["control"].poll(limit)
        work += subs["venue_reports"].poll(limit)
        self._watch_venues()
        if self._orders_ready() and not self.reconciler.holding:
            if self.deferred:
                work += self._release_deferred()
            orders = subs["order_requests"].poll(limit)
            if orders:
                # the venue orders wake exec now, not after this cycle's reference-price work
                self.bus.ring(only=self._venue_bit)
                work += orders
        work += subs["heartbeats"].poll(limit)
        work += subs["market_data"].poll(limit)
        now = self.clock.time_ns()
        work += self._tick(now)
        work += self.reconciler.do_work(now)
        if self.writer.policy.mode is not FsyncMode.EVERY_RECORD:
            try:
                work += self.writer.do_work()
            except JournalWriteError as e:
                self._wal_failed(e)
        if self.periodic is not None:
            work += self._periodic_snapshot(self.periodic)
        return work

    def _periodic_snapshot(self, periodic: PeriodicSnapshots) -> int:
        periodic.poll()
        if self.wal_failing or not periodic.due(self.journal) or not self._state_is_the_wals():
            return 0
        try:
            self.writer.flush()  # a process crash then keeps every record the snapshot covers
            periodic.maybe_save(self.engine, self.journal)
        except JournalWriteError as e:
            self._wal_failed(e)
        except Exception as e:  # the WAL is the record: never a reason to stop
            periodic.failed += 1
            self._report.report("snapshot", f"oms {self.role_name}: engine snapshot failed: {e}")
        return 1

    def _state_is_the_wals(self) -> bool:
        """False once an input acted without being journaled (a kill while the WAL failed): from then
        on the state is not what the WAL says, and no snapshot may claim it is."""
        return not (self.c["wal.unjournaled"] or self.c["wal.unjournaled_kills"])

    def next_deadline_ns(self) -> int | None:
        """The engine's next deadline (dead-man, flatten, cancel retries, the daily roll ...)."""
        return self.engine.next_deadline()

    def on_close(self) -> None:
        if self.periodic is not None:
            self.periodic.wait()  # the final snapshot below replaces it
        self.outputs.flush()
        if self.outputs.held:
            log.warning("oms %s: %d outputs not sent at stop", self.role_name, self.outputs.held)
        try:
            self.writer.close()
        except JournalWriteError as e:
            log.error("oms %s: closing the WAL failed: %s", self.role_name, e)
            return
        self._save_snapshot()

    def _save_snapshot(self) -> None:
        """The engine's state for the next start to resume from, when it is exactly what the WAL says:
        an input applied without being journaled (a kill while the WAL failed) would be in the state
        and not in the WAL, so then there is none (and the old one, which is still right, stays)."""
        plan = self.snapshot
        if plan is None:
            return
        if not self._state_is_the_wals():
            log.warning("oms %s: no engine snapshot: inputs were applied unjournaled", self.role_name)
            return
        started = time.monotonic()
        try:
            path = plan.save(self.engine, self.journal)
        except Exception as e:  # the WAL is the record: the next start replays it all
            log.error("oms %s: saving the engine snapshot failed: %s", self.role_name, e)
            return
        log.info(
            "oms %s: engine snapshot %s (%d records) saved in %.2f s",
            self.role_name,
            path,
            plan.records + self.journal.journaled,
            time.monotonic() - started,
        )

    def counters(self) -> dict[str, int]:
        e, w, o = self.engine, self.writer.stats, self.outputs
        out = dict(self.c)
        out.update(
            {
                "wal.appends": w.appends,
                "wal.fsyncs": w.fsyncs,
                "wal.errors": w.write_errors,
                "wal.fsync_errors": w.fsync_errors,
                "working_orders": e.working_count,
                "kill_engaged": int(e.kill.engaged),
                "reconciles": self.reconciler.started,
                "reconcile_timeouts": self.reconciler.timeouts,
                "out.state": o.state.sent,
                "out.venue": o.venue.sent,
                "out.dropped": o.state.dropped + o.venue.dropped,
                "out.held": o.held,
                "eng.bad_inputs": e.counters.get("bad_inputs", 0),
                "eng.input_errors": e.counters.get("input_errors", 0),
                "eng.unknown_reports": e.counters.get("unknown_order_reports", 0),
                "eng.dup_reports": e.counters.get("duplicate_reports", 0),
                "md.unsynced": self.reference.unsynced,
            }
        )
        out.update((f"rej.{k}", v) for k, v in sorted(o.rejects.items()))
        if self.periodic is not None:
            out["snapshot.saved"] = self.periodic.saved
            out["snapshot.failed"] = self.periodic.failed
            out["snapshot.pause_ms"] = round(self.periodic.last_pause_ms)
        return out

    # -- inputs -----------------------------------------------------------------------------------
    def _input(self, stream_id: int, payload: bytes, counter: str) -> bool:
        """Journal, then apply; True when the engine took it."""
        self.c[counter] += 1
        ts = self.clock.time_ns()
        try:
            self.journal.on_message(ts, payload, stream_id)
        except JournalWriteError as e:
            self._wal_failed(e)
            if e.record_appended:  # queued in the WAL (a batch policy): it will be written, so act on it
                self.engine.on_message(ts, payload)
                return True
            if is_kill_engage(payload):
                # Stopping trading is always allowed: the kill acts even unjournaled, and says it will
                # not survive a restart (a replay cannot rebuild it).
                self.c["wal.unjournaled_kills"] += 1
                self.engine.on_message(ts, payload)
                self.outputs.risk_event(unjournaled_kill_event(refusal_text(e), ts))
                return True
            self._not_journaled(payload, e, ts)
            return False
        if self.wal_failing:
            self._wal_recovered()
        return True

    def _not_journaled(self, payload: bytes, error: JournalWriteError, ts: int) -> None:
        self.c["wal.unjournaled"] += 1
        answers = refusals(payload, refusal_text(error), ts)
        if answers:
            self.c["wal.refused"] += 1
            for method, client_id, message in answers:
                if method == "control_ack":
                    self.outputs.control_ack(client_id, message)
                else:
                    getattr(self.outputs, method)(message)
            return
        template = _TEMPLATE.unpack_from(payload, 2)[0]
        if template == ExecutionReport.TEMPLATE_ID:
            self.reconciler.want("a venue report could not be journaled")
        elif template == ControlAck.TEMPLATE_ID:
            self.reconciler.want("a reconciliation answer could not be journaled")

    def _wal_failed(self, e: JournalWriteError) -> None:
        first = not self.wal_failing
        self.wal_failing = str(e)
        self._wal_retry_at = self.clock.time_ns() + WAL_RETRY_NS
        self._report.report("wal", f"oms {self.role_name}: WAL WRITE FAILED: {e}", level=logging.ERROR)
        if first:
            if self.heartbeat is not None:
                self.heartbeat.state = DaemonState.Degraded
            self.outputs.risk_event(wal_failure_event(refusal_text(e), self.clock.time_ns()))

    def _wal_recovered(self) -> None:
        log.warning("oms %s: the WAL is written again (after: %s)", self.role_name, self.wal_failing)
        self.wal_failing = ""
        if self.heartbeat is not None:
            self.heartbeat.state = DaemonState.Running

    def _tick(self, now: int) -> int:
        due = self.engine.next_deadline()
        if due is None or due > now or (self.wal_failing and now < self._wal_retry_at):
            return 0
        self._input(CLOCK_STREAM_ID, clock_tick(now), "in.clock_tick")
        return 1

    # -- streams ----------------------------------------------------------------------------------
    def _dispatcher(self, label: str, routes: dict[int, Callable[[bytes, Any], None]]) -> MessageDispatcher:
        d = aerodesk_dispatcher(default_handler=self._ignored, label=label)
        for template, handler in routes.items():
            d.on(template, handler)
        return d

    def _ignored(self, _frame: bytes, _header: Any) -> None:
        self.c["in.ignored"] += 1

    def _holding_orders(self) -> bool:
        return self.reconciler.holding or not self._orders_open

    def _control_dispatcher(self) -> MessageDispatcher:
        sid = self.bus.config.stream("control").stream_id

        def journaled(counter: str) -> Callable[[bytes, Any], None]:
            return lambda frame, _h: self._input(sid, frame, counter)

        def flatten(frame: bytes, _h: Any) -> None:
            if self._holding_orders():
                self.deferred.append(frame)
            else:
                self._input(sid, frame, "in.flatten")

        def query(frame: bytes, _h: Any) -> None:
            self.c["in.query"] += 1
            try:
                self.engine.on_message(self.clock.time_ns(), frame)  # read-only: answered, not journaled
            except Exception as e:  # a query must never take the oms down; the asker is told
                self._query_failed(frame, e)

        return self._dispatcher(
            "control",
            {
                KillSwitch.TEMPLATE_ID: journaled("in.kill"),
                Flatten.TEMPLATE_ID: flatten,
                CancelAll.TEMPLATE_ID: journaled("in.cancel_all"),
                SetLimit.TEMPLATE_ID: journaled("in.set_limit"),
                Query.TEMPLATE_ID: query,
            },
        )

    def _orders_dispatcher(self) -> MessageDispatcher:
        sid = self.bus.config.stream("order_requests").stream_id
        return self._dispatcher(
            "order_requests",
            {
                NewOrder.TEMPLATE_ID: lambda f, _h: self._input(sid, f, "in.new_order"),
                CancelOrder.TEMPLATE_ID: lambda f, _h: self._input(sid, f, "in.cancel_order"),
                ReplaceOrder.TEMPLATE_ID: lambda f, _h: self._input(sid, f, "in.replace_order"),
            },
        )

    def _venue_dispatcher(self) -> MessageDispatcher:
        sid = self.bus.config.stream("venue_reports").stream_id

        def ack(frame: bytes, _h: Any) -> None:
            m = decode(frame)
            if m.clientId != OMS_CLIENT_ID:
                self.c["in.ignored"] += 1  # a venue's answer to some other client's query
                return
            if self._input(sid, frame, "in.venue_ack"):
                self.reconciler.on_venue_ack(m.correlationId, m.clientId)

        return self._dispatcher(
            "venue_reports",
            {
                ExecutionReport.TEMPLATE_ID: lambda f, _h: self._input(sid, f, "in.exec_report"),
                ControlAck.TEMPLATE_ID: ack,
            },
        )

    def _heartbeat_dispatcher(self) -> MessageDispatcher:
        sid = self.bus.config.stream("heartbeats").stream_id

        def heartbeat(frame: bytes, _h: Any) -> None:
            m = decode(frame)
            # daemon heartbeats say nothing to the engine; clock ticks are the oms's own, never the bus's
            if not m.strategyId or m.role == CLOCK_ROLE or m.role == START_ROLE:
                return
            self._input(sid, frame, "in.strategy_hb")

        return self._dispatcher("heartbeats", {Heartbeat.TEMPLATE_ID: heartbeat})

    def _md_dispatcher(self) -> MessageDispatcher:
        sid = self.bus.config.stream("market_data").stream_id

        def market(frame: bytes, _h: Any) -> None:
            self.c["in.md"] += 1
            ref = self.reference.on_market_data(frame)
            if ref is not None and not self._input(sid, ref, "in.reference"):
                self.reference.forget(decode(ref).instrumentId)  # send the next one again

        return aerodesk_dispatcher(default_handler=market, label="market_data")

    def _query_failed(self, frame: bytes, e: Exception) -> None:
        self.c["query_errors"] = self.c.get("query_errors", 0) + 1
        self._report.report(
            "query", f"oms {self.role_name}: a query failed: {e!r}", level=logging.ERROR, exc=e
        )
        m = decode(frame)
        self.outputs.control_ack(
            m.clientId,
            wire.control_ack(
                correlationId=m.correlationId,
                clientId=m.clientId,
                status=AckStatus.Refused,
                reason=Reason.Other,
                ts=self.clock.time_ns(),
                text=f"query failed in the oms: {e!r}",
            ),
        )

    # -- start ------------------------------------------------------------------------------------------
    def _orders_ready(self) -> bool:
        """Order requests (and flattens) are taken once a venue gateway and the state stream's observers are
        connected: a new publication links to its subscribers a moment after start, and an order sent
        before would be dropped (NOT_CONNECTED) or, worse, reach the recorder but not the venue. After
        connect_wait_ms the oms goes on regardless (a desk may run without a venue)."""
        if self._orders_open:
            return True
        venue_up = self.subs["venue_reports"].is_connected and self.outputs.venue.publisher.is_connected
        if venue_up and self.outputs.state.publisher.is_connected:
            log.info("oms %s: venue and observers connected: taking orders", self.role_name)
        elif self.clock.time_ns() >= self._orders_deadline:
            log.warning(
                "oms %s: no venue gateway connected after %d ms: taking orders anyway",
                self.role_name,
                self.connect_wait_ns // 1_000_000,
            )
        else:
            return False
        self._orders_open = True
        return True

    # -- reconciliation -----------------------------------------------------------------------------
    def _watch_venues(self) -> None:
        joined = self.subs["venue_reports"].counters.images_joined
        if joined != self._venue_images:
            self._venue_images = joined
            self.reconciler.want("a venue gateway joined the venue_reports stream")

    def _release_deferred(self) -> int:
        sid = self.bus.config.stream("control").stream_id
        deferred, self.deferred = self.deferred, []
        for frame in deferred:
            self._input(sid, frame, "in.flatten")
        return len(deferred)
