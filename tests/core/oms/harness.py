"""A desk around one OmsEngine for tests: message builders, an input log (the would-be WAL) and the outputs.

Instruments are defined here (as in configs/instruments.toml, but fixed, so a change of shipped static data
cannot move the expected values): 1 BTC-USD (px 1e-2, qty 1e-4), 2 ETH-USD (px 1e-2, qty 1e-3), 3 BTC-PERP
(inverse, 100 USD contracts, px 1e-1, tick 5) at venue "sim"; 101 BTCUSDT at "binance-spot". Limits are
set per test.
"""

from __future__ import annotations

from decimal import Decimal

from core.codec.messages import (
    BookSnapshot,
    CancelAll,
    CancelOrder,
    ControlAck,
    Decimal64,
    ExecType,
    ExecutionReport,
    Flatten,
    Heartbeat,
    KillAction,
    KillSwitch,
    NewOrder,
    OperatorIdentity,
    OrdStatus,
    OrdType,
    Query,
    QueryType,
    Reason,
    ReplaceOrder,
    SetLimit,
    Side,
    TimeInForce,
)
from core.instruments import Instrument, InstrumentCatalog
from core.oms.engine import OmsEngine
from core.oms.fees import FeeSchedule
from core.oms.outputs import OutputCollector
from core.risk.config import RiskConfig, StrategyConfig

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC
MS = 1_000_000
SEC = 1_000_000_000
OPERATOR = OperatorIdentity(user="trader", host="desk-1", pid=4242, tool="tui")
CATALOG = InstrumentCatalog(
    [
        Instrument(1, "BTC-USD", "sim", "spot", "BTC", "USD", -2, -4, max_qty=1_000_000),
        Instrument(2, "ETH-USD", "sim", "spot", "ETH", "USD", -2, -3, max_qty=1_000_000),
        Instrument(
            3,
            "BTC-PERP",
            "sim",
            "perpetual",
            "BTC",
            "USD",
            -1,
            0,
            tick_size=5,
            multiplier=Decimal(100),
            inverse=True,
        ),
        Instrument(101, "BTCUSDT", "binance-spot", "spot", "BTC", "USDT", -2, -5),
    ]
)
BTC, ETH, PERP = 1, 2, 3
BTCUSDT = 101  # at venue "binance-spot"
SIM = 1
BINANCE = 2
VENUES = {"sim": SIM, "binance-spot": BINANCE}


def config(
    limits: dict[str, object] | None = None,
    *,
    strategies: dict[int, dict[str, object]] | None = None,
    instruments: dict[int, dict[str, object]] | None = None,
    **desk,
) -> RiskConfig:
    """A RiskConfig with the given desk-level limits (and per-strategy / per-instrument ones)."""
    cfg = RiskConfig(**desk)
    cfg.fx = {"USDT": Decimal(1)}
    for name, value in (limits or {}).items():
        cfg.limits.set(name, 0, 0, Decimal(str(value)))
    for sid, values in (strategies or {}).items():
        cfg.strategies[sid] = StrategyConfig(sid, f"s{sid}", int(values.pop("account_id", 1)))  # type: ignore[arg-type]
        for name, value in values.items():
            cfg.limits.set(name, sid, 0, Decimal(str(value)))
    for iid, values in (instruments or {}).items():
        for name, value in values.items():
            cfg.limits.set(name, 0, iid, Decimal(str(value)))
    return cfg


