"""configs/risk.toml: desk settings, currency conversion, and limits by desk, strategy and instrument.

Strict like every config: an unknown key is an error naming the file and the key, so a typo in a
limit never silently leaves the default in force. See configs/risk.toml for the layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from core.config.base import ConfigError, Table, configs_dir, load_toml
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.risk.limits import DESK, SPECS, LimitError, LimitStore

_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    strategy_id: int
    name: str
    account_id: int


@dataclass
class RiskConfig:
    """Everything the oms needs from risk.toml. `limits` is copied into each engine (SetLimit changes it)."""

    currency: str = "USD"
    account_id: int = 1
    manual_strategy_id: int = 0
    daily_roll_ns: int = 0  # time of day (UTC) at which the daily PnL rolls, ns after midnight
    status_interval_ms: int = 1000
    fx: dict[str, Decimal] = field(default_factory=dict)  # currency -> desk currency
    strategies: dict[int, StrategyConfig] = field(default_factory=dict)
    limits: LimitStore = field(default_factory=LimitStore)
    source: str = "<built in code>"

    def account_of(self, strategy_id: int) -> int:
        s = self.strategies.get(strategy_id)
        return s.account_id if s is not None else self.account_id

    def fx_rate(self, currency: str) -> Decimal:
        if currency == self.currency:
            return Decimal(1)
        try:
            return self.fx[currency]
        except KeyError:
            raise KeyError(f"no fx rate from {currency} to {self.currency} in {self.source} [fx]") from None


def load_risk_config(path: str | Path | None = None, catalog: InstrumentCatalog | None = None) -> RiskConfig:
    """Load and validate risk.toml (the shipped one by default) against the instrument catalog."""
    p = Path(path) if path is not None else configs_dir() / "risk.toml"
    cat = catalog if catalog is not None else load_instruments()
    root = load_toml(p)
    cfg = RiskConfig(source=str(p))

    desk = root.table("desk")
    cfg.currency = desk.get("currency", str, "USD")
    cfg.account_id = _positive_id(desk, "account_id", 1)
    cfg.manual_strategy_id = _id(desk, "manual_strategy_id", 0)
    cfg.daily_roll_ns = _time_of_day(desk, "daily_roll_utc", "00:00")
    cfg.status_interval_ms = desk.get("status_interval_ms", int, 1000)
    if cfg.status_interval_ms <= 0:
        raise desk.error("status_interval_ms", "must be positive")
    desk.reject_unknown()

    fx = root.table("fx", default_empty=True)
    for cur in list(fx.keys()):
        rate = fx.get(cur, Decimal)
        if rate <= 0:
            raise fx.error(cur, f"fx rate must be positive, got {rate}")
        cfg.fx[cur] = rate
    fx.reject_unknown()
    for inst in cat:
        if inst.quote != cfg.currency and inst.quote not in cfg.fx:
            raise ConfigError(
                p,
                "fx",
                f"no rate for {inst.quote} (quote currency of {inst.symbol}) "
                f"to the desk currency {cfg.currency}",
            )

    _read_limits(root.table("limits", default_empty=True), cfg.limits, DESK, DESK)

    instruments = root.table("instruments", default_empty=True)
    for key in list(instruments.keys()):
        inst = _instrument(instruments, key, cat)
        _read_limits(instruments.table(key), cfg.limits, DESK, inst.id)
    instruments.reject_unknown()

    strategies = root.table("strategies", default_empty=True)
    for key in list(strategies.keys()):
        if not key.isdigit() or not 0 < int(key) < 2**32:
            raise strategies.error(key, "strategy tables are keyed by numeric strategy id (1..2^32-1)")
        sid = int(key)
        t = strategies.table(key)
        cfg.strategies[sid] = StrategyConfig(
            strategy_id=sid,
            name=t.get("name", str, f"strategy-{sid}"),
            account_id=_positive_id(t, "account_id", cfg.account_id),
        )
        per_inst = t.table("instruments", default_empty=True)
        for ikey in list(per_inst.keys()):
            inst = _instrument(per_inst, ikey, cat)
            _read_limits(per_inst.table(ikey), cfg.limits, sid, inst.id)
        per_inst.reject_unknown()
        _read_limits(t, cfg.limits, sid, DESK)
    strategies.reject_unknown()
    root.reject_unknown()
    return cfg


def _read_limits(t: Table, store: LimitStore, strategy_id: int, instrument_id: int) -> None:
    for name in list(t.keys()):
        if name in t._seen:
            continue  # a setting of the enclosing table (name, account_id, instruments)
        if name not in SPECS:
            raise t.error(
                name, f"unknown key (settings or limits: {', '.join(sorted(t._seen | set(SPECS)))})"
            )
        value = t.get(name, Decimal)
        try:
            store.set(name, strategy_id, instrument_id, value)
        except LimitError as e:
            raise t.error(name, str(e)) from None
    t.reject_unknown()


def _instrument(t: Table, key: str, cat: InstrumentCatalog) -> Instrument:
    symbol, _, venue = key.partition("@")
    try:
        return cat.resolve(symbol, venue or None)
    except KeyError as e:
        raise t.error(key, str(e.args[0])) from None


def _id(t: Table, name: str, default: int) -> int:
    v = t.get(name, int, default)
    if not 0 <= v < 2**32:
        raise t.error(name, f"must be in 0..{2**32 - 1}, got {v}")
    return v


def _positive_id(t: Table, name: str, default: int) -> int:
    v = _id(t, name, default)
    if v == 0:
        raise t.error(name, "must be positive")
    return v


def _time_of_day(t: Table, name: str, default: str) -> int:
    text = t.get(name, str, default)
    m = _TIME_OF_DAY.match(text)
    if not m:
        raise t.error(name, f"expected HH:MM (UTC), got {text!r}")
    return (int(m.group(1)) * 3600 + int(m.group(2)) * 60) * 1_000_000_000
