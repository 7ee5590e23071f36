"""Quantities the pre-trade checks read: positions and working quantities, and the desk's gross exposure.

For each (strategy, instrument), (account, instrument) and desk-wide instrument the book keeps
[net qty, working buy leaves, working sell leaves] as int mantissas. The desk's gross exposure is
the sum over instruments of the worst case of the desk position once its working orders fill,
    max(|net + working buys|, |net - working sells|),
valued at the instrument's mark in the desk currency. It is kept in integer units of 1e-12 of the
desk currency (a limit comparison, not PnL: rounding down at 1e-12 is harmless) and updated
incrementally, so a check costs one instrument's revaluation, not a sum over the desk.

Marks are kept doubled (bid + ask) so that a mid between two ticks stays an exact integer.
"""

from __future__ import annotations

from fractions import Fraction

from core.instruments import Instrument, InstrumentCatalog
from core.risk.config import RiskConfig

EXPOSURE_SCALE = 10**12  # exposure units per unit of desk currency


class DeskValue:
    """Integer value in exposure units of |q| at a doubled mark, for one instrument."""

    __slots__ = ("den", "inverse", "num")

    def __init__(self, inst: Instrument, fx: Fraction) -> None:
        self.inverse = inst.inverse
        m = Fraction(inst.multiplier)
        if inst.inverse:
            # A contract is worth q * multiplier in the quote currency, whatever the price.
            k = m * Fraction(10) ** inst.qty_exponent * fx * EXPOSURE_SCALE
        else:
            k = m * Fraction(10) ** (inst.price_exponent + inst.qty_exponent) * fx * EXPOSURE_SCALE / 2
        self.num = k.numerator
        self.den = k.denominator

    def units(self, qty: int, mark2: int) -> int:
        if self.inverse:
            return abs(qty) * self.num // self.den
        return abs(qty) * mark2 * self.num // self.den

    def to_decimal_units(self, units: int) -> Fraction:
        return Fraction(units, EXPOSURE_SCALE)


class ExposureBook:
    """Net and working quantities by strategy, account and desk; gross exposure of the desk."""

    def __init__(self, config: RiskConfig, catalog: InstrumentCatalog) -> None:
        self.config = config
        self.values: dict[int, DeskValue] = {
            i.id: DeskValue(i, Fraction(config.fx_rate(i.quote))) for i in catalog
        }
        self.strategy: dict[tuple[int, int], list[int]] = {}
        self.account: dict[tuple[int, int], list[int]] = {}
        self.desk: dict[int, list[int]] = {}
        self.mark2: dict[int, int] = {}  # doubled mark price per instrument (mid, else last fill)
        self.contrib: dict[int, int] = {}
        self.gross = 0

    def row(self, table: dict, key) -> list[int]:
        r = table.get(key)
        if r is None:
            r = table[key] = [0, 0, 0]
        return r

    def add_working(self, strategy_id: int, account_id: int, inst: int, is_buy: bool, delta: int) -> None:
        self._add(strategy_id, account_id, inst, 1 if is_buy else 2, delta)

    def add_fill(self, strategy_id: int, account_id: int, inst: int, signed_qty: int) -> None:
        self._add(strategy_id, account_id, inst, 0, signed_qty)

    def _add(self, strategy_id: int, account_id: int, inst: int, col: int, delta: int) -> None:
        for table, key in (
            (self.strategy, (strategy_id, inst)),
            (self.account, (account_id, inst)),
            (self.desk, inst),
        ):
            r = table.get(key)
            if r is None:
                r = table[key] = [0, 0, 0]
            r[col] += delta
        self.revalue(inst)

    def set_net(self, strategy_id: int, account_id: int, inst: int, net: int) -> None:
        """Restate a strategy's net (reconciliation); the account and desk move by the same amount."""
        delta = net - self.row(self.strategy, (strategy_id, inst))[0]
        if delta:
            self.add_fill(strategy_id, account_id, inst, delta)

    def set_mark(self, inst: int, mark2: int) -> None:
        self.mark2[inst] = mark2
        self.revalue(inst)

    def worst_qty(self, inst: int, extra_buy: int = 0, extra_sell: int = 0) -> int:
        r = self.desk.get(inst)
        if r is None:
            return max(extra_buy, extra_sell)
        net = r[0]
        return max(abs(net + r[1] + extra_buy), abs(net - r[2] - extra_sell))

    def contribution(self, inst: int, mark2: int, extra_buy: int = 0, extra_sell: int = 0) -> int:
        return self.values[inst].units(self.worst_qty(inst, extra_buy, extra_sell), mark2)

    def revalue(self, inst: int) -> None:
        new = self.contribution(inst, self.mark2.get(inst, 0))
        old = self.contrib.get(inst, 0)
        if new != old:
            self.contrib[inst] = new
            self.gross += new - old
