"""configs/venues.toml: every venue the instruments reference, and the simulated venue's settings.

`[venues.NAME]` tables carry a stable numeric `id` (the wire's VenueId) and a `kind`: "sim" for the
simulated matching venue (latency, fees, self-trade policy, queue model, synthetic markets and their
common factor, core/market/factor.py), "data" for
venues we only replay recorded market data from. Reading is strict: unknown keys are errors naming the
file and key, and every instrument's venue must be configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from core.config.base import ConfigError, Table, configs_dir, load_toml
from core.instruments import InstrumentCatalog, load_instruments
from core.market.factor import FactorParams, read_factor
from core.market.params import SyntheticParams, read_params

VENUE_KINDS = ("sim", "data")


class SelfTradePolicy(StrEnum):
    """What happens when an incoming order would trade with a resting order of the same owner."""

    CANCEL_RESTING = "cancel_resting"  # cancel the resting order, keep matching the incoming one
    CANCEL_INCOMING = "cancel_incoming"  # cancel what is left of the incoming order, the resting one stays
    CANCEL_BOTH = "cancel_both"


class SelfTradeScope(StrEnum):
    """Which orders count as the same owner for self-trade prevention."""

    ACCOUNT = "account"
    STRATEGY = "strategy"  # same account and same strategy


class QueueCancels(StrEnum):
    """Where size removed from a price level by cancels is taken from, relative to a simulated order."""

    BACK = "back"  # behind us first: our queue position improves only once everything behind is gone
    PRO_RATA = "pro_rata"  # spread over the level: the part ahead of us shrinks in proportion


@dataclass(frozen=True, slots=True)
class SimVenueConfig:
    order_latency_ns: int = 0  # submit at t, the venue acts at t + order_latency_ns
    report_latency_ns: int = 0  # the venue acts at t, the report is delivered at t + report_latency_ns
    maker_fee_bps: Decimal = Decimal(0)
    taker_fee_bps: Decimal = Decimal(0)
    self_trade: SelfTradePolicy = SelfTradePolicy.CANCEL_RESTING
    self_trade_scope: SelfTradeScope = SelfTradeScope.ACCOUNT
    queue_cancels: QueueCancels = QueueCancels.BACK
    terminal_memory: int = 100_000  # finished orders remembered for "too late to cancel"
    markets: dict[str, SyntheticParams] = field(default_factory=dict)  # by symbol
    factor: FactorParams | None = None  # a common factor correlating the synthetic markets

    def __post_init__(self) -> None:
        if self.order_latency_ns < 0 or self.report_latency_ns < 0:
            raise ValueError("latencies must not be negative")
        if self.terminal_memory < 0:
            raise ValueError("terminal_memory must not be negative")


@dataclass(frozen=True, slots=True)
class VenueConfig:
    name: str
    id: int
    kind: str
    description: str = ""
    sim: SimVenueConfig | None = None  # set when kind == "sim"


class VenueCatalog:
    def __init__(self, venues: list[VenueConfig]) -> None:
        self._by_name = {v.name: v for v in venues}

    def __iter__(self):
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> VenueConfig:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise KeyError(f"unknown venue {name!r} (known: {known})") from None

    def by_id(self, venue_id: int) -> VenueConfig:
        for v in self._by_name.values():
            if v.id == venue_id:
                return v
        raise KeyError(f"no venue with id {venue_id}")

    def sim(self, name: str = "sim") -> SimVenueConfig:
        v = self.get(name)
        if v.sim is None:
            raise KeyError(f"venue {name!r} is a {v.kind} venue, not a simulated one")
        return v.sim


def load_venues(path: str | Path | None = None, instruments: InstrumentCatalog | None = None) -> VenueCatalog:
    """Load configs/venues.toml (or `path`) and check it against the instrument catalog."""
    p = Path(path) if path is not None else configs_dir() / "venues.toml"
    catalog = instruments if instruments is not None else load_instruments()
    root = load_toml(p)
    venues_table = root.table("venues")
    root.reject_unknown()
    out: list[VenueConfig] = []
    ids: dict[int, str] = {}
    for name, t in venues_table.subtables().items():
        v = _venue(name, t, catalog)
        if v.id in ids:
            raise t.error("id", f"duplicate venue id {v.id} (also {ids[v.id]})")
        ids[v.id] = name
        out.append(v)
    names = {v.name for v in out}
    for inst in catalog:
        if inst.venue not in names:
            raise ConfigError(
                p,
                f"venues.{inst.venue}",
                f"instrument {inst.symbol} (id {inst.id}) names a venue not configured",
            )
    return VenueCatalog(out)


def _venue(name: str, t: Table, catalog: InstrumentCatalog) -> VenueConfig:
    ident = t.get("id", int)
    if not 0 < ident < 2**16:
        raise t.error("id", f"must be in 1..65535, got {ident}")
    kind = t.get("kind", str)
    if kind not in VENUE_KINDS:
        raise t.error("kind", f"must be one of {', '.join(VENUE_KINDS)}, got {kind!r}")
    description = t.get("description", str, "")
    sim = _sim(name, t, catalog) if kind == "sim" else None
    t.reject_unknown()
    return VenueConfig(name=name, id=ident, kind=kind, description=description, sim=sim)


def _sim(name: str, t: Table, catalog: InstrumentCatalog) -> SimVenueConfig:
    def non_negative(key: str) -> int:
        v = t.get(key, int, 0)
        if v < 0:
            raise t.error(key, f"must not be negative, got {v}")
        return v

    markets: dict[str, SyntheticParams] = {}
    for symbol, mt in t.table("markets", default_empty=True).subtables().items():
        inst = catalog.find(symbol, venue=name)
        if inst is None:
            raise ConfigError(
                mt.file, mt.prefix, f"no instrument {symbol!r} at venue {name!r} in the catalog"
            )
        markets[symbol] = read_params(mt, inst)
    factor = None
    if "factor" in t:
        factor = read_factor(t.table("factor"), [i.symbol for i in catalog if i.venue == name])
    return SimVenueConfig(
        order_latency_ns=non_negative("order_latency_us") * 1000,
        report_latency_ns=non_negative("report_latency_us") * 1000,
        maker_fee_bps=t.get("maker_fee_bps", Decimal, Decimal(0)),
        taker_fee_bps=t.get("taker_fee_bps", Decimal, Decimal(0)),
        self_trade=_choice(t, "self_trade", SelfTradePolicy, SelfTradePolicy.CANCEL_RESTING),
        self_trade_scope=_choice(t, "self_trade_scope", SelfTradeScope, SelfTradeScope.ACCOUNT),
        queue_cancels=_choice(t, "queue_cancels", QueueCancels, QueueCancels.BACK),
        terminal_memory=non_negative("terminal_memory") if "terminal_memory" in t else 100_000,
        markets=markets,
        factor=factor,
    )


def _choice[E: StrEnum](t: Table, key: str, enum: type[E], default: E) -> E:
    raw = t.get(key, str, default.value)
    try:
        return enum(raw)
    except ValueError:
        allowed = " | ".join(e.value for e in enum)
        raise t.error(key, f"must be one of {allowed}, got {raw!r}") from None
