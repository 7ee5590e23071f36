"""Display formatting: exact decimals from mantissas and Decimals, ages, durations, times (UTC).

Prices and quantities are shown exactly at the instrument's exponent (never through a float).
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal

from core.instruments import Instrument, InstrumentCatalog

_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
SIDE_NAMES = {1: "BUY", 2: "SELL"}
TIF_NAMES = {1: "GTC", 2: "IOC", 3: "FOK", 4: "DAY"}


def fixed(mantissa: int, exponent: int) -> str:
    """mantissa x 10^exponent with exactly -exponent decimals (no float on the way)."""
    if exponent >= 0:
        return str(mantissa * 10**exponent)
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa)).rjust(-exponent + 1, "0")
    return f"{sign}{digits[:exponent]}.{digits[exponent:]}"


def price(inst: Instrument | None, mantissa: int | None) -> str:
    if mantissa is None:
        return "MKT"
    return fixed(mantissa, inst.price_exponent) if inst is not None else str(mantissa)


def qty(inst: Instrument | None, mantissa: int) -> str:
    return fixed(mantissa, inst.qty_exponent) if inst is not None else str(mantissa)


def half_price(inst: Instrument | None, mantissa_x2: int | None) -> str:
    """A mid given as twice its mantissa (exact): one more decimal when it falls between ticks."""
    if mantissa_x2 is None:
        return "-"
    exp = inst.price_exponent if inst is not None else 0
    if mantissa_x2 % 2 == 0:
        return fixed(mantissa_x2 // 2, exp)
    return fixed(mantissa_x2 * 5, exp - 1)


def money(value: Decimal) -> str:
    """Money with thousands separators: cents; small amounts (inverse PnL in coin) up to six decimals."""
    if value != 0 and abs(value) < 1:
        q = value.quantize(_MICRO, rounding=ROUND_HALF_EVEN).normalize()
        exponent = q.as_tuple().exponent
        if q != 0 and isinstance(exponent, int) and exponent < -2:
            return f"{q:,f}"
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN):,f}"


def signed_money(value: Decimal) -> str:
    text = money(value)
    return text if value < 0 or text.startswith("-") else f"+{text}" if value > 0 else text


def age(ns: int) -> str:
    if ns < 0:
        ns = 0
    s = ns / 1e9
    if s < 10:
        return f"{s:.1f}s"
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.0f}h"


def duration(ns: int) -> str:
    """A latency: ns, µs or ms with 3 significant figures."""
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def clock(wall_ns: int) -> str:
    """HH:MM:SS.mmm UTC of an epoch-ns timestamp."""
    if wall_ns <= 0:
        return "--:--:--.---"
    secs, ns = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.gmtime(secs)) + f".{ns // 1_000_000:03d}"


def symbol(catalog: InstrumentCatalog, instrument_id: int) -> str:
    if instrument_id == 0:
        return "all"
    inst = catalog.get(instrument_id)
    return inst.symbol if inst is not None else f"#{instrument_id}"


def strategy(strategy_id: int, names: dict[int, str]) -> str:
    if strategy_id == 0:
        return "desk"
    return names.get(strategy_id, f"s{strategy_id}")


def rate(per_second: int) -> str:
    """A message rate to two significant figures ("12k/s"): readable, and steady on screen."""
    if per_second < 1000:
        return f"{per_second}/s"
    if per_second < 1_000_000:
        k = per_second / 1000
        return f"{k:.1f}k/s" if k < 10 else f"{k:.0f}k/s"
    return f"{per_second / 1e6:.1f}M/s"