class Desk:
    """The engine, its outputs, and every input applied (with its time) so it can be replayed."""

    def __init__(
        self, cfg: RiskConfig | None = None, fees: FeeSchedule | None = None, start: int = T0
    ) -> None:
        self.config = cfg if cfg is not None else config()
        self.fees = fees
        self.out = OutputCollector()
        self.engine = OmsEngine(CATALOG, self.config, self.out, fees=fees, venue_ids=VENUES)
        self.now = start
        self.inputs: list[tuple[int, bytes]] = []
        self._corr = 0
        self._exec = 0

    # -- driving -----------------------------------------------------------------------------------
    def send(self, payload: bytes, dt: int = MS) -> int:
        """Apply one input dt after the previous one; returns the number of outputs it produced."""
        self.now += dt
        before = len(self.out)
        self.inputs.append((self.now, payload))
        self.engine.on_message(self.now, payload)
        assert not self.engine.counters.get("input_errors"), self.risk_events(before)  # an engine bug
        return len(self.out) - before

    def tick(self, dt: int) -> None:
        from core.oms.wal import clock_tick

        self.send(clock_tick(self.now + dt), dt)

    def restart(self, down: int) -> None:
        """The oms was down for `down` ns (no input, no tick), then started again: its start marker."""
        from core.oms.wal import start_marker

        self.send(start_marker(self.now + down), down)

    def corr(self) -> int:
        self._corr += 1
        return self._corr

    def since(self, mark: int, kind: str | None = None) -> list:
        return [o.message() for o in self.out.outputs[mark:] if kind is None or o.kind == kind]

    # -- builders ----------------------------------------------------------------------------------
    def book(self, inst: int, bid: int, ask: int, dt: int = MS) -> None:
        self.send(
            BookSnapshot.encode_bytes(
                instrumentId=inst,
                seq=0,
                venueSeq=0,
                exchangeTs=0,
                receiveTs=0,
                publishTs=0,
                bids=[(bid, 10, 1)],
                asks=[(ask, 10, 1)],
            ),
            dt,
        )

    def order(
        self,
        strategy: int,
        cl: int,
        inst: int,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        tif: TimeInForce = TimeInForce.GTC,
        flags: int = 0,
        client: int = 7,
        corr: int = 0,
        venue: int = SIM,
        dt: int = MS,
    ) -> int:
        ord_type = OrdType.Limit if price is not None else OrdType.Market
        mark = len(self.out)
        self.send(
            NewOrder.encode_bytes(
                correlationId=corr or self.corr(),
                clientId=client,
                strategyId=strategy,
                clOrdId=cl,
                orderId=0,
                instrumentId=inst,
                venueId=venue,
                side=side,
                ordType=ord_type,
                timeInForce=tif,
                flags=flags,
                price=price,
                qty=qty,
                sendTs=self.now,
                triggerTs=0,
                operator=OPERATOR,
            ),
            dt,
        )
        return mark

    def cancel(self, strategy: int, cl: int, orig: int, order_id: int = 0, dt: int = MS) -> None:
        self.send(
            CancelOrder.encode_bytes(
                correlationId=self.corr(),
                clientId=7,
                strategyId=strategy,
                clOrdId=cl,
                origClOrdId=orig,
                orderId=order_id,
                instrumentId=0,
                venueId=SIM,
                sendTs=self.now,
                operator=OPERATOR,
            ),
            dt,
        )

    def replace(self, strategy: int, cl: int, orig: int, price: int | None, qty: int, dt: int = MS) -> None:
        self.send(
            ReplaceOrder.encode_bytes(
                correlationId=self.corr(),
                clientId=7,
                strategyId=strategy,
                clOrdId=cl,
                origClOrdId=orig,
                orderId=0,
                instrumentId=0,
                venueId=SIM,
                price=price,
                qty=qty,
                sendTs=self.now,
                operator=OPERATOR,
            ),
            dt,
        )

    def report(
        self,
        order_id: int,
        exec_type: ExecType,
        status: OrdStatus,
        *,
        exec_id: int | None = None,
        last_px: int | None = None,
        last_qty: int = 0,
        cum: int = 0,
        leaves: int = 0,
        fee: Decimal64 = Decimal64(0, 0),
        avg_px: Decimal64 = Decimal64(0, 0),
        reason: Reason = Reason(0),
        venue: int = SIM,
        dt: int = MS,
    ) -> None:
        if exec_id is None:
            self._exec += 1
            exec_id = self._exec
        o = self.engine.orders.get(order_id)
        self.send(
            ExecutionReport.encode_bytes(
                orderId=order_id,
                clOrdId=o.cl_ord_id if o else 0,
                origClOrdId=0,
                strategyId=o.strategy_id if o else 0,
                clientId=0,
                correlationId=0,
                instrumentId=o.instrument_id if o else 1,
                venueId=venue,
                venueOrderId=f"V{order_id}",
                execId=exec_id,
                execType=exec_type,
                ordStatus=status,
                side=o.side if o else Side.Buy,
                ordType=o.ord_type if o else OrdType.Limit,
                timeInForce=o.tif if o else TimeInForce.GTC,
                flags=0,
                price=o.price if o else None,
                qty=o.qty if o else 0,
                lastPx=last_px,
                lastQty=last_qty,
                cumQty=cum,
                leavesQty=leaves,
                avgPx=avg_px,
                fee=fee,
                reason=reason,
                transactTs=self.now,
                ts=self.now,
                seq=exec_id,
                text=b"",
            ),
            dt,
        )

    def ack(self, order_id: int, **kw) -> None:
        self.report(order_id, ExecType.New, OrdStatus.New, **kw)

    def fill(self, order_id: int, qty: int, px: int, **kw) -> None:
        self.report(order_id, ExecType.Trade, OrdStatus.PartiallyFilled, last_px=px, last_qty=qty, **kw)

    def canceled(self, order_id: int, **kw) -> None:
        self.report(order_id, ExecType.Canceled, OrdStatus.Canceled, **kw)

    def kill(self, action: KillAction = KillAction.Engage, reason: str = "test", client: int = 9) -> int:
        corr = self.corr()
        self.send(
            KillSwitch.encode_bytes(
                correlationId=corr,
                clientId=client,
                action=action,
                sendTs=self.now,
                operator=OPERATOR,
                reason=reason,
            )
        )
        return corr

    def flatten(self, inst: int = 0, strategy: int = 0, client: int = 9) -> int:
        corr = self.corr()
        self.send(
            Flatten.encode_bytes(
                correlationId=corr,
                clientId=client,
                instrumentId=inst,
                strategyId=strategy,
                sendTs=self.now,
                operator=OPERATOR,
                reason="flatten test",
            )
        )
        return corr

    def cancel_all(self, inst: int = 0, strategy: int = 0, client: int = 9) -> int:
        corr = self.corr()
        self.send(
            CancelAll.encode_bytes(
                correlationId=corr,
                clientId=client,
                instrumentId=inst,
                strategyId=strategy,
                sendTs=self.now,
                operator=OPERATOR,
                reason="test",
            )
        )
        return corr

    def set_limit(self, name: str, value: str, strategy: int = 0, inst: int = 0, client: int = 9) -> int:
        d = Decimal(value)
        sign, digits, exp = d.as_tuple()
        mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
        corr = self.corr()
        self.send(
            SetLimit.encode_bytes(
                correlationId=corr,
                clientId=client,
                name=name,
                strategyId=strategy,
                instrumentId=inst,
                value=Decimal64(mantissa, int(exp)),
                sendTs=self.now,
                operator=OPERATOR,
                reason="risk desk request",
            )
        )
        return corr

    def query(self, qtype: QueryType, client: int = 11) -> int:
        corr = self.corr()
        self.send(
            Query.encode_bytes(
                correlationId=corr, clientId=client, queryType=qtype, sendTs=self.now, operator=OPERATOR
            )
        )
        return corr

    def heartbeat(self, strategy: int, dt: int = MS) -> None:
        self.send(
            Heartbeat.encode_bytes(
                ts=self.now,
                role="strategy",
                pid=1,
                state=2,
                seq=0,
                startedTs=0,
                strategyId=strategy,
                counters=(),
                instance=b"test",
            ),
            dt,
        )

    def venue_ack(self, corr: int, client: int, dt: int = MS) -> None:
        self.send(
            ControlAck.encode_bytes(
                correlationId=corr, clientId=client, status=3, reason=0, ts=self.now, text=b""
            ),
            dt,
        )

    # -- reading outputs ---------------------------------------------------------------------------
    def last_order_id(self) -> int:
        return self.engine.next_order_id - 1

    def reports(self, mark: int = 0) -> list:
        return self.since(mark, "execution_report")

    def risk_events(self, mark: int = 0) -> list:
        return self.since(mark, "risk_event")

    def acks(self, mark: int = 0) -> list:
        return self.since(mark, "control_ack")

    def venue_orders(self, mark: int = 0) -> list:
        return self.since(mark, "venue_order")


