"""Realized volatility of an instrument's mid over a sliding time window, in exact integers.

Rule (the volatility throttle): every change of the reference mid is a return
    r = (mid - previous mid) / previous mid,
measured in units of 0.01 bp (1e-6) and truncated toward zero. The realized volatility over the
window is sqrt(sum of r^2) of the returns whose time lies within `vol_window_ms` of now. When it is
at or above `vol_threshold_bps`, the instrument is throttled: orders in it are checked against
max_order_qty x vol_qty_factor and price_band_bps x vol_band_factor, and an order that passes the
normal limits but not the tightened ones is rejected with Reason.VolatilityThrottle.

The comparison is sum(r^2) >= (threshold in 0.01 bp)^2, all integers: no float, no sqrt.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from fractions import Fraction

UNITS_PER_BP = 100  # returns are kept in 0.01 bp
_SCALE = 10_000 * UNITS_PER_BP


class VolatilityWindow:
    """Squared mid returns of one instrument within a time window."""

    __slots__ = ("last_mid", "samples", "sum_sq")

    def __init__(self) -> None:
        self.samples: deque[tuple[int, int]] = deque()
        self.sum_sq = 0
        self.last_mid: int | None = None

    def on_mid(self, ts: int, mid: int, window_ns: int) -> None:
        prev = self.last_mid
        self.last_mid = mid
        if prev is not None and prev > 0 and mid != prev:
            diff = mid - prev
            r = (abs(diff) * _SCALE) // prev
            r2 = r * r
            self.samples.append((ts, r2))
            self.sum_sq += r2
        self.expire(ts, window_ns)

    def expire(self, now: int, window_ns: int) -> None:
        horizon = now - window_ns
        samples = self.samples
        while samples and samples[0][0] <= horizon:
            self.sum_sq -= samples.popleft()[1]

    def realized_bps(self, now: int | None = None, window_ns: int = 0) -> Decimal:
        """The realized volatility in bp (for reports only; decisions use the integer comparison).
        With `now`, only the samples within the window count; nothing is expired (a read-only view)."""
        total = self.sum_sq if now is None else sum(r2 for ts, r2 in self.samples if ts > now - window_ns)
        return Decimal(total).sqrt() / UNITS_PER_BP

    def is_high(self, threshold_sq: int) -> bool:
        """True when the realized volatility is at or above the threshold given by threshold_sq()."""
        return self.sum_sq > 0 and self.sum_sq >= threshold_sq


def threshold_sq(threshold_bps: Decimal) -> int:
    """The integer that sum(r^2) is compared with: ceil((threshold in 0.01 bp)^2)."""
    t = Fraction(threshold_bps) * UNITS_PER_BP
    sq = t * t
    return -((-sq.numerator) // sq.denominator)
