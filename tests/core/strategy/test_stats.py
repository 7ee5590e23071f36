"""Hedge-ratio estimators against known relationships and an independent least-squares oracle (numpy)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from core.strategy.builtin.stats import KalmanHedge, RollingOLS


def walk(n: int, seed: int, sd: float = 0.001) -> list[float]:
    rng = random.Random(seed)
    x, out = 4.0, []
    for _ in range(n):
        x += rng.gauss(0, sd)
        out.append(x)
    return out


def test_rolling_ols_matches_least_squares_over_its_window() -> None:
    rng = random.Random(3)
    xs = walk(700, 1)
    ys = [0.3 + 1.7 * x + rng.gauss(0, 0.0005) for x in xs]
    ols = RollingOLS(window=250)
    for x, y in zip(xs, ys, strict=True):
        ols.update(x, y)
    wx, wy = np.array(xs[-250:]), np.array(ys[-250:])
    beta, alpha = np.polyfit(wx, wy, 1)
    resid = wy - (alpha + beta * wx)
    assert ols.beta == pytest.approx(beta, rel=1e-9)
    assert ols.sd == pytest.approx(math.sqrt((resid**2).sum() / (250 - 2)), rel=1e-6)
    assert ols.residual(xs[-1], ys[-1]) == pytest.approx(resid[-1], abs=1e-12)
    assert ols.beta == pytest.approx(1.7, abs=0.1)  # the relationship it was built with


def test_rolling_ols_forgets_samples_outside_its_window() -> None:
    xs = walk(400, 2)
    ols = RollingOLS(window=100)
    for i, x in enumerate(xs):
        ols.update(x, (1.7 if i < 200 else 0.5) * x)
    assert ols.beta == pytest.approx(0.5, abs=1e-6) and ols.n == 100


def test_zscore_of_a_stretched_spread() -> None:
    rng = random.Random(5)
    xs = walk(300, 4)
    ols = RollingOLS(window=300)
    for x in xs:
        ols.update(x, 0.1 + x + rng.gauss(0, 0.0002))
    x = xs[-1]
    assert ols.zscore(x, 0.1 + x + 5 * ols.sd) == pytest.approx(5.0, abs=0.2)
    assert ols.zscore(x, 0.1 + x - 5 * ols.sd) == pytest.approx(-5.0, abs=0.2)
    assert RollingOLS(10).zscore(1.0, 1.0) is None


def test_kalman_filter_tracks_the_hedge_ratio() -> None:
    rng = random.Random(9)
    xs = walk(3000, 6, sd=0.002)
    kf = KalmanHedge(delta=1e-6, r=1e-7)
    for x in xs:
        kf.update(x, 0.2 + 1.5 * x + rng.gauss(0, 0.0003))
    assert kf.beta == pytest.approx(1.5, abs=0.15)
    x = xs[-1]
    fair = 0.2 + 1.5 * x
    assert kf.zscore(x, fair + 0.01) > 5 > abs(kf.zscore(x, fair))


def test_estimator_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        RollingOLS(2)
    with pytest.raises(ValueError):
        KalmanHedge(delta=1.5)
    with pytest.raises(ValueError):
        KalmanHedge(r=0)


def test_r2_says_whether_the_legs_move_together() -> None:
    rng = random.Random(11)
    xs = walk(300, 8)
    together, apart = RollingOLS(200), RollingOLS(200)
    for x in xs:
        together.update(x, 0.1 + 1.2 * x + rng.gauss(0, 0.0002))
        apart.update(x, rng.gauss(0, 0.001))
    assert together.r2 > 0.9 and apart.r2 < 0.1