def state_of(engine: OmsEngine) -> dict:
    """Everything replay must rebuild, as plain values (counters of inputs not journaled excluded)."""
    return {
        "orders": {
            oid: (
                o.status,
                o.cl_ord_id,
                o.price,
                o.qty,
                o.cum_qty,
                o.leaves,
                o.fill_value,
                o.acked,
                o.updated_ts,
            )
            for oid, o in engine.orders.items()
        },
        "positions": {
            k: (p.net, p.cost, p.realized, p.fees, p.mark) for k, p in engine.ledger.positions.items()
        },
        "exposure": (engine.exposure.strategy, engine.exposure.account, engine.exposure.gross),
        "kill": (engine.kill.engaged, engine.kill.reason, engine.kill.operator, engine.kill.changed_ts),
        "day": (engine.day.start_ts, engine.day.baseline, engine.day.history),
        "daily_pnl": engine.day.daily(engine.ledger.desk_total),
        "limits": engine.limits.items(),
        "ids": (engine.next_order_id, engine.next_exec_id, engine.seq, engine.now),
        "dead": sorted(engine.dead),
        "mids": dict(engine.risk.mid2),
        "timers": engine.next_deadline(),
        "flatten": sorted(engine.flatten_jobs),
    }


def check_invariants(e: OmsEngine) -> None:
    """The engine's derived counts agree with its orders and positions (recomputed from scratch)."""
    working = [o for o in e.orders.values() if o.working]
    assert e.working_count == len(e.working) == len(working)
    for s, n in e.risk.open_orders.items():
        assert n == sum(1 for o in working if o.strategy_id == s), s
    for (s, i), row in e.exposure.strategy.items():
        mine = [o for o in working if o.strategy_id == s and o.instrument_id == i]
        pos = e.ledger.positions.get(("s", s, i))
        expected = [
            pos.net if pos else 0,
            sum(o.leaves for o in mine if o.is_buy),
            sum(o.leaves for o in mine if not o.is_buy),
        ]
        assert row == expected, ((s, i), row, expected)
    for (a, i), row in e.exposure.account.items():
        pos = e.ledger.positions.get(("a", a, i))
        assert row[0] == (pos.net if pos else 0)
    assert e.exposure.gross == sum(
        e.exposure.contribution(i, e.exposure.mark2.get(i, 0)) for i in e.exposure.desk
    )
    check_ledger(e)


def check_ledger(e: OmsEngine) -> None:
    """Each position's PnL in the desk currency, and the totals, as a revaluation from scratch gives."""
    led = e.ledger
    for key, p in led.positions.items():
        rate = led.settlement_to_desk(key[2])
        assert led.pnl_desk.get(key, 0) == (0 if rate is None else led.pnl(p) * rate), key
    assert led.desk_total == sum(v for k, v in led.pnl_desk.items() if k[0] == "a")
    for (kind, owner), total in led.totals.items():
        assert total == sum(v for k, v in led.pnl_desk.items() if k[0] == kind and k[1] == owner)
