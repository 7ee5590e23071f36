"""Working orders and recent fills, folded from ExecutionReports and OrdersSnapshot replies.

The oms is the single writer of order state and publishes every change on the state stream; this is a
read-only mirror for display. Terminal orders (filled, canceled, rejected, expired) leave the working
set; every execution with a fill (ExecType Trade) goes on the fills tape.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.codec.messages import ExecType, OrdStatus
from tui.model.money import ZERO, dec

TERMINAL = frozenset({OrdStatus.Filled, OrdStatus.Canceled, OrdStatus.Rejected, OrdStatus.Expired})
_REQUEST_REJECTS = frozenset({ExecType.CancelRejected, ExecType.ReplaceRejected})
_FINISHED_KEPT = 10_000
_REJECTS_KEPT = 1_000


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: int
    cl_ord_id: int
    strategy_id: int
    instrument_id: int
    side: int  # Side: 1 buy, 2 sell
    ord_type: int
    tif: int
    status: OrdStatus
    price: int | None  # mantissa; None for market orders
    qty: int
    cum_qty: int
    leaves_qty: int
    avg_px: Decimal
    updated_ts: int


@dataclass(frozen=True, slots=True)
class FillRow:
    ts: int
    exec_id: int
    order_id: int
    strategy_id: int
    instrument_id: int
    side: int
    price: int
    qty: int
    fee: Decimal


class OrderBlotter:
    def __init__(self, fills_kept: int = 200) -> None:
        self.working: dict[int, OrderRow] = {}
        self.fills: deque[FillRow] = deque(maxlen=fills_kept)
        # How recent orders ended, and refused cancel/replace requests by correlation id: how the TUI
        # learns the fate of its own cancels whoever owns the order (those reports go to the owner).
        self.finished: OrderedDict[int, OrdStatus] = OrderedDict()
        self.request_rejects: OrderedDict[int, str] = OrderedDict()
        self.version = 0

    def on_execution_report(self, m: Any) -> None:
        status = m.ordStatus
        row = OrderRow(
            order_id=m.orderId,
            cl_ord_id=m.clOrdId,
            strategy_id=m.strategyId,
            instrument_id=m.instrumentId,
            side=int(m.side),
            ord_type=int(m.ordType),
            tif=int(m.timeInForce),
            status=status,
            price=m.price,
            qty=m.qty,
            cum_qty=m.cumQty,
            leaves_qty=m.leavesQty,
            avg_px=dec(m.avgPx),
            updated_ts=m.ts or m.transactTs,
        )
        if m.execType in _REQUEST_REJECTS:
            _remember(
                self.request_rejects,
                m.correlationId,
                f"{m.reason.name}: {m.text}" if m.text else m.reason.name,
                _REJECTS_KEPT,
            )
            if m.orderId in self.working:  # the order itself goes on as it was
                self.working[m.orderId] = row
        elif status in TERMINAL or m.orderId == 0:
            self.working.pop(m.orderId, None)
            if m.orderId:
                _remember(self.finished, m.orderId, status, _FINISHED_KEPT)
        else:
            self.working[m.orderId] = row
        if m.execType == ExecType.Trade and m.lastQty > 0 and m.lastPx is not None:
            self.fills.appendleft(
                FillRow(
                    ts=m.transactTs or m.ts,
                    exec_id=m.execId,
                    order_id=m.orderId,
                    strategy_id=m.strategyId,
                    instrument_id=m.instrumentId,
                    side=int(m.side),
                    price=m.lastPx,
                    qty=m.lastQty,
                    fee=dec(m.fee),
                )
            )
        self.version += 1

    def replace_working(self, entries: list[Any]) -> None:
        """The oms's answer to an Orders query (every page's entries): the whole working set."""
        self.working = {}
        for e in entries:
            if e.ordStatus in TERMINAL:
                continue
            self.working[e.orderId] = OrderRow(
                order_id=e.orderId,
                cl_ord_id=e.clOrdId,
                strategy_id=e.strategyId,
                instrument_id=e.instrumentId,
                side=int(e.side),
                ord_type=int(e.ordType),
                tif=int(e.timeInForce),
                status=e.ordStatus,
                price=e.price,
                qty=e.qty,
                cum_qty=e.cumQty,
                leaves_qty=e.leavesQty,
                avg_px=ZERO,
                updated_ts=e.updatedTs,
            )
        self.version += 1

    def own_levels(self, instrument_id: int) -> dict[tuple[int, int], int]:
        """Working leaves quantity per (side, price) of one instrument: our orders on the ladder."""
        out: dict[tuple[int, int], int] = {}
        for o in self.working.values():
            if o.instrument_id == instrument_id and o.price is not None and o.leaves_qty > 0:
                key = (o.side, o.price)
                out[key] = out.get(key, 0) + o.leaves_qty
        return out


def _remember(d: OrderedDict, key: int, value: object, keep: int) -> None:
    d[key] = value
    d.move_to_end(key)
    while len(d) > keep:
        d.popitem(last=False)
