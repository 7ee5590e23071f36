"""Exact conversions between decimal text (as venues print it) and int fixed-point mantissas.

A mantissa m at exponent e means m * 10**e. Parsing never goes through float: a value finer than the
exponent allows, or text that is not a plain decimal number, raises ValueError.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

INT64_MAX = 2**63 - 1
_NUMBER_CHARS = frozenset("0123456789.eE+-")


def parse_fixed(text: str, exponent: int) -> int:
    """Exact mantissa of `text` at 10**exponent, e.g. parse_fixed("61837.63000000", -2) == 6183763."""
    if type(text) is not str:
        raise ValueError(f"expected a decimal string, got {text!r}")
    whole, dot, frac = text.partition(".")
    negative = whole[:1] == "-"
    if negative:
        whole = whole[1:]
    # Fast path: plain ASCII digits (Python's int() would also accept '_', '+' and spaces).
    if not (whole.isdigit() and whole.isascii()) or (dot and not (frac.isdigit() and frac.isascii())):
        return _parse_slow(text, exponent)
    if exponent <= 0:
        places = -exponent
        n = len(frac)
        if n > places:
            if frac[places:].strip("0"):
                raise ValueError(f"{text!r} is finer than 1e{exponent}")
            frac = frac[:places]
            n = places
        mantissa = int(whole + frac) * 10 ** (places - n)
    else:
        if frac.strip("0"):
            raise ValueError(f"{text!r} is finer than 1e{exponent}")
        mantissa, rest = divmod(int(whole), 10**exponent)
        if rest:
            raise ValueError(f"{text!r} is finer than 1e{exponent}")
    if mantissa > INT64_MAX:
        raise ValueError(f"{text!r} does not fit an int64 mantissa at 1e{exponent}")
    return -mantissa if negative else mantissa


class FixedParser:
    """parse_fixed at one exponent, memoised: market data repeats the same few price and quantity
    strings over and over, and a dict lookup is ~20x cheaper than parsing. The memo is bounded
    (cleared when full), so memory stays flat on endless streams."""

    __slots__ = ("_max", "exponent", "memo")

    def __init__(self, exponent: int, max_entries: int = 100_000) -> None:
        self.exponent = exponent
        self.memo: dict[str, int] = {}  # hot loops may call memo.get first and fall back to the parser
        self._max = max_entries

    def __call__(self, text: str) -> int:
        value = self.memo.get(text)  # non-str keys simply miss, then parse_fixed rejects them
        if value is None:
            value = parse_fixed(text, self.exponent)
            if len(self.memo) >= self._max:
                self.memo.clear()
            self.memo[text] = value
        return value


def _parse_slow(text: str, exponent: int) -> int:
    """Exponent notation ("1e-05", as CSV writers print small floats) and errors with a clear message."""
    value = _decimal_or_none(text)
    if value is None or not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal number")
    scaled = value.scaleb(-exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} is finer than 1e{exponent}")
    mantissa = int(scaled)
    if abs(mantissa) > INT64_MAX:
        raise ValueError(f"{text!r} does not fit an int64 mantissa at 1e{exponent}")
    return mantissa


def _decimal_or_none(text: str) -> Decimal | None:
    # Decimal() alone would also accept spaces, underscores, "Infinity" and "NaN".
    if not text or not _NUMBER_CHARS.issuperset(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def decimal_places(text: str) -> int:
    """Fractional digits as written ("61837.63000000" -> 8, "9781.0" -> 1, "5" -> 0, "1e-05" -> 5).

    Venues print a symbol's prices with a fixed number of decimals, so this is the finest exponent
    the data can need; used to infer exponents for symbols without static data.
    """
    whole, dot, frac = text.partition(".")
    if frac.isdigit() and frac.isascii() and (whole.lstrip("-").isdigit() or whole in ("", "-")):
        return len(frac)
    if not dot and whole.lstrip("-").isdigit():
        return 0
    value = _decimal_or_none(text)
    if value is None or not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal number")
    exp = value.as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


def format_fixed(mantissa: int, exponent: int) -> str:
    """Exact text of a mantissa with max(0, -exponent) decimals: (6183763, -2) -> "61837.63"."""
    if exponent >= 0:
        return str(mantissa * 10**exponent)
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa)).rjust(-exponent + 1, "0")
    return f"{sign}{digits[:exponent]}.{digits[exponent:]}"


def to_decimal(mantissa: int, exponent: int) -> Decimal:
    """The exact Decimal value of a mantissa (built from text, so no context can round it)."""
    return Decimal(f"{mantissa}e{exponent}")
