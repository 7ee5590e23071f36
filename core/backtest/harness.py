"""The backtest: seeded synthetic markets driving the in-process desk (core/backtest/desk.py: strategy
host -> oms -> sim venue -> oms -> strategy host, the live desk's engines speaking SBE), single-threaded
and deterministic on a SimulatedClock.

    result = Backtest(load_strategies(), BacktestConfig(seed=7, duration_s=600)).run()
    print(result.summary())

The loop jumps the clock to the next thing due: a market step (its events go to the venue at once,
to the host and the oms's reference as md), or anything the desk has due (deliveries, venue reports,
timers, oms deadlines), and there handles everything due. At the end the host stops (working orders
cancelled), the desk settles for settle_s, and the oms is asked for its positions.

Markets: one SyntheticMarket per instrument with the parameters of configs/venues.toml (or the
config's overrides), built by the same code as the md daemon's synthetic feed (core/market). They share
the venue's common factor (configs/venues.toml [venues.sim.factor], core/market/factor.py), so they are
correlated as a pairs strategy needs; `factor_vol_bps` overrides it (0: independent markets). Same
seed, configuration and strategies: same messages (`result.digest`), fills and PnL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.agent.clock import SimulatedClock
from core.backtest.desk import InProcessDesk
from core.backtest.result import BacktestResult
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.market.factor import FactorParams, synthetic_markets
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS
from core.marketdata.events import MarketEvent
from core.risk.config import RiskConfig, load_risk_config
from core.sim.config import SimVenueConfig, VenueCatalog, load_venues
from core.strategy.config import HostConfig, StrategiesConfig, StrategySpec

_NS = 1_000_000_000


@dataclass(frozen=True)
class BacktestConfig:
    seed: int = 1
    duration_s: float = 300.0
    start_ts_ns: int = DEFAULT_START_TS_NS
    symbols: tuple[str, ...] = ()  # markets to generate; () = every instrument the strategies trade
    markets: Mapping[str, SyntheticParams] = field(default_factory=dict)  # else venues.toml's, else defaults
    # common factor vol per sqrt(second): None = the venue's factor (venues.toml), 0 = independent markets
    factor_vol_bps: float | None = None
    loadings: Mapping[str, float] = field(default_factory=dict)  # per symbol loading overrides
    md_latency_us: int = 0  # venue event -> strategy host and oms
    bus_latency_us: int = 0  # strategy host <-> oms, each way
    settle_s: float = 2.0  # after the end: time for the last cancels to be answered
    venue: str = "sim"
    account_id: int = 1
    max_burst: int = 20_000  # messages at one instant before the run stops as a livelock

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            raise ValueError(f"duration_s must be positive, got {self.duration_s}")
        if self.md_latency_us < 0 or self.bus_latency_us < 0 or self.settle_s < 0:
            raise ValueError("latencies and settle_s must not be negative")
        if self.factor_vol_bps is not None and self.factor_vol_bps < 0:
            raise ValueError("factor_vol_bps must not be negative")


class Backtest:
    def __init__(
        self,
        strategies: StrategiesConfig | Sequence[StrategySpec],
        config: BacktestConfig | None = None,
        *,
        catalog: InstrumentCatalog | None = None,
        risk: RiskConfig | None = None,
        venues: VenueCatalog | None = None,
        host_config: HostConfig | None = None,
    ) -> None:
        self.config = config = config or BacktestConfig()
        catalog = catalog if catalog is not None else load_instruments()
        venues = venues if venues is not None else load_venues(instruments=catalog)
        risk = risk if risk is not None else load_risk_config(catalog=catalog)
        if isinstance(strategies, StrategiesConfig):
            specs = strategies.enabled()
            host_config = host_config or strategies.host
        else:
            specs = list(strategies)
        sim_config = venues.sim(config.venue)
        self.instruments = instruments(specs, config, catalog)
        self.clock = SimulatedClock(config.start_ts_ns)
        self.factor = factor_params(config, sim_config, self.instruments)
        self.markets = synthetic_markets(
            self.instruments,
            {
                i.symbol: config.markets.get(i.symbol) or sim_config.markets.get(i.symbol)
                for i in self.instruments
            },
            seed=config.seed,
            start_ts_ns=config.start_ts_ns,
            factor=self.factor,
        )
        self.desk = InProcessDesk(
            specs,
            catalog=catalog,
            risk=risk,
            instruments=self.instruments,
            sim_config=sim_config,
            venue_ids={v.name: v.id for v in venues},
            venue=config.venue,
            clock=self.clock,
            host_config=host_config,
            md_latency_ns=config.md_latency_us * 1_000,
            bus_latency_ns=config.bus_latency_us * 1_000,
            account_id=config.account_id,
            max_burst=config.max_burst,
        )
        self.host = self.desk.host
        self._ran = False

    def run(self) -> BacktestResult:
        if self._ran:
            raise RuntimeError("a Backtest runs once: build a new one (same inputs give the same result)")
        self._ran = True
        cfg = self.config
        desk = self.desk
        start = cfg.start_ts_ns
        end = start + int(cfg.duration_s * _NS)
        desk.start()
        pending: list[list[MarketEvent]] = [m.next_events() for m in self.markets]
        while True:
            t = min(p[0].exchange_ts_ns for p in pending)
            due = desk.next_due()
            if due is not None and due < t:
                t = due
            if t > end:
                break
            if t > self.clock.time_ns():
                self.clock.set(t)
            now = self.clock.time_ns()
            for i, market in enumerate(self.markets):
                while pending[i][0].exchange_ts_ns <= now:
                    for e in pending[i]:
                        desk.market_event(e)
                    pending[i] = market.next_events()
            desk.drain(now)
        desk.run_until(end)
        desk.stop(int(cfg.settle_s * _NS))
        return self._result(start, end)

    def _result(self, start: int, end: int) -> BacktestResult:
        desk = self.desk
        stats = {}
        for ctx in desk.host.contexts:
            s = getattr(ctx.strategy, "stats", None)
            if isinstance(s, dict):
                stats[ctx.name] = dict(s)
        counters = Counter(desk.counters)
        counters["md_messages"] = desk.md.messages
        counters["venue_requests"] = desk.link.requests
        return BacktestResult(
            seed=self.config.seed,
            start_ns=start,
            end_ns=end,
            symbols=tuple(i.symbol for i in self.instruments),
            fills=list(desk.fills),
            positions=desk.positions(),
            strategies=desk.host.status(),
            strategy_stats=stats,
            counters=counters,
            oms_counters=dict(desk.oms.counters),
            risk_events=list(desk.risk_events),
            digest=desk.digest,
        )


def factor_params(
    config: BacktestConfig, venue: SimVenueConfig, instruments: Sequence[Instrument]
) -> FactorParams | None:
    """The common factor of the run: the venue's, or factor_vol_bps with loadings (default 1 each)."""
    if config.factor_vol_bps is None:
        if venue.factor is None:
            return None
        return FactorParams(
            venue.factor.vol_bps, {**venue.factor.loadings, **config.loadings}, venue.factor.step_ms
        )
    if config.factor_vol_bps == 0:
        return None
    return FactorParams(
        config.factor_vol_bps, {i.symbol: config.loadings.get(i.symbol, 1.0) for i in instruments}
    )


def instruments(
    specs: Sequence[StrategySpec], config: BacktestConfig, catalog: InstrumentCatalog
) -> list[Instrument]:
    """The backtest's markets: the config's symbols, or every instrument the strategies trade."""
    if config.symbols:
        out = [catalog.resolve(s, config.venue) for s in config.symbols]
    else:
        out = []
        for spec in specs:
            out.extend(i for i in spec.instruments if i not in out)
    for inst in out:
        if inst.venue != config.venue:
            raise ValueError(
                f"{inst.symbol} trades at {inst.venue!r}, not at the backtest venue {config.venue!r}"
            )
    if not out:
        raise ValueError("a backtest needs at least one instrument (no strategy names one)")
    traded = {i.id for i in out}
    for spec in specs:
        missing = [i.symbol for i in spec.instruments if i.id not in traded]
        if missing:
            raise ValueError(
                f"strategy {spec.name!r} trades {', '.join(missing)}: not in the backtest's markets"
            )
    return out
