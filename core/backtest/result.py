"""What a backtest produced: fills, final positions and PnL as the oms reports them, counters, and a
digest of every message that crossed the in-process bus (two runs with the same inputs have the same
digest)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fill:
    ts: int
    strategy_id: int
    instrument_id: int
    side: str  # "Buy" / "Sell"
    qty: int  # mantissa
    price: int  # mantissa
    fee: Decimal  # settlement currency
    order_id: int
    cl_ord_id: int
    exec_id: int


@dataclass(frozen=True, slots=True)
class PositionResult:
    """One strategy's (or account's, strategy_id 0) position at the end, from the oms's PositionsSnapshot."""

    account_id: int
    strategy_id: int
    instrument_id: int
    net_qty: int
    avg_px: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    mark_px: int | None

    @property
    def pnl(self) -> Decimal:
        """realized + unrealized - fees, settlement currency."""
        return self.realized_pnl + self.unrealized_pnl - self.fees


@dataclass
class BacktestResult:
    seed: int
    start_ns: int
    end_ns: int
    symbols: tuple[str, ...]
    fills: list[Fill] = field(default_factory=list)
    positions: list[PositionResult] = field(default_factory=list)
    strategies: list[dict[str, Any]] = field(default_factory=list)  # host status per strategy
    strategy_stats: dict[str, dict[str, int]] = field(default_factory=dict)  # a strategy's own `stats`
    counters: Counter[str] = field(default_factory=Counter)
    oms_counters: dict[str, int] = field(default_factory=dict)
    risk_events: list[str] = field(default_factory=list)  # "Type Reason: text", in order
    digest: str = ""

    # -- reading -----------------------------------------------------------------------------------
    def fills_of(self, strategy_id: int, instrument_id: int = 0) -> list[Fill]:
        return [
            f
            for f in self.fills
            if f.strategy_id == strategy_id and (not instrument_id or f.instrument_id == instrument_id)
        ]

    def positions_of(self, strategy_id: int) -> list[PositionResult]:
        return [p for p in self.positions if p.strategy_id == strategy_id]

    def position(self, strategy_id: int, instrument_id: int) -> PositionResult | None:
        for p in self.positions:
            if p.strategy_id == strategy_id and p.instrument_id == instrument_id:
                return p
        return None

    def pnl(self, strategy_id: int) -> Decimal:
        """Sum of the strategy's positions' PnL (their settlement currencies must agree: all the demo's
        spot instruments settle in USD)."""
        return sum((p.pnl for p in self.positions_of(strategy_id)), ZERO)

    def summary(self) -> str:
        secs = (self.end_ns - self.start_ns) / 1e9
        lines = [
            f"backtest seed={self.seed} {secs:.0f}s simulated on {', '.join(self.symbols)}: "
            f"{self.counters['md_events']} market events, {len(self.fills)} fills, digest {self.digest[:16]}"
        ]
        for s in self.strategies:
            sid = s["strategy_id"]
            fills = self.fills_of(sid)
            c = s["counters"]
            lines.append(
                f"  {s['name']} (id {sid}, {s['state'].lower()}): {c['orders']} orders, "
                f"{c['replaces']} replaces, {c['cancels']} cancels, {c['rejects']} rejects, "
                f"{len(fills)} fills, {c['errors']} errors, PnL {self.pnl(sid):.2f}"
            )
            for p in self.positions_of(sid):
                lines.append(
                    f"    instrument {p.instrument_id}: net {p.net_qty} realized {p.realized_pnl:.2f} "
                    f"unrealized {p.unrealized_pnl:.2f} fees {p.fees:.2f}"
                )
            stats = self.strategy_stats.get(s["name"])
            if stats:
                lines.append("    " + ", ".join(f"{k} {v}" for k, v in stats.items()))
        if self.risk_events:
            lines.append(f"  {len(self.risk_events)} risk events, first: {self.risk_events[0]}")
        return "\n".join(lines)
