"""Strategies: the API strategy authors write against (api.py, context.py), the host engine that runs
them on decoded bus messages (host.py), their configuration (config.py, configs/strategies.toml) and
the built-in strategies (builtin/: a market maker, a statistical-arbitrage pairs strategy)."""

from core.strategy.api import Strategy
from core.strategy.config import (
    HostConfig,
    StrategiesConfig,
    StrategySpec,
    load_class,
    load_strategies,
    strategy_spec,
)
from core.strategy.context import StrategyContext, StrategyState
from core.strategy.host import HostIdentity, HostOutputs, StrategyFailure, StrategyHost
from core.strategy.market import Market
from core.strategy.orders import OrderError, OwnOrder
from core.strategy.outputs import RequestCollector
from core.strategy.positions import Position

__all__ = [
    "HostConfig",
    "HostIdentity",
    "HostOutputs",
    "Market",
    "OrderError",
    "OwnOrder",
    "Position",
    "RequestCollector",
    "StrategiesConfig",
    "Strategy",
    "StrategyContext",
    "StrategyFailure",
    "StrategyHost",
    "StrategySpec",
    "StrategyState",
    "load_class",
    "load_strategies",
    "strategy_spec",
]
