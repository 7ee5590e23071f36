"""Pre-trade risk: every order passes the same named checks, in this order; the first to fire rejects it.

    KillSwitch          while engaged, only IOC orders that reduce the account position pass
    DailyLoss           desk or strategy loss of the day at/over its limit: only reducing orders pass
    MaxOrderQty         qty > max_order_qty
    NoReferencePrice    no reference mid (limit orders pass when allow_no_reference = 1; market never)
    MaxOrderNotional    qty at the limit price (market: at the mid) > max_order_notional
    PriceBand           |price - mid| > price_band_bps of the mid
    VolatilityThrottle  the instrument's mid is volatile (see volatility.py) and the order breaks the
                        tightened qty or band
    MaxPosition         strategy position + its working orders on the side + this order > max_position
    MaxGrossExposure    desk gross exposure with this order > max_gross_exposure (orders that do not
                        raise it pass)
    MaxOpenOrders       the strategy already has max_open_orders working
    OrderRate           the strategy sent order_rate orders within order_rate_window_ms (sliding
                        window on the engine's clock; orders that pass count)

Limits are resolved once per (strategy, instrument) into integer thresholds and cached until a
limit changes, so a check is integer comparisons and dict lookups: no Decimal, no Fraction, no
float on the path that accepts an order. Values for the RiskEvent are computed only on a reject.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from core.codec.messages import Reason
from core.instruments import Instrument, InstrumentCatalog
from core.risk.config import RiskConfig
from core.risk.exposure import EXPOSURE_SCALE, DeskValue, ExposureBook
from core.risk.killswitch import KillSwitch
from core.risk.limits import DESK, LimitStore
from core.risk.volatility import VolatilityWindow, threshold_sq

NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Breach:
    """Why an order was refused: the reason code, what was measured and the limit it broke."""

    reason: Reason
    check: str
    value: Decimal | None = None
    limit: Decimal | None = None
    text: str = ""


def _frac(d: Decimal | None) -> Fraction | None:
    return None if d is None else Fraction(d)


def _dec(f: Fraction | int) -> Decimal:
    f = Fraction(f)
    return Decimal(f.numerator) / Decimal(f.denominator)


class Resolved:
    """The limits of one (strategy, instrument) as integer thresholds."""

    __slots__ = (
        "allow_no_ref",
        "band_den",
        "band_num",
        "gross_den",
        "gross_num",
        "inverse",
        "max_open",
        "max_pos",
        "max_qty",
        "ntl_a",
        "ntl_b",
        "rate",
        "rate_window_ns",
        "vol_band_den",
        "vol_band_num",
        "vol_max_qty",
        "vol_thr_sq",
        "vol_window_ns",
    )

    def __init__(self, store: LimitStore, sid: int, inst: Instrument, fx: Fraction, value: DeskValue) -> None:
        g = store.get
        iid = inst.id
        self.inverse = inst.inverse
        self.gross_num, self.gross_den = value.num, value.den  # exposure units of qty (x doubled mark)
        qscale = Fraction(10) ** inst.qty_exponent
        max_qty = _frac(g("max_order_qty", sid, iid))
        self.max_qty = None if max_qty is None else int(max_qty / qscale)
        vol_qf = _frac(g("vol_qty_factor", sid, iid))
        self.vol_max_qty = None if max_qty is None or vol_qf is None else int(max_qty * vol_qf / qscale)
        ntl = _frac(g("max_order_notional", sid, iid))
        if ntl is None:
            self.ntl_a = self.ntl_b = None
        else:
            m = Fraction(inst.multiplier) * fx
            if inst.inverse:  # q * m * 10^qe <= L
                k = m * qscale
            else:  # (p2 / 2) * q * m * 10^(pe+qe) <= L
                k = m * qscale * Fraction(10) ** inst.price_exponent / 2
            self.ntl_a = k.numerator * ntl.denominator
            self.ntl_b = ntl.numerator * k.denominator
        band = _frac(g("price_band_bps", sid, iid))
        vol_bf = _frac(g("vol_band_factor", sid, iid))
        self.band_num, self.band_den = (None, 1) if band is None else (band.numerator, band.denominator)
        if band is None or vol_bf is None:
            self.vol_band_num, self.vol_band_den = None, 1
        else:
            vb = band * vol_bf
            self.vol_band_num, self.vol_band_den = vb.numerator, vb.denominator
        self.allow_no_ref = g("allow_no_reference", sid, iid) == 1
        max_pos = _frac(g("max_position", sid, iid))
        self.max_pos = None if max_pos is None else int(max_pos / qscale)
        max_open = g("max_open_orders", sid, DESK)
        self.max_open = None if max_open is None else int(max_open)
        rate = g("order_rate", sid, DESK)
        self.rate = None if rate is None else int(rate)
        self.rate_window_ns = int(g("order_rate_window_ms", sid, DESK) or 1000) * NS_PER_MS
        thr = g("vol_threshold_bps", DESK, iid)
        self.vol_thr_sq = None if thr is None else threshold_sq(thr)
        window = g("vol_window_ms", DESK, iid)
        self.vol_window_ns = int(window or 60_000) * NS_PER_MS


class PreTradeRisk:
    """The checks and the state only they use (rate windows, volatility); reads the engine's state."""

    def __init__(
        self,
        config: RiskConfig,
        limits: LimitStore,
        catalog: InstrumentCatalog,
        exposure: ExposureBook,
        kill: KillSwitch,
    ) -> None:
        self.config = config
        self.limits = limits
        self.catalog = catalog
        self.exposure = exposure
        self.kill = kill
        self.mid2: dict[int, int] = {}  # reference mid, doubled (bid + ask), by instrument
        self.vol: dict[int, VolatilityWindow] = {}
        self.rate_windows: dict[int, deque[int]] = {}
        self.open_orders: dict[int, int] = {}  # working orders by strategy
        self.loss_breached_desk = False
        self.loss_breached: set[int] = set()  # strategies at/over their own daily loss limit
        self._resolved: dict[tuple[int, int], Resolved] = {}
        self._contexts: dict[tuple[int, int, int], tuple] = {}
        self._version = -1
        self._fx = {i.id: Fraction(config.fx_rate(i.quote)) for i in catalog}
        self.fired: dict[str, int] = {}  # count of rejects by check name
        self._gross_limit: int | None = None

    # -- limits --------------------------------------------------------------------------------
    def resolved(self, strategy_id: int, inst_id: int) -> Resolved:
        if self._version != self.limits.version:
            self._refresh()
        key = (strategy_id, inst_id)
        r = self._resolved.get(key)
        if r is None:
            inst = self.catalog.by_id(inst_id)
            r = self._resolved[key] = Resolved(
                self.limits, strategy_id, inst, self._fx[inst_id], self.exposure.values[inst_id]
            )
        return r

    # -- market state ----------------------------------------------------------------------------
    def on_mid(self, inst_id: int, mid2: int, now: int) -> None:
        self.mid2[inst_id] = mid2
        w = self.vol.get(inst_id)
        if w is None:
            w = self.vol[inst_id] = VolatilityWindow()
        w.on_mid(now, mid2, self.resolved(DESK, inst_id).vol_window_ns)

    def throttled(self, inst_id: int, now: int, r: Resolved | None = None) -> bool:
        r = r if r is not None else self.resolved(DESK, inst_id)
        w = self.vol.get(inst_id)
        if w is None or r.vol_thr_sq is None:
            return False
        w.expire(now, r.vol_window_ns)
        return w.is_high(r.vol_thr_sq)

    def is_reducing(self, account_id: int, inst_id: int, is_buy: bool, qty: int) -> bool:
        """Whether the order, with the account's working orders on its side, only reduces the position."""
        row = self.exposure.account.get((account_id, inst_id))
        if row is None:
            return False
        net = row[0]
        if is_buy:
            return net < 0 and row[1] + qty <= -net
        return net > 0 and row[2] + qty <= net

    # -- the checks ------------------------------------------------------------------------------
    def check(
        self,
        strategy_id: int,
        account_id: int,
        inst_id: int,
        is_buy: bool,
        price: int | None,
        qty: int,
        is_ioc: bool,
        now: int,
    ) -> Breach | None:
        """None when the order passes every check (it then counts in the rate window).

        Written for speed (the accept path runs it for every order): limits come pre-resolved as
        integers, lookups are local, nothing is allocated unless a check fires.
        """
        if self._version != self.limits.version:
            self._refresh()
        ctx = self._contexts.get((strategy_id, account_id, inst_id))
        if ctx is None:
            ctx = self._context(strategy_id, account_id, inst_id)
        r, row, srow, drow, window = ctx
        ex = self.exposure
        if is_buy:
            reducing = row[0] < 0 and row[1] + qty <= -row[0]
        else:
            reducing = row[0] > 0 and row[2] + qty <= row[0]
        if self.kill.engaged and not (reducing and is_ioc):
            return self._fire(
                Reason.KillSwitch, "kill_switch", text="kill switch engaged: only reducing IOC orders pass"
            )
        if (self.loss_breached_desk or strategy_id in self.loss_breached) and not reducing:
            return self._fire(
                Reason.DailyLoss, "daily_loss", text="daily loss limit reached: only reducing orders pass"
            )
        if r.max_qty is not None and qty > r.max_qty:
            return self._qty_breach(Reason.MaxOrderQty, "max_order_qty", inst_id, qty, r.max_qty)
        mid2 = self.mid2.get(inst_id)
        if mid2 is None and (price is None or not r.allow_no_ref):
            return self._fire(Reason.NoReferencePrice, "reference_price", text="no reference mid")
        p2 = mid2 if price is None else 2 * price
        if r.ntl_a is not None and (qty if r.inverse else p2 * qty) * r.ntl_a > r.ntl_b:
            return self._notional_breach(strategy_id, inst_id, p2, qty)
        if price is not None and mid2 is not None:
            dist = abs(2 * price - mid2) * 10_000
            if r.band_num is not None and dist * r.band_den > r.band_num * mid2:
                return self._band_breach(
                    Reason.PriceBand, "price_band_bps", price, mid2, r.band_num, r.band_den
                )
        else:
            dist = None
        if r.vol_thr_sq is not None and (r.vol_max_qty is not None or r.vol_band_num is not None):
            w = self.vol.get(inst_id)
            if w is not None and w.sum_sq:
                samples = w.samples
                if samples and samples[0][0] <= now - r.vol_window_ns:
                    w.expire(now, r.vol_window_ns)
                if w.sum_sq >= r.vol_thr_sq:
                    if r.vol_max_qty is not None and qty > r.vol_max_qty:
                        return self._qty_breach(
                            Reason.VolatilityThrottle, "vol_qty_factor", inst_id, qty, r.vol_max_qty
                        )
                    if (
                        dist is not None
                        and r.vol_band_num is not None
                        and dist * r.vol_band_den > (r.vol_band_num * mid2)
                    ):
                        return self._band_breach(
                            Reason.VolatilityThrottle,
                            "vol_band_factor",
                            price,
                            mid2,
                            r.vol_band_num,
                            r.vol_band_den,
                        )
        if r.max_pos is not None and not reducing:
            projected = abs(srow[0] + srow[1] + qty if is_buy else srow[0] - srow[2] - qty)
            if projected > r.max_pos:
                return self._qty_breach(Reason.MaxPosition, "max_position", inst_id, projected, r.max_pos)
        if self._gross_limit is not None and not reducing:
            n, wb, ws = drow
            old_q = max(abs(n + wb), abs(n - ws))
            new_q = max(abs(n + wb + qty), abs(n - ws)) if is_buy else max(abs(n + wb), abs(n - ws - qty))
            if new_q > old_q:
                new = (
                    new_q * r.gross_num // r.gross_den
                    if r.inverse
                    else (new_q * (ex.mark2.get(inst_id) or p2) * r.gross_num // r.gross_den)
                )
                after = ex.gross - ex.contrib.get(inst_id, 0) + new
                if after > self._gross_limit:
                    return self._fire(
                        Reason.MaxGrossExposure,
                        "max_gross_exposure",
                        _dec(Fraction(after, EXPOSURE_SCALE)),
                        self.limits.get("max_gross_exposure"),
                        "desk gross exposure with this order over the limit",
                    )
        if r.max_open is not None:
            open_orders = self.open_orders.get(strategy_id, 0)
            if open_orders >= r.max_open:
                return self._fire(
                    Reason.MaxOpenOrders, "max_open_orders", Decimal(open_orders), Decimal(r.max_open)
                )
        if r.rate is not None:
            horizon = now - r.rate_window_ns
            while window and window[0] <= horizon:
                window.popleft()
            if len(window) >= r.rate:
                return self._fire(
                    Reason.OrderRate,
                    "order_rate",
                    Decimal(len(window) + 1),
                    Decimal(r.rate),
                    f"more than {r.rate} orders in {r.rate_window_ns // NS_PER_MS} ms",
                )
            window.append(now)
        return None

    def _context(self, strategy_id: int, account_id: int, inst_id: int) -> tuple:
        """What one (strategy, account, instrument) check reads, looked up once: the resolved limits and
        the live rows and window it counts from (rows and windows are only ever changed in place)."""
        ex = self.exposure
        window = self.rate_windows.get(strategy_id)
        if window is None:
            window = self.rate_windows[strategy_id] = deque()
        ctx = (
            self.resolved(strategy_id, inst_id),
            ex.row(ex.account, (account_id, inst_id)),
            ex.row(ex.strategy, (strategy_id, inst_id)),
            ex.row(ex.desk, inst_id),
            window,
        )
        self._contexts[(strategy_id, account_id, inst_id)] = ctx
        return ctx

    def _refresh(self) -> None:
        self._contexts.clear()
        self._resolved.clear()
        self._version = self.limits.version
        limit = self.limits.get("max_gross_exposure")
        self._gross_limit = None if limit is None else int(Fraction(limit) * EXPOSURE_SCALE)

    def rate_used(self, strategy_id: int, now: int) -> int:
        window = self.rate_windows.get(strategy_id)
        if not window:
            return 0
        # the strategy's window as the check reads it (no instrument: resolved() needs a real one)
        window_ns = int(self.limits.get("order_rate_window_ms", strategy_id, DESK) or 1000) * NS_PER_MS
        horizon = now - window_ns
        return sum(1 for t in window if t > horizon)

    # -- rejects (slow path: values for the RiskEvent) -------------------------------------------
    def _fire(
        self,
        reason: Reason,
        check: str,
        value: Decimal | None = None,
        limit: Decimal | None = None,
        text: str = "",
    ) -> Breach:
        self.fired[check] = self.fired.get(check, 0) + 1
        return Breach(reason, check, value, limit, text or f"{check}: {value} over {limit}")

    def _qty_breach(self, reason: Reason, check: str, inst_id: int, qty: int, limit: int) -> Breach:
        inst = self.catalog.by_id(inst_id)
        return self._fire(reason, check, inst.qty(qty), inst.qty(limit))

    def _notional_breach(self, strategy_id: int, inst_id: int, p2: int, qty: int) -> Breach:
        inst = self.catalog.by_id(inst_id)
        m = Fraction(inst.multiplier) * self._fx[inst_id]
        qv = Fraction(qty) * Fraction(10) ** inst.qty_exponent
        if inst.inverse:
            value = qv * m
        else:
            value = Fraction(p2, 2) * Fraction(10) ** inst.price_exponent * qv * m
        limit = self.limits.get("max_order_notional", strategy_id, inst_id)
        return self._fire(Reason.MaxOrderNotional, "max_order_notional", _dec(value), limit)

    def _band_breach(self, reason: Reason, check: str, price: int, mid2: int, num: int, den: int) -> Breach:
        bps = _dec(Fraction(abs(2 * price - mid2) * 10_000, mid2)).quantize(Decimal("0.01"))
        limit = _dec(Fraction(num, den))
        return self._fire(
            reason, check, bps, limit, f"price {price} is {bps} bp from the mid (limit {limit} bp)"
        )
