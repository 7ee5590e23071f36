"""The backtest: the market maker and the pairs strategy trade on correlated synthetic markets through the
real oms and sim venue; the same seed gives the same messages, fills and PnL."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from core.backtest import Backtest, BacktestConfig, BacktestResult
from core.backtest.desk import LivelockError
from core.instruments import load_instruments
from core.market.params import SyntheticParams
from core.risk.config import load_risk_config
from core.strategy import load_strategies, strategy_spec

CATALOG = load_instruments()
BTC, ETH = CATALOG.by_id(1), CATALOG.by_id(2)
MM_ID, PAIRS_ID = 1, 2


def markets() -> dict[str, SyntheticParams]:
    """Lighter than the demo's (30 events/s), with faster mean reversion so the spread trades in minutes."""
    kw = {"event_rate_hz": 30.0, "calm_vol_bps": 2.0, "volatile_vol_bps": 4.0, "half_life_s": 20.0}
    return {
        "BTC-USD": SyntheticParams.for_instrument(BTC, "60000", level_spacing_ticks=50, **kw),
        "ETH-USD": SyntheticParams.for_instrument(ETH, "3000", level_spacing_ticks=5, **kw),
    }


def specs():
    shipped = load_strategies()
    pairs = strategy_spec(
        "pairs",
        PAIRS_ID,
        "core.strategy.builtin.pairs:PairsTrader",
        {
            "leg_a": "BTC-USD",
            "leg_b": "ETH-USD",
            "qty_a": "0.002",
            "entry_z": 2.0,
            "exit_z": 0.5,
            "window": 120,
            "sample_interval_ms": 250,
            "min_samples": 40,
            "slippage_bps": "3",
            "cooldown_ms": 2000,
        },
        CATALOG,
    )
    return [shipped.get("demo-mm"), pairs]


def run(seed: int = 11, duration_s: float = 90.0) -> BacktestResult:
    cfg = BacktestConfig(seed=seed, duration_s=duration_s, markets=markets(), factor_vol_bps=3.0)
    return Backtest(specs(), cfg).run()


@pytest.fixture(scope="module")
def twice() -> tuple[BacktestResult, BacktestResult]:
    return run(), run()


def test_the_same_seed_gives_the_same_fills_pnl_and_messages(twice) -> None:
    a, b = twice
    assert a.digest == b.digest
    assert a.fills == b.fills and a.positions == b.positions
    assert a.pnl(MM_ID) == b.pnl(MM_ID) and a.pnl(PAIRS_ID) == b.pnl(PAIRS_ID)
    assert a.summary() == b.summary()


def test_another_seed_gives_another_run() -> None:
    assert run(seed=12, duration_s=20.0).digest != run(seed=11, duration_s=20.0).digest


def test_both_strategies_trade_and_the_oms_positions_match_their_fills(twice) -> None:
    r, _ = twice
    assert len(r.fills_of(MM_ID)) > 20
    assert len(r.fills_of(PAIRS_ID, BTC.id)) > 0 and len(r.fills_of(PAIRS_ID, ETH.id)) > 0
    pairs = r.strategy_stats["pairs"]
    assert pairs["entries"] >= 1 and pairs["exits"] + pairs["unwinds"] >= 1
    net: dict[tuple[int, int], int] = defaultdict(int)
    for f in r.fills:
        net[(f.strategy_id, f.instrument_id)] += f.qty if f.side == "Buy" else -f.qty
    for (sid, iid), qty in net.items():
        pos = r.position(sid, iid)
        assert pos is not None and pos.net_qty == qty, (sid, iid)
    assert r.positions_of(MM_ID) and r.positions_of(PAIRS_ID)
    fees = sum(f.fee for f in r.fills_of(MM_ID))
    assert fees > 0 and sum(p.fees for p in r.positions_of(MM_ID)) == fees


def test_the_run_is_clean(twice) -> None:
    r, _ = twice
    assert r.oms_counters["bad_inputs"] == 0 and r.oms_counters["unknown_order_reports"] == 0
    for s in r.strategies:
        assert s["counters"]["errors"] == 0, s
        assert s["working_orders"] == 0, s  # cancelled at the stop and answered while settling
    assert r.counters["md_events"] > 5_000 and r.counters["heartbeats"] > 0
    assert r.counters["new_orders"] >= r.counters["er_PendingNew"] > 0


def test_a_strategy_answering_refusals_at_once_is_caught_as_a_livelock() -> None:
    risk = load_risk_config(catalog=CATALOG)
    risk.limits.set("max_order_qty", 7, BTC.id, Decimal("0.5"))  # its 1 BTC order is always refused
    stubborn = strategy_spec(
        "stubborn", 7, "tests.core.strategy.strategies:Stubborn", {"instrument": "BTC-USD"}, CATALOG
    )
    cfg = BacktestConfig(duration_s=1.0, markets=markets(), max_burst=200)
    with pytest.raises(LivelockError, match="without time moving"):
        Backtest([stubborn], cfg, risk=risk).run()


def test_a_backtest_needs_markets_for_its_strategies() -> None:
    with pytest.raises(ValueError, match="not in the backtest's markets"):
        Backtest(specs(), BacktestConfig(symbols=("BTC-USD",)))
    with pytest.raises(ValueError, match="duration_s"):
        BacktestConfig(duration_s=0)
