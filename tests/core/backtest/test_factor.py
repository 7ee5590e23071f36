"""The common factor that correlates synthetic markets in the harness."""

from __future__ import annotations

import math
import statistics

from core.backtest.factor import CommonFactor, CorrelatedMarket
from core.instruments import load_instruments
from core.market.params import SyntheticParams
from core.market.synthetic import SyntheticMarket

CATALOG = load_instruments()
BTC, ETH = CATALOG.by_id(1), CATALOG.by_id(2)
T0 = 1_704_067_200_000_000_000
SEC = 1_000_000_000


def test_the_factor_is_a_seeded_walk_read_the_same_in_any_order() -> None:
    a, b = CommonFactor(3, 5.0, start_ts_ns=T0), CommonFactor(3, 5.0, start_ts_ns=T0)
    times = [T0 + k * 7_000_000 for k in range(500)]
    forward = [a.at(t) for t in times]
    backward = [b.at(t) for t in reversed(times)][::-1]
    assert forward == backward and a.at(T0) == 0.0 and a.at(T0 - SEC) == 0.0
    assert CommonFactor(4, 5.0, start_ts_ns=T0).at(T0 + SEC) != a.at(T0 + SEC)
    # linear between grid points
    step = a.step_ns
    mid = a.at(T0 + step // 2)
    assert mid == (a.at(T0) + a.at(T0 + step)) / 2


def test_the_factor_has_the_configured_volatility() -> None:
    f = CommonFactor(1, 10.0, start_ts_ns=T0)  # 10 bp per sqrt(second)
    moves = [f.at(T0 + (k + 1) * SEC) - f.at(T0 + k * SEC) for k in range(2000)]
    sd_bp = statistics.pstdev(moves) * 1e4
    assert 9.0 < sd_bp < 11.0  # 2000 samples: the sd is within a few percent of 10


def returns(market: SyntheticMarket, seconds: int) -> list[float]:
    out, last = [], None
    for k in range(1, seconds + 1):
        market.events_until(T0 + k * SEC)
        mid = market.book.mid_x2()
        if last is not None:
            out.append(math.log(mid / last))
        last = mid
    return out


def test_markets_sharing_a_factor_move_together() -> None:
    def params(inst) -> SyntheticParams:
        return SyntheticParams.for_instrument(
            inst,
            "60000" if inst is BTC else "3000",
            event_rate_hz=20.0,
            calm_vol_bps=0.5,
            volatile_vol_bps=0.5,
        )

    factor = CommonFactor(7, 6.0, start_ts_ns=T0)
    a = CorrelatedMarket(BTC, params(BTC), factor=factor, seed=7, start_ts_ns=T0)
    b = CorrelatedMarket(ETH, params(ETH), factor=factor, seed=7, start_ts_ns=T0)
    together = statistics.correlation(returns(a, 300), returns(b, 300))
    alone = statistics.correlation(
        returns(SyntheticMarket(BTC, params(BTC), seed=7, start_ts_ns=T0), 300),
        returns(SyntheticMarket(ETH, params(ETH), seed=7, start_ts_ns=T0), 300),
    )
    assert together > 0.6 and abs(alone) < 0.3
