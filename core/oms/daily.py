"""The trading day: daily PnL = total PnL now - total PnL at the last roll, rolled at a UTC time of day.

The roll is a deadline on the engine's clock (so replaying the WAL rolls at the same inputs); each
day's result is kept in `history` and reported in a RiskEvent DailyLossRolled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

DAY_NS = 86_400 * 1_000_000_000


def day_start(ts: int, roll_ns: int) -> int:
    """The last roll time at or before ts."""
    return (ts - roll_ns) // DAY_NS * DAY_NS + roll_ns


@dataclass(frozen=True, slots=True)
class DayResult:
    start_ts: int
    end_ts: int
    pnl: Fraction  # desk currency: realized + unrealized - fees over the day
    realized: Fraction  # desk currency: realized - fees over the day


@dataclass
class TradingDay:
    roll_ns: int
    start_ts: int | None = None  # None until the first input fixes the day
    baseline: Fraction = Fraction(0)  # desk total at the start of the day
    realized_baseline: Fraction = Fraction(0)
    owner_baseline: dict[tuple[str, int], Fraction] = field(default_factory=dict)  # per strategy / account
    history: list[DayResult] = field(default_factory=list)

    def begin(self, ts: int) -> None:
        self.start_ts = day_start(ts, self.roll_ns)

    @property
    def next_roll(self) -> int | None:
        return None if self.start_ts is None else self.start_ts + DAY_NS

    def daily(self, desk_total: Fraction) -> Fraction:
        return desk_total - self.baseline

    def owner_daily(self, owner: tuple[str, int], total: Fraction) -> Fraction:
        return total - self.owner_baseline.get(owner, Fraction(0))

    def roll(
        self,
        now: int,
        desk_total: Fraction,
        realized_total: Fraction,
        owner_totals: dict[tuple[str, int], Fraction],
    ) -> DayResult:
        assert self.start_ts is not None
        end = self.next_roll or now
        result = DayResult(
            self.start_ts, end, desk_total - self.baseline, realized_total - self.realized_baseline
        )
        self.history.append(result)
        self.baseline = desk_total
        self.realized_baseline = realized_total
        self.owner_baseline = dict(owner_totals)
        self.start_ts = day_start(now, self.roll_ns)
        return result
