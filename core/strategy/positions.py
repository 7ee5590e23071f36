"""A strategy's position in one instrument as the oms reports it (PositionUpdate messages).

net_qty and mark_px are int mantissas; money (avg_px, PnL, fees) is exact Decimal from the wire's
Decimal64, in the instrument's settlement currency; avg_px is a true price (not a mantissa).
"""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)


class Position:
    __slots__ = (
        "avg_px",
        "fees",
        "instrument_id",
        "mark_px",
        "net_qty",
        "realized_pnl",
        "seq",
        "ts",
        "unrealized_pnl",
        "updates",
    )

    def __init__(self, instrument_id: int) -> None:
        self.instrument_id = instrument_id
        self.net_qty = 0
        self.avg_px = ZERO
        self.realized_pnl = ZERO
        self.unrealized_pnl = ZERO
        self.fees = ZERO
        self.mark_px: int | None = None
        self.ts = 0
        self.seq = 0
        self.updates = 0  # PositionUpdates applied: 0 means the oms has not reported this position yet

    @property
    def total_pnl(self) -> Decimal:
        """Realized + unrealized - fees."""
        return self.realized_pnl + self.unrealized_pnl - self.fees

    def apply(self, m) -> bool:
        """Apply a PositionUpdate; False when it is older than what is held (seq not newer)."""
        if m.seq and m.seq <= self.seq:
            return False
        self.net_qty = m.netQty
        self.avg_px = _dec(m.avgPx)
        self.realized_pnl = _dec(m.realizedPnl)
        self.unrealized_pnl = _dec(m.unrealizedPnl)
        self.fees = _dec(m.fees)
        self.mark_px = m.markPx
        self.ts = m.ts
        self.seq = m.seq
        self.updates += 1
        return True

    def apply_row(self, row, ts: int) -> bool:
        """A row of the oms's PositionsSnapshot (no sequence number): taken only while no PositionUpdate
        was applied, so a snapshot answered later never overrides a newer update."""
        if self.updates:
            return False
        self.net_qty = row.netQty
        self.avg_px = _dec(row.avgPx)
        self.realized_pnl = _dec(row.realizedPnl)
        self.unrealized_pnl = _dec(row.unrealizedPnl)
        self.fees = _dec(row.fees)
        self.mark_px = row.markPx
        self.ts = ts
        self.updates += 1
        return True

    def __repr__(self) -> str:
        return (
            f"Position(instrument={self.instrument_id}, net={self.net_qty}, avg={self.avg_px}, "
            f"realized={self.realized_pnl}, unrealized={self.unrealized_pnl}, fees={self.fees})"
        )


def _dec(d) -> Decimal:
    if d is None:
        return ZERO
    return Decimal(d.mantissa).scaleb(d.exponent)
