"""A whole desk in one thread: strategy host, oms and sim venue wired through an in-process bus, on a
simulated clock. The backtest drives it from synthetic markets; tests drive it with hand-made market
events. Every message between the engines is an encoded SBE message, exactly what the bus carries,
decoded by the receiver:

    md (BookSnapshot / BookDelta / Trade)  venue event -> strategy host, and -> the oms's ReferenceFeed
                                           (a one-level BookSnapshot to the oms when the mid moved)
    NewOrder / CancelOrder / ReplaceOrder  strategy host -> oms -> venue link -> SimVenue
    Heartbeat                              strategy host -> oms (dead-man)
    ExecutionReport                        SimVenue -> venue link -> oms -> strategy host
    PositionUpdate                         oms -> strategy host

The bus is a heap ordered by delivery time, then send order. Latencies: md_latency_ns (venue event to
host and oms), bus_latency_ns (host <-> oms, each way), and the venue's own order and report latency.

Time: `run_until(t)` jumps the clock to each next thing due (a delivery, a venue report, a strategy
timer, an oms deadline) and there runs every delivery, report and timer due, until nothing more is
due (`drain`). Nothing reads the wall clock; `digest` hashes every delivered message in order.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from core.agent.clock import SimulatedClock
from core.backtest.md import MdEncoder
from core.backtest.result import Fill, PositionResult
from core.backtest.venue_link import SimVenueLink
from core.codec.messages import (
    CancelOrder,
    ExecType,
    ExecutionReport,
    NewOrder,
    OperatorIdentity,
    PositionsSnapshot,
    Query,
    QueryType,
    ReplaceOrder,
    RiskEvent,
    decode,
)
from core.instruments import Instrument, InstrumentCatalog
from core.marketdata.events import MarketEvent
from core.oms.engine import OmsEngine
from core.oms.reference import ReferenceFeed
from core.risk.config import RiskConfig
from core.sim.config import SimVenueConfig
from core.sim.venue import SimVenue
from core.strategy.config import HostConfig, StrategySpec
from core.strategy.host import HostIdentity, StrategyHost

TO_OMS, TO_HOST = 0, 1
DESK_CLIENT_ID = 0xFFFF_FFFE  # the harness's own client id (its Positions query)
MAX_BURST = 20_000  # messages delivered at one instant before the desk calls it a livelock
_OPERATOR = OperatorIdentity(user=b"backtest", host=b"backtest", pid=0, tool=b"backtest")


class LivelockError(RuntimeError):
    """Messages kept flowing at one instant without time moving: a feedback loop between engines."""


class InProcessDesk:
    def __init__(
        self,
        specs: Sequence[StrategySpec],
        *,
        catalog: InstrumentCatalog,
        risk: RiskConfig,
        instruments: Sequence[Instrument],
        sim_config: SimVenueConfig,
        venue_ids: dict[str, int],
        venue: str = "sim",
        clock: SimulatedClock,
        host_config: HostConfig | None = None,
        md_latency_ns: int = 0,
        bus_latency_ns: int = 0,
        account_id: int = 1,
        record_requests: bool = False,
        max_burst: int = MAX_BURST,
    ) -> None:
        self.catalog = catalog
        self.clock = clock
        self.instruments = list(instruments)
        self.venue = SimVenue(self.instruments, sim_config)
        self.link = SimVenueLink(self.venue, venue_ids[venue], account_id)
        self.md = MdEncoder()
        self.reference = ReferenceFeed()  # the oms daemon's md -> reference price path
        self.oms = OmsEngine(catalog, risk, _OmsSink(self), venue_ids=venue_ids)
        self.host = StrategyHost(
            specs,
            catalog=catalog,
            clock=clock,
            outputs=_HostSink(self),
            config=host_config or HostConfig(),
            identity=HostIdentity("backtest", 0, "backtest"),
            venue_ids=venue_ids,
        )
        self.md_latency_ns = md_latency_ns
        self.bus_latency_ns = bus_latency_ns
        self._bus: list[tuple[int, int, int, bytes]] = []  # (deliver at, send order, destination, payload)
        self._sent = 0
        self._digest = hashlib.sha256()
        self.counters: Counter[str] = Counter()
        self.fills: list[Fill] = []
        self.risk_events: list[str] = []
        self.execution_reports: list[bytes] = []  # every ER the oms published, in order
        self.requests: list[bytes] | None = [] if record_requests else None  # the host's, in order
        self.max_burst = max_burst
        self._query_replies: list[bytes] = []

    @property
    def now(self) -> int:
        return self.clock.time_ns()

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    # -- the bus -----------------------------------------------------------------------------------
    def send(self, destination: int, payload: bytes, deliver_at: int) -> None:
        self._sent += 1
        heapq.heappush(self._bus, (deliver_at, self._sent, destination, payload))

    def _deliver(self, destination: int, payload: bytes, now: int) -> None:
        d = self._digest
        d.update(now.to_bytes(8, "little"))
        d.update(bytes((destination,)))
        d.update(payload)
        if destination == TO_OMS:
            self.oms.on_message(now, payload)
        else:
            self.host.on_payload(payload)

    # -- driving -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.host.start()
        self.drain()

    def market_event(self, event: MarketEvent) -> None:
        """One market-data event at the clock's time: to the venue at once, encoded md to the host, and
        to the oms's reference feed (as the oms daemon does: a one-level BookSnapshot when the mid moved)."""
        now = self.clock.time_ns()
        deliver = now + self.md_latency_ns
        self.venue.on_market(event)
        payload = self.md.encode(event, now)
        if payload is None:
            return
        self.counters["md_events"] += 1
        self.send(TO_HOST, payload, deliver)
        ref = self.reference.on_market_data(payload)
        if ref is not None:
            self.counters["oms_references"] += 1
            self.send(TO_OMS, ref, deliver)

    def next_due(self) -> int | None:
        times = []
        if self._bus:
            times.append(self._bus[0][0])
        for t in (self.venue.next_due(), self.host.next_deadline(), self.oms.next_deadline()):
            if t is not None:
                times.append(t)
        return min(times) if times else None

    def drain(self, now: int | None = None) -> None:
        """Everything due at `now` (default: the clock's time): venue reports, deliveries and what they
        cause, strategy timers, oms deadlines."""
        if now is None:
            now = self.clock.time_ns()
        bus = self._bus
        delivered = 0
        while True:
            progressed = False
            for payload in self.link.reports(now):
                self.counters["venue_reports"] += 1
                self.send(TO_OMS, payload, now)
                progressed = True
            while bus and bus[0][0] <= now:
                _, _, destination, payload = heapq.heappop(bus)
                self._deliver(destination, payload, now)
                progressed = True
                delivered += 1
                if delivered > self.max_burst:
                    raise LivelockError(
                        f"more than {self.max_burst} messages at t={now} without time moving: the "
                        "engines answer each other forever (a strategy answering refusals at once?)"
                    )
            if self.host.poll_timers(now):
                progressed = True
            deadline = self.oms.next_deadline()
            if deadline is not None and deadline <= now:
                self.oms.on_tick(now)
                progressed = True
            if not progressed:
                return

    def run_until(self, t: int, *, timers: bool = True) -> None:
        """Advance to t, handling everything due on the way. With timers=False only messages and venue
        reports move time (strategy timers and oms deadlines still fire when reached on the way)."""
        while True:
            due = self.next_due() if timers else self._message_due()
            if due is None or due > t:
                break
            if due > self.clock.time_ns():
                self.clock.set(due)
            self.drain()
        if t > self.clock.time_ns():
            self.clock.set(t)
        self.drain()

    def step(self, dt_ns: int) -> None:
        self.run_until(self.clock.time_ns() + dt_ns)

    def _message_due(self) -> int | None:
        times = [t for t in (self.venue.next_due(), self._bus[0][0] if self._bus else None) if t is not None]
        return min(times) if times else None

    def stop(self, settle_ns: int) -> None:
        """Stop the host (its working orders are cancelled) and let the messages settle for settle_ns."""
        self.drain()
        self.host.stop()
        self.run_until(self.clock.time_ns() + settle_ns, timers=False)

    def positions(self) -> list[PositionResult]:
        """Every position of the oms (strategy and account ones), by a real Positions query."""
        self._query_replies.clear()
        now = self.clock.time_ns()
        self.oms.on_message(
            now,
            Query.encode_bytes(
                correlationId=1,
                clientId=DESK_CLIENT_ID,
                queryType=QueryType.Positions,
                sendTs=now,
                operator=_OPERATOR,
            ),
        )
        out: list[PositionResult] = []
        for payload in self._query_replies:
            m = decode(payload)
            if not isinstance(m, PositionsSnapshot):
                continue
            for p in m.positions:
                out.append(
                    PositionResult(
                        account_id=p.accountId,
                        strategy_id=p.strategyId,
                        instrument_id=p.instrumentId,
                        net_qty=p.netQty,
                        avg_px=_dec(p.avgPx),
                        realized_pnl=_dec(p.realizedPnl),
                        unrealized_pnl=_dec(p.unrealizedPnl),
                        fees=_dec(p.fees),
                        mark_px=p.markPx,
                    )
                )
        return out

    # -- outputs of the engines --------------------------------------------------------------------
    def _on_execution_report(self, payload: bytes) -> None:
        m = decode(payload)
        assert isinstance(m, ExecutionReport)
        self.execution_reports.append(payload)
        self.counters[f"er_{m.execType.name}"] += 1
        if m.execType == ExecType.Trade:
            self.fills.append(
                Fill(
                    ts=self.clock.time_ns(),
                    strategy_id=m.strategyId,
                    instrument_id=m.instrumentId,
                    side=m.side.name,
                    qty=m.lastQty,
                    price=m.lastPx,
                    fee=_dec(m.fee),
                    order_id=m.orderId,
                    cl_ord_id=m.clOrdId,
                    exec_id=m.execId,
                )
            )
        self.send(TO_HOST, payload, self.clock.time_ns() + self.bus_latency_ns)

    def _on_request(self, payload: bytes) -> None:
        m = decode(payload)
        kind = {NewOrder: "new_orders", CancelOrder: "cancels", ReplaceOrder: "replaces"}.get(
            type(m), "other"
        )
        self.counters[kind] += 1
        if self.requests is not None:
            self.requests.append(payload)
        self.send(TO_OMS, payload, self.clock.time_ns() + self.bus_latency_ns)

    def _on_risk_event(self, payload: bytes) -> None:
        m = decode(payload)
        assert isinstance(m, RiskEvent)
        self.counters[f"risk_{m.eventType.name}"] += 1
        if len(self.risk_events) < 1000:
            self.risk_events.append(f"{m.eventType.name} {m.reason.name}: {m.text}")


