"""Run a backtest of configs/strategies.toml from the command line (until the CLI has a command for it):

uv run python -m core.backtest [--seed N] [--duration SECONDS] [--factor-vol BPS] [--strategies FILE]
"""

from __future__ import annotations

import argparse
import sys
import time

from core.backtest.harness import Backtest, BacktestConfig
from core.config import ConfigError
from core.strategy.config import load_strategies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core.backtest", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=300.0, help="simulated seconds")
    ap.add_argument(
        "--factor-vol",
        type=float,
        default=None,
        help="common factor vol, bps per sqrt(s) (default: venues.toml's factor; 0: independent markets)",
    )
    ap.add_argument("--strategies", default=None, help="strategies file (default configs/strategies.toml)")
    args = ap.parse_args(argv)
    try:
        strategies = load_strategies(args.strategies)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cfg = BacktestConfig(seed=args.seed, duration_s=args.duration, factor_vol_bps=args.factor_vol)
    started = time.monotonic()
    result = Backtest(strategies, cfg).run()
    print(result.summary())
    print(f"({time.monotonic() - started:.1f} s of wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
