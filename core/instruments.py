"""Static data: instruments with stable numeric ids and fixed-point exponents.

On the wire a price is an int64 mantissa m meaning m * 10**price_exponent; a quantity likewise with
qty_exponent. Money arithmetic stays exact: Python ints and Decimal, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from core.config.base import ConfigError, Table, configs_dir, load_toml

KINDS = ("spot", "perpetual", "future", "equity", "fx")
INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Instrument:
    id: int
    symbol: str
    venue: str
    kind: str
    base: str
    quote: str
    price_exponent: int
    qty_exponent: int
    tick_size: int = 1  # in price mantissa units
    lot_size: int = 1  # in quantity mantissa units
    min_qty: int = 1
    max_qty: int = INT64_MAX
    multiplier: Decimal = Decimal(1)
    inverse: bool = False
    trading_hours: str = ""  # "" = always open (crypto)
    venue_symbol: str = ""  # the venue's own spelling when it differs
    tags: tuple[str, ...] = field(default=())

    # -- conversions between mantissas and exact decimals --------------------------------------
    def price(self, mantissa: int) -> Decimal:
        return Decimal(mantissa).scaleb(self.price_exponent)

    def qty(self, mantissa: int) -> Decimal:
        return Decimal(mantissa).scaleb(self.qty_exponent)

    def price_mantissa(self, value: Decimal | str | int) -> int:
        """Exact mantissa of a decimal price; raises ValueError if it is finer than the exponent allows."""
        return _mantissa(Decimal(value), self.price_exponent, "price", self.symbol)

    def qty_mantissa(self, value: Decimal | str | int) -> int:
        return _mantissa(Decimal(value), self.qty_exponent, "quantity", self.symbol)

    def notional(self, price: int, qty: int) -> Decimal:
        """Value of qty at price in the quote currency (in the base currency for inverse contracts)."""
        if self.inverse:
            if price == 0:
                raise ZeroDivisionError(f"{self.symbol}: inverse notional at price 0")
            return (self.qty(qty) * self.multiplier) / self.price(price)
        return self.price(price) * self.qty(qty) * self.multiplier


def _mantissa(value: Decimal, exponent: int, what: str, symbol: str) -> int:
    scaled = value.scaleb(-exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{symbol}: {what} {value} is finer than 1e{exponent}")
    m = int(scaled)
    if abs(m) > INT64_MAX:
        raise ValueError(f"{symbol}: {what} {value} does not fit int64 at 1e{exponent}")
    return m


class InstrumentCatalog:
    """All configured instruments, by id and by (venue, symbol)."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self._by_id = {i.id: i for i in instruments}
        self._by_symbol: dict[str, list[Instrument]] = {}
        for i in instruments:
            self._by_symbol.setdefault(i.symbol.upper(), []).append(i)
            if i.venue_symbol and i.venue_symbol.upper() != i.symbol.upper():
                self._by_symbol.setdefault(i.venue_symbol.upper(), []).append(i)

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def by_id(self, instrument_id: int) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise KeyError(f"no instrument with id {instrument_id}") from None

    def get(self, instrument_id: int) -> Instrument | None:
        return self._by_id.get(instrument_id)

    def find(self, symbol: str, venue: str | None = None) -> Instrument | None:
        matches = self._by_symbol.get(symbol.upper(), [])
        if venue is not None:
            matches = [i for i in matches if i.venue == venue]
        return matches[0] if len(matches) == 1 else None

    def resolve(self, symbol: str, venue: str | None = None) -> Instrument:
        """Find by symbol (or numeric id); a clear error when unknown or ambiguous."""
        if symbol.isdigit():
            return self.by_id(int(symbol))
        matches = self._by_symbol.get(symbol.upper(), [])
        if venue is not None:
            matches = [i for i in matches if i.venue == venue]
        if not matches:
            known = ", ".join(sorted({i.symbol for i in self._by_id.values()}))
            raise KeyError(f"unknown instrument {symbol!r} (known: {known})")
        if len(matches) > 1:
            where = ", ".join(f"{i.symbol}@{i.venue}" for i in matches)
            raise KeyError(f"instrument {symbol!r} is ambiguous ({where}); name the venue")
        return matches[0]


def load_instruments(path: str | Path | None = None) -> InstrumentCatalog:
    """Load and validate configs/instruments.toml (or the file given)."""
    p = Path(path) if path is not None else configs_dir() / "instruments.toml"
    root = load_toml(p)
    out: list[Instrument] = []
    seen_ids: dict[int, str] = {}
    seen_keys: set[tuple[str, str]] = set()
    for t in root.tables("instrument"):
        inst = _instrument(t)
        if inst.id in seen_ids:
            raise t.error("id", f"duplicate instrument id {inst.id} (also {seen_ids[inst.id]})")
        if (inst.venue, inst.symbol) in seen_keys:
            raise t.error("symbol", f"duplicate instrument {inst.symbol} at venue {inst.venue}")
        seen_ids[inst.id] = inst.symbol
        seen_keys.add((inst.venue, inst.symbol))
        out.append(inst)
    root.reject_unknown()
    if not out:
        raise ConfigError(p, "instrument", "no instruments configured")
    return InstrumentCatalog(out)


def _instrument(t: Table) -> Instrument:
    ident = t.get("id", int)
    if not 0 < ident < 2**32:
        raise t.error("id", f"must be in 1..{2**32 - 1}, got {ident}")
    symbol = t.get("symbol", str)
    if not symbol or any(c.isspace() for c in symbol):
        raise t.error("symbol", f"must be a non-empty word, got {symbol!r}")
    kind = t.get("kind", str, "spot")
    if kind not in KINDS:
        raise t.error("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    pe = t.get("price_exponent", int)
    qe = t.get("qty_exponent", int)
    for name, e in (("price_exponent", pe), ("qty_exponent", qe)):
        if not -18 <= e <= 18:
            raise t.error(name, f"must be in -18..18, got {e}")
    ints = {}
    for name, default in (("tick_size", 1), ("lot_size", 1), ("min_qty", 1), ("max_qty", INT64_MAX)):
        ints[name] = t.get(name, int, default)
        if ints[name] <= 0:
            raise t.error(name, f"must be positive (in mantissa units), got {ints[name]}")
    if ints["min_qty"] > ints["max_qty"]:
        raise t.error("min_qty", "is greater than max_qty")
    multiplier = t.get("multiplier", Decimal, Decimal(1))
    if multiplier <= 0:
        raise t.error("multiplier", f"must be positive, got {multiplier}")
    tags = t.get("tags", list, [])
    if not all(isinstance(x, str) for x in tags):
        raise t.error("tags", "must be a list of strings")
    inst = Instrument(
        id=ident,
        symbol=symbol,
        venue=t.get("venue", str),
        kind=kind,
        base=t.get("base", str),
        quote=t.get("quote", str),
        price_exponent=pe,
        qty_exponent=qe,
        multiplier=multiplier,
        inverse=t.get("inverse", bool, False),
        trading_hours=t.get("trading_hours", str, ""),
        venue_symbol=t.get("venue_symbol", str, ""),
        tags=tuple(tags),
        **ints,
    )
    t.reject_unknown()
    return inst