class _OmsSink:
    """OmsOutputs of the desk: state to the host over the bus, venue orders to the venue link."""

    def __init__(self, desk: InProcessDesk) -> None:
        self.desk = desk

    def execution_report(self, payload: bytes) -> None:
        self.desk._on_execution_report(payload)

    def venue_order(self, venue_id: int, payload: bytes) -> None:
        desk = self.desk
        if venue_id != desk.link.venue_id:
            desk.counters["venue_orders_elsewhere"] += 1
            return
        desk.link.send(payload, desk.clock.time_ns())

    def position_update(self, payload: bytes) -> None:
        desk = self.desk
        desk.counters["position_updates"] += 1
        desk.send(TO_HOST, payload, desk.clock.time_ns() + desk.bus_latency_ns)

    def account_state(self, payload: bytes) -> None:
        self.desk.counters["account_states"] += 1

    def risk_event(self, payload: bytes) -> None:
        self.desk._on_risk_event(payload)

    def kill_switch_state(self, payload: bytes) -> None:
        self.desk.counters["kill_switch_states"] += 1

    def control_ack(self, client_id: int, payload: bytes) -> None:
        self.desk.counters["control_acks"] += 1

    def query_reply(self, client_id: int, payload: bytes) -> None:
        if client_id == DESK_CLIENT_ID:
            self.desk._query_replies.append(payload)


class _HostSink:
    """HostOutputs of the desk: requests and heartbeats to the oms over the bus."""

    def __init__(self, desk: InProcessDesk) -> None:
        self.desk = desk

    def order_request(self, strategy_id: int, payload: bytes) -> None:
        self.desk._on_request(payload)

    def heartbeat(self, strategy_id: int, payload: bytes) -> None:
        desk = self.desk
        desk.counters["heartbeats"] += 1
        desk.send(TO_OMS, payload, desk.clock.time_ns() + desk.bus_latency_ns)


def _dec(d) -> Decimal:
    return Decimal(d.mantissa).scaleb(d.exponent)
