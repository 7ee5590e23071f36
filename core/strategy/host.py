"""The strategy host engine: runs several strategies on decoded bus messages. Deterministic: no bus, no
threads, no wall clock (time comes from the injected clock), so a backtest and a live daemon drive the
same code.

Hosting it (the strategy daemon, or core/backtest):

    host = StrategyHost(specs, catalog=..., clock=clock, outputs=publishers, config=host_config)
    host.start()                                  # on_start of each strategy, first heartbeats
    # for every message of the md and state streams:
    host.on_message(msg.TEMPLATE_ID, msg)         # msg = core.codec.messages.decode(buffer, offset)
    # in each duty cycle:
    host.poll_timers(clock.time_ns())             # strategy timers and heartbeats
    host.stop()                                   # on_stop, cancel working orders, last heartbeats

Inputs: BookSnapshot / BookDelta / Trade / FeedState (market data: books kept per instrument, routed
to the strategies trading it), ExecutionReport and PositionUpdate (routed by strategyId), and the
oms's OrdersSnapshot / PositionsSnapshot answering the host's own queries (a restarted daemon sends
Query Orders and Positions with the host's clientId: earlier working orders and positions come back to
their strategies). Anything else is counted and ignored. `on_payload(buffer)` decodes first and
counts undecodable input; nothing a message contains can raise out of the host.

Outputs (HostOutputs): `order_request(strategy_id, payload)` with one SBE NewOrder / CancelOrder /
ReplaceOrder per request (correlationId, clientId, strategyId, clOrdId, sendTs; NewOrder also triggerTs)
and `heartbeat(strategy_id, payload)` with one SBE Heartbeat per strategy every heartbeat interval
(role "strategy:<name>", its strategyId, state Running / Degraded when disabled / Stopping, counters):
the oms's dead-man watches them.

Failures: an exception in any callback of a strategy is counted (its `errors` counter, host.errors),
logged (rate limited) and, with on_error = "disable" once max_errors is reached, the strategy is
disabled: no more callbacks, its timers cancelled, its working orders cancelled. A strategy whose
constructor or on_start raises is disabled whatever on_error says (it never started). The other
strategies and the host carry on; host.errors keeps the last failures with their tracebacks.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.agent.clock import Clock
from core.agent.ratelimit import RateLimitedLog
from core.book import BookSide
from core.codec.messages import DaemonState, ExecType, decode
from core.instruments import Instrument, InstrumentCatalog
from core.strategy.config import HostConfig, StrategySpec
from core.strategy.context import StrategyContext, StrategyState
from core.strategy.ids import ClOrdIdSource
from core.strategy.market import SEQ_OK, SEQ_OLD, Market
from core.strategy.orders import CANCEL_WANTED, OrderError
from core.strategy.timers import HostTimers
from core.strategy.wire import RequestEncoder, operator_identity

BOOK_SNAPSHOT, BOOK_DELTA, TRADE, FEED_STATE = 1, 2, 3, 4
EXECUTION_REPORT, POSITION_UPDATE, ORDERS_SNAPSHOT, POSITIONS_SNAPSHOT = 23, 40, 44, 45
_log = logging.getLogger("aerodesk.strategy.host")


class HostOutputs(Protocol):
    def order_request(self, strategy_id: int, payload: bytes) -> None:
        """One encoded NewOrder / CancelOrder / ReplaceOrder for the order-requests stream."""

    def heartbeat(self, strategy_id: int, payload: bytes) -> None:
        """One encoded Heartbeat for the heartbeats stream."""


@dataclass(frozen=True, slots=True)
class HostIdentity:
    """Who the host is on the wire (operator identity of its requests, heartbeats)."""

    host: str
    pid: int
    instance: str = "default"

    @classmethod
    def local(cls, instance: str = "default") -> HostIdentity:
        return cls(socket.gethostname(), os.getpid(), instance)


@dataclass(frozen=True, slots=True)
class StrategyFailure:
    ts: int
    strategy: str
    phase: str  # the callback that raised
    error: str  # type and message
    traceback: str


class StrategyHost:
    def __init__(
        self,
        specs: Iterable[StrategySpec],
        *,
        catalog: InstrumentCatalog,
        clock: Clock,
        outputs: HostOutputs,
        config: HostConfig | None = None,
        identity: HostIdentity | None = None,
        venue_ids: dict[str, int] | None = None,
    ) -> None:
        self.config = config = config or HostConfig()
        self.catalog = catalog
        self.clock = clock
        self.outputs = outputs
        self.identity = identity or HostIdentity.local()
        self.client_id = config.client_id
        self._venue_ids = dict(venue_ids or {})
        self.encoder = RequestEncoder()
        self.timers = HostTimers()
        self.markets: dict[int, Market] = {}
        self.trigger_ts = 0  # publishTs of the md message being dispatched, else 0
        self.started_ns = 0
        self.errors: deque[StrategyFailure] = deque(maxlen=100)
        self.counters: dict[str, int] = {
            "md_messages": 0,
            "md_unknown_instrument": 0,
            "md_gaps": 0,
            "md_old": 0,
            "md_bad": 0,
            "md_dropped_unsynced": 0,
            "reports": 0,
            "reports_other_strategy": 0,
            "reports_unknown_order": 0,
            "positions": 0,
            "positions_old": 0,
            "ignored": 0,
            "bad_messages": 0,
            "requests": 0,
            "heartbeats": 0,
            "strategy_errors": 0,
            "disabled": 0,
        }
        self._problems = RateLimitedLog(_log)
        self._started = False
        self._stopped = False
        self._heartbeat_timer = 0

        start_ns = clock.time_ns()
        self._next_corr = max(start_ns // 1_000, 1)
        self.contexts: list[StrategyContext] = []
        self._by_id: dict[int, StrategyContext] = {}
        self._subscribers: dict[int, list[StrategyContext]] = {}
        for spec in specs:
            self._add(spec, start_ns)

    # -- setup -------------------------------------------------------------------------------------
    def _add(self, spec: StrategySpec, start_ns: int) -> None:
        if spec.strategy_id in self._by_id:
            raise ValueError(
                f"strategy id {spec.strategy_id} given twice "
                f"({self._by_id[spec.strategy_id].name!r}, {spec.name!r})"
            )
        ids = ClOrdIdSource(spec.strategy_id, start_ns, self.config.clordid_dir or None)
        op = operator_identity(spec.name, self.identity.host, self.identity.pid, "strategy")
        ctx = StrategyContext(self, spec, ids, op)
        self.contexts.append(ctx)
        self._by_id[spec.strategy_id] = ctx
        for inst in spec.instruments:
            if inst.id not in self.markets:
                self.markets[inst.id] = Market(inst)
            self._subscribers.setdefault(inst.id, []).append(ctx)
        try:
            ctx.strategy = spec.cls(ctx, spec.params)
        except Exception as e:  # a strategy's constructor is its code: isolate it like any callback
            self._failed(ctx, "__init__", e, force_disable=True)

    def strategy(self, name: str) -> StrategyContext:
        for ctx in self.contexts:
            if ctx.name == name:
                return ctx
        raise KeyError(f"no strategy named {name!r} in this host")

    def venue_id(self, inst: Instrument) -> int:
        """The instrument's venue id when known (0 lets the oms fill it in from its own table)."""
        return self._venue_ids.get(inst.venue, 0)

    def next_correlation_id(self) -> int:
        c = self._next_corr
        self._next_corr = c + 1
        return c

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.started_ns = self.clock.time_ns()
        for ctx in self.contexts:
            if ctx.state != StrategyState.CREATED:
                continue  # failed in its constructor
            ctx.state = StrategyState.RUNNING
            self._call(ctx, "on_start")
        self._heartbeats()
        self._heartbeat_timer = self.timers.schedule(
            None,
            self.started_ns + self.config.heartbeat_interval_ms * 1_000_000,
            "heartbeat",
            self.config.heartbeat_interval_ms * 1_000_000,
        )

    def stop(self) -> None:
        """on_stop of each running strategy, then (cancel_on_stop) cancel what is still working, and a
        last heartbeat with state Stopping. Reports that follow are still tracked if fed."""
        if self._stopped:
            return
        self._stopped = True
        for ctx in self.contexts:
            if ctx.state == StrategyState.RUNNING:
                self._call(ctx, "on_stop")
                if ctx.state == StrategyState.RUNNING:
                    ctx.state = StrategyState.STOPPED
            self.timers.cancel_owner(ctx)
            ctx.timers.clear()
            if self.config.cancel_on_stop:
                self._cancel_everything(ctx)
        self.timers.cancel(self._heartbeat_timer)
        self._heartbeats(DaemonState.Stopping)

    # -- inputs ------------------------------------------------------------------------------------
    def on_payload(self, buffer: Any, offset: int = 0) -> None:
        """Decode one SBE message and handle it; undecodable input is counted, never raised."""
        try:
            msg = decode(buffer, offset)
        except Exception:
            self.counters["bad_messages"] += 1
            return
        self.on_message(msg.TEMPLATE_ID, msg)

    def on_message(self, template_id: int, msg: Any) -> None:
        """Handle one decoded message (see the module docstring for what is routed where)."""
        try:
            handler = self._HANDLERS.get(template_id)
            if handler is None:
                self.counters["ignored"] += 1
                return
            handler(self, msg)
        except Exception as e:  # malformed content the handlers did not foresee: count, report, carry on
            self.counters["bad_messages"] += 1
            self._problems.report("bad_message", f"message {template_id} refused: {type(e).__name__}: {e}")

    def poll_timers(self, now_ns: int) -> int:
        """Fire every timer due at now_ns (strategy timers, heartbeats); returns how many fired."""
        return self.timers.poll(now_ns, self._fire)

    def next_deadline(self) -> int | None:
        """The earliest timer deadline (a backtest advances its clock to it), or None."""
        return self.timers.next_deadline()

    # -- market data -------------------------------------------------------------------------------
    def _snapshot(self, m) -> None:
        market = self._market(m)
        if market is None:
            return
        if m.seq and market.synced and m.seq <= market.seq:
            self.counters["md_old"] += 1  # a snapshot is the resync point: only an older one is dropped
            return
        try:
            market.book.apply_snapshot(
                [(r[0], r[1]) for r in m.bids.rows()], [(r[0], r[1]) for r in m.asks.rows()], m.venueSeq
            )
        except ValueError as e:
            self._bad_md(market, e)
            return
        market.seq = m.seq or market.seq
        market.synced = True
        self._book_changed(market, m)

    def _delta(self, m) -> None:
        market = self._market(m)
        if market is None:
            return
        was_synced = market.synced
        check = market.check_seq(m.seq)
        if check != SEQ_OK:
            self._seq_problem(market, check, m.seq, was_synced)
            return
        if not market.synced:
            self.counters["md_dropped_unsynced"] += 1
            return
        book = market.book
        try:
            for side, price, qty, _count in m.levels.rows():
                book.apply_delta(BookSide(side), price, qty)
        except ValueError as e:
            self._bad_md(market, e)
            return
        book.update_id = m.venueSeq or book.update_id
        self._book_changed(market, m)

    def _trade(self, m) -> None:
        market = self._market(m)
        if market is None:
            return
        was_synced = market.synced
        check = market.check_seq(m.seq)
        if check != SEQ_OK:
            self._seq_problem(market, check, m.seq, was_synced)
            if check == SEQ_OLD:
                return  # a repeat: already dispatched
        self._dispatch_md(market, "on_trade", m, m.publishTs)

    def _feed_state(self, m) -> None:
        market = self.markets.get(m.instrumentId)
        if market is None:
            self.counters["md_unknown_instrument"] += 1
            return
        was_usable = market.usable()
        market.on_feed_status(m.status)
        if was_usable and not market.usable():
            self._dispatch_md(market, "on_book", market, 0)

    def _market(self, m) -> Market | None:
        self.counters["md_messages"] += 1
        market = self.markets.get(m.instrumentId)
        if market is None:
            self.counters["md_unknown_instrument"] += 1
        return market

    def _seq_problem(self, market: Market, check: int, seq: int, was_synced: bool) -> None:
        if check == SEQ_OLD:
            self.counters["md_old"] += 1
            return
        self.counters["md_gaps"] += 1
        self._problems.report(
            f"gap:{market.instrument_id}",
            f"{market.instrument.symbol}: market-data gap at seq {seq}: "
            "book unusable until the next snapshot",
        )
        if was_synced:
            self._dispatch_md(market, "on_book", market, 0)  # tell its strategies the book went bad

    def _bad_md(self, market: Market, e: Exception) -> None:
        self.counters["md_bad"] += 1
        was_synced = market.synced
        market.synced = False
        self._problems.report(
            f"bad_md:{market.instrument_id}", f"{market.instrument.symbol}: bad book data: {e}"
        )
        if was_synced:
            self._dispatch_md(market, "on_book", market, 0)

    def _book_changed(self, market: Market, m) -> None:
        market.updated_ns = self.clock.time_ns()
        market.exchange_ts = m.exchangeTs
        market.publish_ts = m.publishTs
        market.updates += 1
        self._dispatch_md(market, "on_book", market, m.publishTs)

    def _dispatch_md(self, market: Market, callback: str, arg: Any, publish_ts: int) -> None:
        subs = self._subscribers.get(market.instrument_id)
        if not subs:
            return
        self.trigger_ts = publish_ts
        try:
            for ctx in subs:
                if ctx.state == StrategyState.RUNNING:
                    self._call(ctx, callback, arg)
        finally:
            self.trigger_ts = 0

    # -- state -------------------------------------------------------------------------------------
    def _report(self, m) -> None:
        self.counters["reports"] += 1
        ctx = self._by_id.get(m.strategyId)
        if ctx is None:
            self.counters["reports_other_strategy"] += 1
            return
        order = ctx.orders_book.apply(m, self.clock.time_ns())
        if order is None:
            self.counters["reports_unknown_order"] += 1
            return
        et = m.execType
        if et == ExecType.Trade:
            ctx.counters["fills"] += 1
        elif et == ExecType.Rejected:
            ctx.counters["rejects"] += 1
        if order.cancel_cl_ord_id == CANCEL_WANTED and order.replace_pending is None:
            order.cancel_cl_ord_id = 0
            if order.is_working:
                ctx._send_cancel(order)
        if ctx.state == StrategyState.RUNNING:
            self._call(ctx, "on_order_update", order, m)

    def _position(self, m) -> None:
        self.counters["positions"] += 1
        if not m.strategyId:
            return  # an account position: no strategy's own
        ctx = self._by_id.get(m.strategyId)
        if ctx is None:
            return
        p = ctx.position(m.instrumentId)
        if not p.apply(m):
            self.counters["positions_old"] += 1
            return
        if ctx.state == StrategyState.RUNNING:
            self._call(ctx, "on_position", p)

    def _orders_snapshot(self, m) -> None:
        """The oms's answer to the host's Orders query (a daemon asks at start): previous sessions' working
        orders become the strategies' own again, so they can see and cancel them."""
        if m.clientId != self.client_id:
            self.counters["ignored"] += 1
            return
        now = self.clock.time_ns()
        for row in m.orders:
            ctx = self._by_id.get(row.strategyId)
            if ctx is not None:
                ctx.orders_book.restate(row, now)

    def _positions_snapshot(self, m) -> None:
        """The oms's answer to the host's Positions query: each strategy's positions before any update."""
        if m.clientId != self.client_id:
            self.counters["ignored"] += 1
            return
        for row in m.positions:
            ctx = self._by_id.get(row.strategyId) if row.strategyId else None
            if ctx is None:
                continue
            p = ctx.position(row.instrumentId)
            if p.apply_row(row, m.ts) and ctx.state == StrategyState.RUNNING:
                self._call(ctx, "on_position", p)

    _HANDLERS = {
        BOOK_SNAPSHOT: _snapshot,
        BOOK_DELTA: _delta,
        TRADE: _trade,
        FEED_STATE: _feed_state,
        EXECUTION_REPORT: _report,
        POSITION_UPDATE: _position,
        ORDERS_SNAPSHOT: _orders_snapshot,
        POSITIONS_SNAPSHOT: _positions_snapshot,
    }

    # -- timers and heartbeats ---------------------------------------------------------------------
    def _fire(self, owner: StrategyContext | None, tag: str, now_ns: int) -> None:
        if owner is None:
            self._heartbeats()
            return
        if owner.state != StrategyState.RUNNING:
            return
        self._call(owner, "on_timer", tag, now_ns)

    def _heartbeats(self, state: DaemonState | None = None) -> None:
        now = self.clock.time_ns()
        for ctx in self.contexts:
            self._heartbeat(ctx, now, state)

    def _heartbeat(self, ctx: StrategyContext, now: int, state: DaemonState | None = None) -> None:
        if state is None:
            state = DaemonState.Running if ctx.state == StrategyState.RUNNING else DaemonState.Degraded
        ctx.heartbeat_seq += 1
        counters = [
            *ctx.counters.items(),
            ("working_orders", len(ctx.orders_book)),
            ("disabled", int(ctx.state == StrategyState.DISABLED)),
        ]
        payload = self.encoder.heartbeat(
            now,
            f"strategy:{ctx.name}",
            self.identity.pid,
            state,
            ctx.heartbeat_seq,
            self.started_ns,
            ctx.strategy_id,
            counters,
            self.identity.instance,
        )
        self.counters["heartbeats"] += 1
        self.outputs.heartbeat(ctx.strategy_id, payload)

    # -- requests (called by the contexts) -----------------------------------------------------------
    def emit_request(self, ctx: StrategyContext, payload: bytes) -> None:
        self.counters["requests"] += 1
        self.outputs.order_request(ctx.strategy_id, payload)

    # -- isolation ---------------------------------------------------------------------------------
    def _call(self, ctx: StrategyContext, callback: str, *args: Any) -> None:
        ctx.counters["callbacks"] += 1
        try:
            getattr(ctx.strategy, callback)(*args)
        except Exception as e:
            if isinstance(e, OrderError):
                ctx.counters["order_errors"] += 1
            self._failed(ctx, callback, e)

    def _failed(self, ctx: StrategyContext, phase: str, e: Exception, force_disable: bool = False) -> None:
        ctx.counters["errors"] += 1
        self.counters["strategy_errors"] += 1
        text = f"{type(e).__name__}: {e}"
        ctx.last_error = f"{phase}: {text}"
        tb = "".join(traceback.format_exception(e, limit=-4))
        self.errors.append(StrategyFailure(self.clock.time_ns(), ctx.name, phase, text, tb))
        self._problems.report(
            f"strategy:{ctx.name}",
            f"strategy {ctx.name!r} raised in {phase}: {text}",
            level=logging.ERROR,
            exc=e,
        )
        disable = (
            force_disable
            or phase == "on_start"
            or (self.config.on_error == "disable" and ctx.counters["errors"] >= self.config.max_errors)
        )
        if disable and ctx.state in (StrategyState.CREATED, StrategyState.RUNNING):
            self.disable(ctx, f"{phase} raised {text}")

    def disable(self, ctx: StrategyContext, reason: str = "disabled by the host") -> None:
        """Stop a strategy's callbacks and timers and cancel its working orders; the host carries on."""
        ctx.state = StrategyState.DISABLED
        ctx.last_error = ctx.last_error or reason
        self.counters["disabled"] += 1
        self.timers.cancel_owner(ctx)
        ctx.timers.clear()
        self._cancel_everything(ctx)
        _log.error("strategy %r disabled: %s", ctx.name, reason)
        if self._started:
            self._heartbeat(ctx, self.clock.time_ns())  # observers learn at once

    def _cancel_everything(self, ctx: StrategyContext) -> None:
        for order in ctx.orders():
            if order.is_cancelable:
                if order.replace_pending is not None:
                    order.cancel_cl_ord_id = CANCEL_WANTED
                else:
                    ctx._send_cancel(order)

    # -- reading -----------------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """Per strategy: name, id, state, counters, working orders, last error (for telemetry and tests)."""
        return [
            {
                "name": c.name,
                "strategy_id": c.strategy_id,
                "state": c.state.name,
                "counters": dict(c.counters),
                "working_orders": len(c.orders_book),
                "last_error": c.last_error,
            }
            for c in self.contexts
        ]


def host_for(
    specs: Sequence[StrategySpec], catalog: InstrumentCatalog, clock: Clock, outputs: HostOutputs, **kw: Any
) -> StrategyHost:
    """A started host (convenience for tests and tools)."""
    host = StrategyHost(specs, catalog=catalog, clock=clock, outputs=outputs, **kw)
    host.start()
    return host
