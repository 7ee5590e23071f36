"""Times on the command line: absolute (epoch ns, ISO-8601) or relative to a journal's first record.

1795369892589068088            epoch nanoseconds (any integer of 17 digits or more)
2026-11-22T17:51:30.5Z         ISO-8601; no zone means UTC; up to nanosecond digits
+1.5s, +200ms, +3m, +90us      after the journal's first record
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_RELATIVE = re.compile(r"^\+(?P<amount>\d+(?:\.\d+)?)(?P<unit>ns|us|ms|s|m|h)$")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_FRACTION = re.compile(r"^(?P<head>[^.]*T\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?(?P<tail>.*)$")
_EPOCH_NS_MIN_DIGITS = 17


def parse_time(text: str, origin_ns: int | None = None) -> int:
    """Epoch ns of `text`; a relative time needs `origin_ns` (the first record's time)."""
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        if origin_ns is None:
            raise ValueError(f"relative time {text!r} needs a journal with records")
        amount = Decimal(m.group("amount")) * _UNIT_NS[m.group("unit")]
        return origin_ns + int(amount)
    if text.isdigit():
        if len(text) < _EPOCH_NS_MIN_DIGITS:
            raise ValueError(f"{text!r}: an absolute time in epoch nanoseconds has 17 digits or more")
        return int(text)
    return _iso_ns(text)


def _iso_ns(text: str) -> int:
    m = _FRACTION.match(text)
    if not m:
        raise ValueError(
            f"bad time {text!r}: use epoch ns, ISO-8601 such as 2026-11-22T17:51:30.5Z, or +1.5s after "
            "the first record"
        )
    frac = m.group("frac") or ""
    if len(frac) > 9:
        raise ValueError(f"bad time {text!r}: at most 9 fractional digits (nanoseconds)")
    tail = m.group("tail")
    try:
        stamp = datetime.fromisoformat(m.group("head") + ("+00:00" if tail in ("", "Z") else tail))
    except (ValueError, InvalidOperation) as e:
        raise ValueError(f"bad time {text!r}: {e}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    seconds = int(stamp.timestamp())
    return seconds * 1_000_000_000 + int(frac.ljust(9, "0"))


def format_time(ns: int) -> str:
    """UTC ISO-8601 with nanoseconds: 2026-11-22T17:51:30.739934123Z."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return f"{_second(seconds)}.{rest:09d}Z"


@lru_cache(maxsize=64)  # a dump formats many records of the same second
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def format_duration(ns: int) -> str:
    if ns < 1_000_000:
        return f"{ns / 1_000:.0f} us"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.1f} ms"
    if ns < 120_000_000_000:
        return f"{ns / 1_000_000_000:.2f} s"
    return f"{ns / 60_000_000_000:.1f} min"
