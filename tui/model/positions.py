"""Positions and PnL, folded from PositionUpdate, PositionsSnapshot and AccountState.

The oms publishes a PositionUpdate per strategy position (strategyId set) and per account position
(strategyId 0, the account's aggregate over its strategies), and an AccountState per account with the
desk-level totals. Per-strategy totals are sums of that strategy's rows; the desk total is the oms's
own AccountState (summed over accounts), never recomputed from rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.instruments import InstrumentCatalog
from tui.model.money import ZERO, dec


@dataclass(frozen=True, slots=True)
class PositionRow:
    account_id: int
    strategy_id: int  # 0: the account's aggregate
    instrument_id: int
    net_qty: int  # mantissa
    avg_px: Decimal  # price
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    mark_px: int | None  # mantissa

    @property
    def pnl(self) -> Decimal:
        return self.realized + self.unrealized


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: int
    realized: Decimal
    unrealized: Decimal
    daily: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    open_orders: int
    kill_engaged: bool


@dataclass(frozen=True, slots=True)
class StrategyTotal:
    strategy_id: int
    realized: Decimal
    unrealized: Decimal
    exposure: Decimal  # sum of |position| notional at the mark, quote currency

    @property
    def pnl(self) -> Decimal:
        return self.realized + self.unrealized


@dataclass(frozen=True, slots=True)
class DeskTotal:
    realized: Decimal
    unrealized: Decimal
    daily: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    open_orders: int

    @property
    def pnl(self) -> Decimal:
        return self.realized + self.unrealized


class Positions:
    def __init__(self, catalog: InstrumentCatalog) -> None:
        self.catalog = catalog
        self.rows: dict[tuple[int, int, int], PositionRow] = {}
        self.accounts: dict[int, AccountRow] = {}
        self.version = 0

    def on_position_update(self, m: Any) -> None:
        self._put(m)
        self.version += 1

    def replace(self, entries: list[Any]) -> None:
        """The oms's answer to a Positions query: every position."""
        self.rows = {}
        for e in entries:
            self._put(e)
        self.version += 1

    def on_account_state(self, m: Any) -> None:
        self.accounts[m.accountId] = AccountRow(
            account_id=m.accountId,
            realized=dec(m.realizedPnl),
            unrealized=dec(m.unrealizedPnl),
            daily=dec(m.dailyPnl),
            gross_exposure=dec(m.grossExposure),
            net_exposure=dec(m.netExposure),
            open_orders=m.openOrders,
            kill_engaged=bool(m.killEngaged),
        )
        self.version += 1

    def _put(self, m: Any) -> None:
        key = (m.accountId, m.strategyId, m.instrumentId)
        self.rows[key] = PositionRow(
            account_id=m.accountId,
            strategy_id=m.strategyId,
            instrument_id=m.instrumentId,
            net_qty=m.netQty,
            avg_px=dec(m.avgPx),
            realized=dec(m.realizedPnl),
            unrealized=dec(m.unrealizedPnl),
            fees=dec(m.fees),
            mark_px=m.markPx,
        )

    # -- reads ----------------------------------------------------------------------------------
    def strategy_rows(self) -> list[PositionRow]:
        rows = [r for r in self.rows.values() if r.strategy_id != 0]
        return sorted(rows, key=lambda r: (r.strategy_id, r.instrument_id))

    def desk_rows(self) -> list[PositionRow]:
        """The account positions (strategyId 0): every strategy's and manual trading's net, per instrument."""
        rows = [r for r in self.rows.values() if r.strategy_id == 0]
        return sorted(rows, key=lambda r: (r.account_id, r.instrument_id))

    def exposure(self, row: PositionRow) -> Decimal:
        """|position| notional at the mark in the quote currency (inverse: contracts x multiplier)."""
        inst = self.catalog.get(row.instrument_id)
        if inst is None or row.net_qty == 0:
            return ZERO
        if inst.inverse:
            return inst.qty(abs(row.net_qty)) * inst.multiplier
        if row.mark_px is None:
            return ZERO
        return inst.notional(row.mark_px, abs(row.net_qty))

    def strategy_totals(self) -> list[StrategyTotal]:
        acc: dict[int, list[Decimal]] = {}
        for r in self.rows.values():
            if r.strategy_id == 0:
                continue
            t = acc.setdefault(r.strategy_id, [ZERO, ZERO, ZERO])
            t[0] += r.realized
            t[1] += r.unrealized
            t[2] += self.exposure(r)
        return [StrategyTotal(sid, *acc[sid]) for sid in sorted(acc)]

    def desk_total(self) -> DeskTotal | None:
        if not self.accounts:
            return None
        a = list(self.accounts.values())
        return DeskTotal(
            realized=sum((x.realized for x in a), ZERO),
            unrealized=sum((x.unrealized for x in a), ZERO),
            daily=sum((x.daily for x in a), ZERO),
            gross_exposure=sum((x.gross_exposure for x in a), ZERO),
            net_exposure=sum((x.net_exposure for x in a), ZERO),
            open_orders=sum(x.open_orders for x in a),
        )
