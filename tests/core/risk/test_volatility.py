"""The volatility rule in integers: returns in 0.01 bp, sum of squares over a time window."""

from __future__ import annotations

from decimal import Decimal

from core.risk.volatility import VolatilityWindow, threshold_sq

SEC = 10**9


def test_returns_are_measured_in_hundredths_of_a_bp_and_expire_with_the_window():
    w = VolatilityWindow()
    w.on_mid(0, 1_000_000, SEC)  # first mid: no return yet
    assert w.sum_sq == 0
    w.on_mid(1, 1_003_000, SEC)  # +30 bp = 3000 hundredths
    w.on_mid(2, 1_000_000, SEC)  # -29.91 bp (truncated: 2991)
    assert w.sum_sq == 3000**2 + 2991**2
    assert w.realized_bps().quantize(Decimal("0.01")) == Decimal("42.36")
    w.on_mid(3, 1_000_000, SEC)  # unchanged mid: no sample
    assert len(w.samples) == 2
    assert w.realized_bps(SEC + 1, SEC) == Decimal("29.91")  # read-only view: the first sample is out ...
    assert w.sum_sq == 3000**2 + 2991**2  # ... and still held
    w.expire(SEC + 1, SEC)
    assert w.sum_sq == 2991**2


def test_the_threshold_compares_exactly_at_the_boundary():
    w = VolatilityWindow()
    w.on_mid(0, 1_000_000, SEC)
    w.on_mid(1, 1_005_000, SEC)  # exactly 50 bp
    assert w.is_high(threshold_sq(Decimal(50)))
    assert not w.is_high(threshold_sq(Decimal("50.01")))
    assert threshold_sq(Decimal("0.005")) == 1  # ceil((0.5)^2): any move counts
    assert not VolatilityWindow().is_high(threshold_sq(Decimal(0)))  # no samples: never high
