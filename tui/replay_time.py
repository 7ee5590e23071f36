"""Seek targets typed by the user: absolute times of the session or offsets from the replay time.

- `12:34:56`, `12:34:56.250`: UTC time of day of the session (on the recording's date)
- `+10`, `-5.5`, `+2m`, `-500ms`: relative to the current replay time (plain numbers are seconds)
- `start`, `end`: the first or the last record
- `2026-11-22T17:51:30.5Z` (ISO-8601, no zone = UTC) or epoch ns, as `aerodesk log dump --from` takes
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from core.recorder.timespec import parse_time

NS_PER_S = 1_000_000_000
_DAY_NS = 86_400 * NS_PER_S
_TIME_OF_DAY = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,9}))?$")
_RELATIVE = re.compile(r"^(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<unit>ns|us|ms|s|m|h)?$")
_UNIT_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": NS_PER_S, "m": 60 * NS_PER_S, "h": 3600 * NS_PER_S}


def parse_seek(text: str, *, now_ns: int, first_ns: int, last_ns: int) -> int:
    """Epoch ns of a seek target (not clamped; the engine clamps to the journal); ValueError if unreadable."""
    t = text.strip()
    low = t.lower()
    if low in ("start", "home", "begin"):
        return first_ns
    if low == "end":
        return last_ns
    m = _RELATIVE.match(low)
    if m:
        amount = int(Decimal(m.group("amount")) * _UNIT_NS[m.group("unit") or "s"])
        return now_ns + amount if m.group("sign") == "+" else now_ns - amount
    m = _TIME_OF_DAY.match(t)
    if m:
        h, mi, s = int(m.group("h")), int(m.group("m")), int(m.group("s"))
        if h > 23 or mi > 59 or s > 59:
            raise ValueError(f"bad time of day {text!r}: HH:MM:SS[.fff], UTC")
        offset = ((h * 60 + mi) * 60 + s) * NS_PER_S + int((m.group("frac") or "").ljust(9, "0"))
        return _on_session_day(offset, first_ns, last_ns)
    try:
        return parse_time(t, first_ns)
    except ValueError:
        raise ValueError(
            f"bad seek target {text!r}: HH:MM:SS[.fff] (UTC, of the session), +N / -N seconds "
            "(or +2m, -500ms), start, end, or an ISO-8601 time"
        ) from None


def _on_session_day(offset_ns: int, first_ns: int, last_ns: int) -> int:
    """The time of day on the recording's day; a session over midnight: the day that puts it inside."""
    first_day = first_ns - first_ns % _DAY_NS
    candidate = first_day + offset_ns
    if candidate < first_ns and candidate + _DAY_NS <= last_ns:
        return candidate + _DAY_NS
    return candidate


def format_offset(ns: int) -> str:
    """+12.345s style offset from the session's start."""
    sign = "-" if ns < 0 else "+"
    ms = abs(ns) // 1_000_000
    return f"{sign}{ms // 1000}.{ms % 1000:03d}s"


def utc_date(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS_PER_S, UTC).strftime("%Y-%m-%d")
