"""configs/strategies.toml: the strategy host's settings and the strategies it runs.

    [host]
    client_id = 100                 # the host's clientId on the bus: the oms routes replies by it
    heartbeat_interval_ms = 1000    # one Heartbeat per strategy at this period (the oms's dead-man)
    on_error = "disable"            # a callback raised: "disable" (and cancel its orders) | "continue"
    max_errors = 1                  # errors counted before on_error applies
    cancel_on_stop = true           # cancel a strategy's working orders when the host stops
    clordid_dir = ""                # "" : clOrdIds derived from the clock; else persisted marks here

    [strategies.demo-mm]            # the strategy's name (heartbeats, logs)
    id = 1                          # its strategyId (risk.toml keys limits by it)
    class = "core.strategy.builtin.market_maker:MarketMaker"
    enabled = true
    [strategies.demo-mm.params]     # read strictly into the class's Params dataclass
    instrument = "BTC-USD"

Strict like every config: unknown keys, a class that cannot be imported or is not a Strategy, a
duplicate id, a bad parameter: each is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config.base import ConfigError, Table, configs_dir, load_toml
from core.instruments import Instrument, InstrumentCatalog, load_instruments
from core.strategy.params import build_params, params_instruments

ON_ERROR = ("disable", "continue")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,22}$")  # fits "strategy:" + name in a Name32


@dataclass(frozen=True, slots=True)
class HostConfig:
    client_id: int = 100
    heartbeat_interval_ms: int = 1000
    on_error: str = "disable"
    max_errors: int = 1
    cancel_on_stop: bool = True
    clordid_dir: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.client_id < 2**32:
            raise ValueError(f"client_id must be in 1..{2**32 - 1}, got {self.client_id}")
        if self.heartbeat_interval_ms <= 0:
            raise ValueError(f"heartbeat_interval_ms must be positive, got {self.heartbeat_interval_ms}")
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}")
        if self.max_errors <= 0:
            raise ValueError(f"max_errors must be positive, got {self.max_errors}")


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """One configured strategy, validated and ready to instantiate: `cls(ctx, params)`."""

    name: str
    strategy_id: int
    class_path: str
    cls: type
    params: Any
    instruments: tuple[Instrument, ...]
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class StrategiesConfig:
    host: HostConfig
    strategies: tuple[StrategySpec, ...]
    source: str = "<built in code>"

    def enabled(self) -> list[StrategySpec]:
        return [s for s in self.strategies if s.enabled]

    def get(self, name: str) -> StrategySpec:
        for s in self.strategies:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.strategies) or "none"
        raise KeyError(f"no strategy named {name!r} (configured: {known})")


def load_strategies(
    path: str | Path | None = None, catalog: InstrumentCatalog | None = None
) -> StrategiesConfig:
    """Load and validate strategies.toml (the shipped one by default)."""
    p = Path(path) if path is not None else configs_dir() / "strategies.toml"
    cat = catalog if catalog is not None else load_instruments()
    root = load_toml(p)
    host = read_host_config(root.table("host", default_empty=True))
    specs: list[StrategySpec] = []
    ids: dict[int, str] = {}
    strategies = root.table("strategies")
    for name in list(strategies.keys()):
        spec = read_strategy(name, strategies.table(name), cat)
        if spec.strategy_id in ids:
            raise ConfigError(
                p,
                f"strategies.{name}.id",
                f"strategy id {spec.strategy_id} is already used by {ids[spec.strategy_id]!r}",
            )
        ids[spec.strategy_id] = name
        specs.append(spec)
    strategies.reject_unknown()
    root.reject_unknown()
    if not specs:
        raise ConfigError(p, "strategies", "no strategies configured")
    return StrategiesConfig(host=host, strategies=tuple(specs), source=str(p))


def read_host_config(t: Table) -> HostConfig:
    d = HostConfig()
    values = {
        "client_id": t.get("client_id", int, d.client_id),
        "heartbeat_interval_ms": t.get("heartbeat_interval_ms", int, d.heartbeat_interval_ms),
        "on_error": t.get("on_error", str, d.on_error),
        "max_errors": t.get("max_errors", int, d.max_errors),
        "cancel_on_stop": t.get("cancel_on_stop", bool, d.cancel_on_stop),
        "clordid_dir": t.get("clordid_dir", str, d.clordid_dir),
    }
    t.reject_unknown()
    try:
        return HostConfig(**values)
    except ValueError as e:
        first = str(e).split(" ", 1)[0]
        raise t.error(first if first in values else "", str(e)) from None


def read_strategy(name: str, t: Table, catalog: InstrumentCatalog) -> StrategySpec:
    if not _NAME.match(name):
        raise ConfigError(
            t.file,
            t.prefix,
            "a strategy name is 1-23 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    sid = t.get("id", int)
    if not 0 < sid < 2**32:
        raise t.error("id", f"must be in 1..{2**32 - 1}, got {sid}")
    class_path = t.get("class", str)
    try:
        cls = load_class(class_path)
    except ValueError as e:
        raise t.error("class", str(e)) from None
    enabled = t.get("enabled", bool, True)
    params = build_params(getattr(cls, "Params", None), t.table("params", default_empty=True), catalog)
    t.reject_unknown()
    return StrategySpec(
        name=name,
        strategy_id=sid,
        class_path=class_path,
        cls=cls,
        params=params,
        instruments=params_instruments(params),
        enabled=enabled,
    )


def strategy_spec(
    name: str,
    strategy_id: int,
    cls: type | str,
    params: dict[str, Any] | None = None,
    catalog: InstrumentCatalog | None = None,
    *,
    enabled: bool = True,
) -> StrategySpec:
    """A spec built in code (tests, backtests), validated exactly like the config file's."""
    cat = catalog if catalog is not None else load_instruments()
    data: dict[str, Any] = {
        "id": strategy_id,
        "class": cls if isinstance(cls, str) else f"{cls.__module__}:{cls.__qualname__}",
        "enabled": enabled,
        "params": dict(params or {}),
    }
    return read_strategy(name, Table(data, Path("<code>"), f"strategies.{name}"), cat)


def load_class(path: str) -> type:
    """Import `module:Class` (or `module.Class`); ValueError with the reason when it cannot."""
    from core.strategy.api import Strategy  # here: api imports this module's types

    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"expected 'package.module:Class', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"cannot import module {module_name!r}: {e}") from None
    except Exception as e:  # the module itself raised while importing
        raise ValueError(f"importing module {module_name!r} failed: {type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(obj, type) or not issubclass(obj, Strategy):
        raise ValueError(f"{path!r} is not a Strategy subclass (core.strategy.api.Strategy)")
    return obj
