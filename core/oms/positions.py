"""Netting positions with average price, realized and unrealized PnL: exact rational arithmetic.

A position is its signed quantity (int mantissa) and its cost basis: the sum of the signed values of
the fills that opened it, in the settlement currency (quote currency; base currency for inverse
contracts). Averages of fills are rarely finite decimals, so the basis is a `Fraction` over the int
mantissas and nothing is rounded until a value leaves the process as a Decimal64.

Value of q at price p (mantissas; m the contract multiplier, pe/qe the exponents):
    linear:  q * p * m * 10^(pe+qe)        quote currency
    inverse: q * m * 10^(qe-pe) / p        base currency
A fill that reduces the position realizes (value at the fill price - share of the basis) for a
linear contract, (share of the basis - value at the fill price) for an inverse one; a fill that
crosses zero closes the old position and opens a new one at the fill price with the remainder.
"""

from __future__ import annotations

from fractions import Fraction

from core.instruments import Instrument

ZERO = Fraction(0)


class ValueScale:
    """Exact value of (price, qty) mantissas for one instrument."""

    __slots__ = ("inverse", "k")

    def __init__(self, inst: Instrument) -> None:
        self.inverse = inst.inverse
        m = Fraction(inst.multiplier)
        if inst.inverse:
            self.k = m * Fraction(10) ** (inst.qty_exponent - inst.price_exponent)
        else:
            self.k = m * Fraction(10) ** (inst.price_exponent + inst.qty_exponent)

    def value(self, qty: int, price: int | Fraction) -> Fraction:
        if self.inverse:
            return qty * self.k / price
        return qty * price * self.k

    def price_from_value(self, qty: int, value: Fraction) -> Fraction:
        """The price p (mantissa units, exact) at which `qty` has `value`: the inverse of value()."""
        if self.inverse:
            return qty * self.k / value
        return value / (qty * self.k)


class Position:
    """One netting position: (strategy or account, instrument)."""

    __slots__ = ("buy_qty", "cost", "fees", "instrument", "mark", "net", "realized", "scale", "sell_qty")

    def __init__(self, instrument: Instrument, scale: ValueScale | None = None) -> None:
        self.instrument = instrument
        self.scale = scale if scale is not None else ValueScale(instrument)
        self.net = 0  # signed qty mantissa
        self.cost = ZERO  # cost basis of the open position, settlement currency
        self.realized = ZERO  # settlement currency, before fees
        self.fees = ZERO  # settlement currency, paid (positive) or rebated (negative)
        self.mark: int | None = None  # last mark price mantissa (mid) used for unrealized PnL
        self.buy_qty = 0
        self.sell_qty = 0

    def apply_fill(self, signed_qty: int, price: int, fee: Fraction = ZERO) -> Fraction:
        """Apply a fill (+qty bought, -qty sold) at price; returns the PnL it realized."""
        if signed_qty == 0:
            raise ValueError("fill of zero quantity")
        if price <= 0 and self.scale.inverse:
            raise ValueError(f"{self.instrument.symbol}: inverse fill at non-positive price {price}")
        if signed_qty > 0:
            self.buy_qty += signed_qty
        else:
            self.sell_qty -= signed_qty
        self.fees += fee
        net = self.net
        realized = ZERO
        if net == 0 or (net > 0) == (signed_qty > 0):
            self.net = net + signed_qty
            self.cost += self.scale.value(signed_qty, price)
            return realized
        # Reducing: close min(|fill|, |net|) of the position at its average, open the remainder.
        closed = -signed_qty if abs(signed_qty) <= abs(net) else net  # in position units (sign of net)
        share = self.cost * closed / net
        at_fill = self.scale.value(closed, price)
        realized = (share - at_fill) if self.scale.inverse else (at_fill - share)
        self.realized += realized
        self.net = net - closed
        self.cost -= share
        remainder = signed_qty + closed
        if self.net == 0:
            self.cost = ZERO
        if remainder:
            self.net = remainder
            self.cost = self.scale.value(remainder, price)
        return realized

    def avg_price(self) -> Fraction | None:
        """Average entry price (mantissa units, exact), None when flat."""
        if self.net == 0:
            return None
        return self.scale.price_from_value(self.net, self.cost)

    def unrealized(self, mark: int | None = None) -> Fraction:
        """Open PnL at the mark (the last mid when not given); zero when flat or never marked."""
        m = self.mark if mark is None else mark
        if self.net == 0 or m is None or m <= 0:
            return ZERO
        at_mark = self.scale.value(self.net, m)
        return (self.cost - at_mark) if self.scale.inverse else (at_mark - self.cost)

    def restate(self, net: int, cost: Fraction) -> None:
        """Set quantity and basis from a venue's statement (reconciliation)."""
        self.net = net
        self.cost = cost if net else ZERO
