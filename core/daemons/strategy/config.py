"""The strategy daemon's [daemon.config] table (strict: unknown keys are errors naming the file and key).

[daemon.config]
strategies = ["demo-mm", "eth-mm"]   # names in the strategies file; default: every enabled one
strategies_file = "strategies.toml"  # optional, relative to the profile; default configs/strategies.toml
instruments = "instruments.toml"     # optional static data file; default configs/instruments.toml
client_id = 100                      # optional: overrides the file's [host] client_id (give each
                                     # strategy daemon of a desk its own: the oms routes replies by it)
connect_wait_ms = 10000              # at start, wait this long for the oms (order requests, control and
                                     # state streams connected); then start anyway
recover_timeout_ms = 5000            # then wait this long for the oms's answers to the Orders and
                                     # Positions queries before the strategies start
recovered_orders = "cancel"          # working orders of an earlier session the oms gives back:
                                     # "cancel" them once the strategies start, or "keep" them (the
                                     # strategies see them in ctx.orders(), marked external)
md_tether = false                    # market data untethered (the default): a slow strategy host never
                                     # slows the desk's market data; it sees a gap and waits for a snapshot
fragment_limit = 256                 # messages per stream per duty cycle
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from core.config import ConfigError, Table
from core.instruments import InstrumentCatalog
from core.strategy.config import StrategiesConfig, StrategySpec, load_strategies

RECOVERED_ORDERS = ("cancel", "keep")


@dataclass(frozen=True)
class StrategyDaemonConfig:
    strategies: StrategiesConfig  # the file's host settings (client_id applied) and every strategy in it
    specs: tuple[StrategySpec, ...]  # the ones this daemon runs
    connect_wait_ms: int = 10_000
    recover_timeout_ms: int = 5_000
    recovered_orders: str = "cancel"
    md_tether: bool = False
    fragment_limit: int = 256


def parse_strategy_config(t: Table, catalog: InstrumentCatalog) -> StrategyDaemonConfig:
    path = _path(t, "strategies_file")
    strategies = load_strategies(path, catalog)
    if "client_id" in t:
        client_id = t.get("client_id", int)
        if not 0 < client_id < 2**32:
            raise t.error("client_id", f"must be in 1..{2**32 - 1}, got {client_id}")
        strategies = replace(strategies, host=replace(strategies.host, client_id=client_id))
    specs = _selected(t, strategies)
    recovered = t.get("recovered_orders", str, "cancel")
    if recovered not in RECOVERED_ORDERS:
        raise t.error("recovered_orders", f"must be one of {', '.join(RECOVERED_ORDERS)}, got {recovered!r}")
    config = StrategyDaemonConfig(
        strategies=strategies,
        specs=specs,
        connect_wait_ms=_bounded(t, "connect_wait_ms", 10_000, 0, 600_000),
        recover_timeout_ms=_bounded(t, "recover_timeout_ms", 5_000, 0, 600_000),
        recovered_orders=recovered,
        md_tether=t.get("md_tether", bool, False),
        fragment_limit=_bounded(t, "fragment_limit", 256, 1, 1 << 16),
    )
    t.get("instruments", str, "")  # read by the caller (core.daemons.md_feeds.static_data): a known key
    t.reject_unknown()
    return config


def _selected(t: Table, strategies: StrategiesConfig) -> tuple[StrategySpec, ...]:
    if "strategies" not in t:
        specs = strategies.enabled()
        if not specs:
            raise t.error("strategies", f"{strategies.source} has no enabled strategy: name the ones to run")
        return tuple(specs)
    names = t.get("strategies", list)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise t.error("strategies", "must be a non-empty list of strategy names")
    if len(set(names)) != len(names):
        raise t.error("strategies", f"a strategy is named twice: {names}")
    out = []
    for name in names:
        try:
            spec = strategies.get(name)
        except KeyError as e:
            raise t.error("strategies", f"{strategies.source}: {e.args[0]}") from None
        if not spec.enabled:
            raise t.error("strategies", f"{name!r} is disabled in {strategies.source} (enabled = false)")
        out.append(spec)
    return tuple(out)


def _path(t: Table, key: str) -> Path | None:
    if key not in t:
        return None
    raw = Path(t.get(key, str)).expanduser()
    path = raw if raw.is_absolute() else Path(t.file).resolve().parent / raw
    if not path.is_file():
        raise ConfigError(t.file, t.key(key), f"no such file: {path}")
    return path


def _bounded(t: Table, key: str, default: int, low: int, high: int) -> int:
    value = t.get(key, int, default)
    if not low <= value <= high:
        raise t.error(key, f"must be from {low} to {high}, got {value}")
    return value
