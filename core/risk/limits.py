"""Named risk limits and where each applies: desk defaults, per-strategy and per-instrument overrides.

A limit value is a Decimal in the limit's unit, or None for "no limit". A value is looked up by
(name, strategy id, instrument id), most specific first:

    (strategy, instrument) -> (strategy, any) -> (any, instrument) -> desk default (any, any)

Limits that are not inherited (desk-only ones, and `daily_loss`, whose desk value engages the kill
switch while a strategy's own value only stops that strategy) are read at their own scope only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DESK = 0  # strategy id / instrument id meaning "any"


@dataclass(frozen=True, slots=True)
class LimitSpec:
    name: str
    unit: str  # qty (instrument units), money (desk currency), bps, count, ms, factor, flag
    desk_only: bool
    inherit: bool
    doc: str


_SPECS = (
    LimitSpec("max_order_qty", "qty", False, True, "largest quantity of one order"),
    LimitSpec("max_order_notional", "money", False, True, "largest notional of one order"),
    LimitSpec(
        "max_position",
        "qty",
        False,
        True,
        "largest |position| of a strategy in an instrument, counting its working orders on the side",
    ),
    LimitSpec(
        "max_gross_exposure",
        "money",
        True,
        False,
        "largest sum over instruments of |account position + working orders| at the mark",
    ),
    LimitSpec(
        "price_band_bps", "bps", False, True, "largest distance of a limit price from the reference mid"
    ),
    LimitSpec("allow_no_reference", "flag", False, True, "1: accept orders when no reference mid is known"),
    LimitSpec("order_rate", "count", False, True, "most new orders per strategy in order_rate_window_ms"),
    LimitSpec("order_rate_window_ms", "ms", False, True, "sliding window of the order-rate throttle"),
    LimitSpec("max_open_orders", "count", False, True, "most working orders of a strategy"),
    LimitSpec(
        "daily_loss",
        "money",
        False,
        False,
        "largest loss of the day; desk value engages the kill switch, a strategy's value stops it",
    ),
    LimitSpec("vol_window_ms", "ms", False, True, "window of the realized volatility of the mid"),
    LimitSpec("vol_threshold_bps", "bps", False, True, "realized volatility at which the throttle engages"),
    LimitSpec("vol_qty_factor", "factor", False, True, "max_order_qty is scaled by it while throttled"),
    LimitSpec("vol_band_factor", "factor", False, True, "price_band_bps is scaled by it while throttled"),
    LimitSpec(
        "deadman_ms", "ms", False, True, "cancel a strategy's orders after this long without heartbeat"
    ),
    LimitSpec("flatten_band_bps", "bps", True, False, "flatten orders are priced at mid +/- this band"),
    LimitSpec("flatten_timeout_ms", "ms", True, False, "flatten gives up after this long"),
    LimitSpec("flatten_retry_ms", "ms", True, False, "pause between flatten orders"),
    LimitSpec("cancel_retry_ms", "ms", True, False, "while killed, a refused cancel is retried after this"),
)
SPECS: dict[str, LimitSpec] = {s.name: s for s in _SPECS}


class LimitError(ValueError):
    """A limit name, scope or value that cannot be set."""


def validate_value(spec: LimitSpec, value: Decimal) -> None:
    if not value.is_finite():
        raise LimitError(f"{spec.name}: value must be a finite number, got {value}")
    if value < 0:
        raise LimitError(f"{spec.name}: value must not be negative, got {value}")
    if spec.unit in ("count", "ms") and value != value.to_integral_value():
        raise LimitError(f"{spec.name}: value must be a whole number of {spec.unit}, got {value}")
    if spec.unit == "flag" and value not in (0, 1):
        raise LimitError(f"{spec.name}: value must be 0 or 1, got {value}")


class LimitStore:
    """Every configured limit value by (name, strategy id, instrument id); the single place they live."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, int, int], Decimal] = {}
        self.version = 0  # bumped on every change so resolved caches know when to refresh

    def set(self, name: str, strategy_id: int, instrument_id: int, value: Decimal) -> Decimal | None:
        """Set one value; returns the value it replaced at that exact scope (None when unset)."""
        spec = SPECS.get(name)
        if spec is None:
            raise LimitError(f"unknown limit {name!r} (known: {', '.join(SPECS)})")
        if spec.desk_only and (strategy_id or instrument_id):
            raise LimitError(f"{name} is desk-wide: strategy and instrument must be 0")
        validate_value(spec, value)
        key = (name, strategy_id, instrument_id)
        old = self._values.get(key)
        self._values[key] = value
        self.version += 1
        return old

    def at(self, name: str, strategy_id: int = DESK, instrument_id: int = DESK) -> Decimal | None:
        """The value set at exactly this scope, without inheritance."""
        return self._values.get((name, strategy_id, instrument_id))

    def get(self, name: str, strategy_id: int = DESK, instrument_id: int = DESK) -> Decimal | None:
        """The effective value for an order of this strategy in this instrument."""
        spec = SPECS[name]
        v = self._values
        if spec.desk_only:
            return v.get((name, DESK, DESK))
        if not spec.inherit:
            return v.get((name, strategy_id, instrument_id))
        for key in (
            (name, strategy_id, instrument_id),
            (name, strategy_id, DESK),
            (name, DESK, instrument_id),
            (name, DESK, DESK),
        ):
            value = v.get(key)
            if value is not None:
                return value
        return None

    def items(self) -> list[tuple[tuple[str, int, int], Decimal]]:
        return sorted(self._values.items())

    def copy(self) -> LimitStore:
        out = LimitStore()
        out._values = dict(self._values)
        return out
