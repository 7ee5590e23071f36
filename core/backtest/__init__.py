"""The in-process, deterministic backtest: the live desk's engines (strategy host, oms, sim venue) in one
thread on a simulated clock, talking SBE through an in-process bus (harness.py), on seeded synthetic
markets, correlated through the venue's common factor (core/market/factor.py)."""

from core.backtest.desk import InProcessDesk
from core.backtest.harness import Backtest, BacktestConfig
from core.backtest.result import BacktestResult, Fill, PositionResult

__all__ = [
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "Fill",
    "InProcessDesk",
    "PositionResult",
]
