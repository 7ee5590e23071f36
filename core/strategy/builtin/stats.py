"""Hedge-ratio estimators for the pairs strategy: y = alpha + beta * x + e, with a z-score of e.

Floats on purpose: these are statistics that shape signals, not money. Orders are built from them in
int mantissas by the strategy.

- RollingOLS: ordinary least squares over the last `window` samples (running sums, recomputed from the
  window every `window` samples so rounding cannot drift). z = (e - mean) / sd over the window's
  residuals (the mean is 0 by construction).
- KalmanHedge: a Kalman filter on the state (alpha, beta) with a random-walk transition (state noise
  delta / (1 - delta) per step) and observation noise r. z = the forecast error / its predicted sd.
  It can be seeded with an OLS estimate and its standard errors (the pairs strategy does so at the end
  of its warm-up).
Inputs are centred on the first sample (so sums of squares stay small and exact enough).
"""

from __future__ import annotations

import math
from collections import deque


class RollingOLS:
    def __init__(self, window: int) -> None:
        if window < 3:
            raise ValueError(f"window must be at least 3 samples, got {window}")
        self.window = window
        self._xs: deque[float] = deque()
        self._ys: deque[float] = deque()
        self._origin: tuple[float, float] | None = None
        self._since_exact = 0
        self._reset_sums()
        self.alpha = 0.0
        self.beta = 0.0
        self.sd = 0.0
        self.r2 = 0.0  # share of y's variance the fit explains over the window
        self.var_alpha = 0.0  # squared standard errors of the estimates (alpha at the window's mean x)
        self.var_beta = 0.0

    def _reset_sums(self) -> None:
        self._sx = self._sy = self._sxx = self._sxy = self._syy = 0.0

    @property
    def n(self) -> int:
        return len(self._xs)

    def update(self, x: float, y: float) -> None:
        if self._origin is None:
            self._origin = (x, y)
        x -= self._origin[0]
        y -= self._origin[1]
        self._xs.append(x)
        self._ys.append(y)
        self._add(x, y, 1.0)
        if len(self._xs) > self.window:
            self._add(self._xs.popleft(), self._ys.popleft(), -1.0)
        self._since_exact += 1
        if self._since_exact >= self.window:
            self._since_exact = 0
            self._reset_sums()
            for a, b in zip(self._xs, self._ys, strict=True):
                self._add(a, b, 1.0)
        self._fit()

    def _add(self, x: float, y: float, sign: float) -> None:
        self._sx += sign * x
        self._sy += sign * y
        self._sxx += sign * x * x
        self._sxy += sign * x * y
        self._syy += sign * y * y

    def _fit(self) -> None:
        n = len(self._xs)
        if n < 3:
            return
        vxx = self._sxx - self._sx * self._sx / n
        vxy = self._sxy - self._sx * self._sy / n
        vyy = self._syy - self._sy * self._sy / n
        if vxx <= 1e-18:
            return
        self.beta = vxy / vxx
        mean_x, mean_y = self._sx / n, self._sy / n
        self.alpha = mean_y - self.beta * mean_x  # in centred coordinates
        ssr = max(vyy - self.beta * vxy, 0.0)
        self.sd = math.sqrt(ssr / (n - 2))
        self.r2 = 1.0 - ssr / vyy if vyy > 0.0 else 0.0
        self.var_beta = self.sd * self.sd / vxx
        self.var_alpha = self.sd * self.sd / n + mean_x * mean_x * self.var_beta

    @property
    def origin(self) -> tuple[float, float] | None:
        return self._origin

    def residual(self, x: float, y: float) -> float:
        if self._origin is None:
            return 0.0
        return (y - self._origin[1]) - self.alpha - self.beta * (x - self._origin[0])

    def zscore(self, x: float, y: float) -> float | None:
        """z of the point (x, y) against the current fit; None until the fit has a spread."""
        if len(self._xs) < 3 or self.sd <= 0.0:
            return None
        return self.residual(x, y) / self.sd


class KalmanHedge:
    def __init__(self, delta: float = 1e-4, r: float = 1e-6) -> None:
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        if r <= 0.0:
            raise ValueError(f"r must be positive, got {r}")
        self.q = delta / (1.0 - delta)
        self.r = r
        self.alpha = 0.0
        self.beta = 0.0
        # state covariance [[p00, p01], [p01, p11]]: wide prior
        self._p00 = self._p11 = 1.0
        self._p01 = 0.0
        self._origin: tuple[float, float] | None = None
        self.n = 0
        self.sd = 0.0  # sd of the last forecast error

    def seed(
        self,
        origin: tuple[float, float],
        alpha: float,
        beta: float,
        var_alpha: float,
        var_beta: float,
        r: float | None = None,
    ) -> None:
        """Start from an estimate (e.g. the warm-up's OLS fit, in the coordinates centred on `origin`)
        instead of the wide prior: with little spread in x the filter alone would take long to find beta.
        `r` (when given and positive) replaces the observation noise, e.g. by the fit's residual variance."""
        self._origin = origin
        self.alpha, self.beta = alpha, beta
        self._p00, self._p01, self._p11 = var_alpha, 0.0, var_beta
        if r is not None and r > 0.0:
            self.r = r

    def update(self, x: float, y: float) -> None:
        if self._origin is None:
            self._origin = (x, y)
        x -= self._origin[0]
        y -= self._origin[1]
        # predict: random walk on (alpha, beta)
        p00, p01, p11 = self._p00 + self.q, self._p01, self._p11 + self.q
        # observation h = (1, x)
        ph0 = p00 + p01 * x
        ph1 = p01 + p11 * x
        s = ph0 + ph1 * x + self.r
        e = y - (self.alpha + self.beta * x)
        k0, k1 = ph0 / s, ph1 / s
        self.alpha += k0 * e
        self.beta += k1 * e
        self._p00 = p00 - k0 * ph0
        self._p01 = p01 - k0 * ph1
        self._p11 = p11 - k1 * ph1
        self.sd = math.sqrt(s)
        self.n += 1

    def residual(self, x: float, y: float) -> float:
        if self._origin is None:
            return 0.0
        return (y - self._origin[1]) - self.alpha - self.beta * (x - self._origin[0])

    def zscore(self, x: float, y: float) -> float | None:
        if self._origin is None or self.n < 3:
            return None
        xc = x - self._origin[0]
        p00, p01, p11 = self._p00 + self.q, self._p01, self._p11 + self.q
        s = p00 + 2.0 * p01 * xc + p11 * xc * xc + self.r
        return self.residual(x, y) / math.sqrt(s)
