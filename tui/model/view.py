"""DeskView: an immutable picture of the desk the UI renders.

The bus worker builds one at the render rate from the model it owns and hands it over whole; the UI
never reads the model itself (single writer, no locks). Sections whose model part did not change are
the very same objects as in the previous view, so the UI skips them with an identity check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui.model.orders import FillRow, OrderRow
from tui.model.positions import DeskTotal, PositionRow, StrategyTotal
from tui.model.risk import KillState, LimitRow, RiskEventRow
from tui.model.staleness import DeskStatus


@dataclass(frozen=True, slots=True)
class LadderLevel:
    price: int
    qty: int
    own: int  # our working leaves at this price and side (0: none)


@dataclass(frozen=True, slots=True)
class BookView:
    instrument_id: int
    symbol: str
    bids: tuple[LadderLevel, ...]  # best first
    asks: tuple[LadderLevel, ...]  # best first
    trades: tuple[tuple[int, int, int, int], ...]  # (ts, price, qty, aggressor side), newest first
    synced: bool
    stale_reason: str  # "" when live
    seq: int
    gaps: int
    messages: int
    last_publish_ts: int
    own_outside: int = 0  # working orders of ours priced beyond the shown depth

    @property
    def best_bid(self) -> int | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> int | None:
        return self.asks[0].price if self.asks else None

    @property
    def spread(self) -> int | None:
        if self.bids and self.asks:
            return self.asks[0].price - self.bids[0].price
        return None

    @property
    def mid_x2(self) -> int | None:
        """bid + ask: twice the mid, exact, in price mantissa units."""
        if self.bids and self.asks:
            return self.asks[0].price + self.bids[0].price
        return None


@dataclass(frozen=True, slots=True)
class DaemonView:
    role: str
    strategy_id: int
    pid: int
    state: str
    age_ns: int
    stale: bool
    uptime_ns: int
    beats: int
    counters: tuple[tuple[str, int], ...]

    @property
    def name(self) -> str:
        return self.role if self.strategy_id == 0 else f"{self.role}/{self.strategy_id}"


@dataclass(frozen=True, slots=True)
class LatencyView:
    source: str
    stages: tuple[tuple[str, int, int, int, int], ...]  # (stage, count, p50 ns, p99 ns, max ns)


@dataclass(frozen=True, slots=True)
class Notice:
    wall_ns: int
    severity: str  # information | warning | error
    text: str


@dataclass(frozen=True, slots=True)
class LinkView:
    instance: str
    status: DeskStatus
    status_text: str
    connected: bool
    rejoins: int
    resyncing: str  # "" or what is being resynced and why
    md_rate: int  # market-data messages per second folded, recent
    md_received: int
    md_gaps: int
    lag_ns: int  # age of market data on arrival, worst since the previous view
    behind: bool
    bus_counters: tuple[tuple[str, int], ...]
    notices: tuple[Notice, ...]  # newest first


@dataclass(frozen=True, slots=True)
class DeskView:
    number: int
    built_ns: int  # worker's monotonic clock
    wall_ns: int
    link: LinkView
    instruments: tuple[int, ...]  # every instrument with market data, display order
    books: dict[int, BookView]
    orders: tuple[OrderRow, ...]
    fills: tuple[FillRow, ...]
    positions: tuple[PositionRow, ...]  # per strategy (strategyId set)
    desk_positions: tuple[PositionRow, ...]  # per account and instrument: everything, manual orders too
    strategy_totals: tuple[StrategyTotal, ...]
    desk_total: DeskTotal | None
    kill: KillState
    limits: tuple[LimitRow, ...]
    daily_pnl: Decimal
    risk_events: tuple[RiskEventRow, ...]
    daemons: tuple[DaemonView, ...]
    latency: LatencyView
