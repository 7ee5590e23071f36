"""Positions per strategy and per account, marks, and PnL totals in the desk currency.

Every fill is booked twice: to the (strategy, instrument) position and to the (account, instrument)
position. PnL of a position is realized + unrealized - fees in its settlement currency; desk totals
convert it with the config's fx rate of the quote currency, and for inverse contracts (settled in
the base currency) first at the instrument's mark price. Everything is exact (Fraction).
"""

from __future__ import annotations

from fractions import Fraction

from core.instruments import InstrumentCatalog
from core.oms.positions import ZERO, Position, ValueScale
from core.risk.config import RiskConfig

STRATEGY = "s"
ACCOUNT = "a"

PositionKey = tuple[str, int, int]  # (STRATEGY or ACCOUNT, strategy or account id, instrument id)


class Ledger:
    def __init__(self, catalog: InstrumentCatalog, config: RiskConfig) -> None:
        self.catalog = catalog
        self.scales = {i.id: ValueScale(i) for i in catalog}
        self.fx = {i.id: Fraction(config.fx_rate(i.quote)) for i in catalog}
        self.price_unit = {i.id: Fraction(10) ** i.price_exponent for i in catalog}
        self.positions: dict[PositionKey, Position] = {}
        self.by_instrument: dict[int, list[PositionKey]] = {}
        self.marks: dict[int, Fraction] = {}  # mark price (mantissa units, exact): the mid
        self.last_px: dict[int, Fraction] = {}  # last fill price per instrument
        self.pnl_desk: dict[PositionKey, Fraction] = {}
        self.desk_total = ZERO  # sum over account positions, desk currency
        self.totals: dict[tuple[str, int], Fraction] = {}  # (STRATEGY/ACCOUNT, id) -> PnL, desk currency
        self.dirty: set[PositionKey] = set()  # changed since the last PositionUpdate

    def position(self, kind: str, owner: int, inst_id: int) -> Position:
        key = (kind, owner, inst_id)
        p = self.positions.get(key)
        if p is None:
            p = self.positions[key] = Position(self.catalog.by_id(inst_id), self.scales[inst_id])
            p.mark = self.marks.get(inst_id)
            self.by_instrument.setdefault(inst_id, []).append(key)
        return p

    def fill(
        self,
        strategy_id: int,
        account_id: int,
        inst_id: int,
        signed_qty: int,
        price: int | Fraction,
        fee: Fraction,
    ) -> tuple[PositionKey, PositionKey]:
        self.last_px[inst_id] = Fraction(price)
        keys = ((STRATEGY, strategy_id, inst_id), (ACCOUNT, account_id, inst_id))
        for kind, owner, _ in keys:
            self.position(kind, owner, inst_id).apply_fill(signed_qty, price, fee)
        self._revalue(inst_id)
        return keys

    def restate(
        self, strategy_id: int, account_id: int, inst_id: int, signed_qty: int, price: Fraction
    ) -> None:
        """Book quantity a venue says we traded and we had not seen (reconciliation), at its price."""
        self.fill(strategy_id, account_id, inst_id, signed_qty, price, ZERO)

    def mark(self, inst_id: int, mid2: int) -> None:
        m = Fraction(mid2, 2)
        if self.marks.get(inst_id) == m:
            return
        self.marks[inst_id] = m
        for key in self.by_instrument.get(inst_id, ()):
            self.positions[key].mark = m
        self._revalue(inst_id, marked=True)

    def settlement_to_desk(self, inst_id: int) -> Fraction | None:
        """Desk currency per unit of the instrument's settlement currency, None when not known."""
        if not self.scales[inst_id].inverse:
            return self.fx[inst_id]
        px = self.marks.get(inst_id) or self.last_px.get(inst_id)
        if px is None:
            return None
        return px * self.price_unit[inst_id] * self.fx[inst_id]

    def pnl(self, p: Position) -> Fraction:
        """Realized + unrealized - fees, settlement currency."""
        return p.realized + p.unrealized() - p.fees

    def _revalue(self, inst_id: int, marked: bool = False) -> None:
        rate = self.settlement_to_desk(inst_id)
        # A new mark leaves the value of a flat position alone unless its currency is priced by the mark
        # (inverse): there is no open quantity to revalue and the fx rate is fixed.
        skip_flat = marked and not self.scales[inst_id].inverse
        for key in self.by_instrument.get(inst_id, ()):
            p = self.positions[key]
            if skip_flat and not p.net:
                continue
            value = ZERO if rate is None else self.pnl(p) * rate
            old = self.pnl_desk.get(key, ZERO)
            if value == old:
                continue
            self.pnl_desk[key] = value
            self.dirty.add(key)
            kind, owner, _ = key
            if kind == ACCOUNT:
                self.desk_total += value - old
            self.totals[(kind, owner)] = self.totals.get((kind, owner), ZERO) + value - old

    def unrealized_desk(self, kind: str, owner: int | None = None) -> Fraction:
        total = ZERO
        for key, p in self.positions.items():
            if key[0] == kind and (owner is None or key[1] == owner):
                rate = self.settlement_to_desk(key[2])
                if rate is not None:
                    total += p.unrealized() * rate
        return total

    def realized_desk(self, kind: str, owner: int | None = None) -> Fraction:
        total = ZERO
        for key, p in self.positions.items():
            if key[0] == kind and (owner is None or key[1] == owner):
                rate = self.settlement_to_desk(key[2])
                if rate is not None:
                    total += (p.realized - p.fees) * rate
        return total
