"""The blotter: working orders (cancel the one under the cursor) and recent fills, both sortable by any
column (header click or the sort key on the cursor's column)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical

from tui import fmt
from tui.model.orders import FillRow, OrderRow
from tui.model.view import DeskView
from tui.widgets.context import RenderContext
from tui.widgets.keyed_table import Cell, Column, KeyedTable, num

ORDER_COLUMNS = (
    Column("id", "Order"),
    Column("strategy", "Strat"),
    Column("instrument", "Instr"),
    Column("side", "Side"),
    Column("price", "Price"),
    Column("qty", "Qty"),
    Column("filled", "Filled"),
    Column("status", "Status"),
    Column("tif", "TIF"),
    Column("updated", "Updated"),
)
FILL_COLUMNS = (
    Column("time", "Time"),
    Column("instrument", "Instr"),
    Column("side", "Side"),
    Column("price", "Price"),
    Column("qty", "Qty"),
    Column("strategy", "Strat"),
    Column("order", "Order"),
    Column("fee", "Fee"),
)


def _side(side: int) -> Cell:
    return Cell(fmt.SIDE_NAMES.get(side, str(side)), "green" if side == 1 else "red", side)


def order_cells(o: OrderRow, ctx: RenderContext) -> tuple[Cell, ...]:
    inst = ctx.catalog.get(o.instrument_id)
    return (
        num(str(o.order_id), o.order_id),
        Cell(fmt.strategy(o.strategy_id, ctx.strategy_names), sort=o.strategy_id),
        Cell(fmt.symbol(ctx.catalog, o.instrument_id)),
        _side(o.side),
        num(fmt.price(inst, o.price), o.price if o.price is not None else -1),
        num(fmt.qty(inst, o.qty), o.qty),
        num(fmt.qty(inst, o.cum_qty), o.cum_qty),
        Cell(o.status.name, "yellow" if o.status.name.startswith("Pending") else ""),
        Cell(fmt.TIF_NAMES.get(o.tif, str(o.tif))),
        Cell(fmt.clock(o.updated_ts), "dim", o.updated_ts),
    )


def fill_cells(f: FillRow, ctx: RenderContext) -> tuple[Cell, ...]:
    inst = ctx.catalog.get(f.instrument_id)
    return (
        Cell(fmt.clock(f.ts), "dim", f.ts),
        Cell(fmt.symbol(ctx.catalog, f.instrument_id)),
        _side(f.side),
        num(fmt.price(inst, f.price), f.price),
        num(fmt.qty(inst, f.qty), f.qty),
        Cell(fmt.strategy(f.strategy_id, ctx.strategy_names), sort=f.strategy_id),
        num(str(f.order_id), f.order_id),
        num(fmt.money(f.fee), f.fee),
    )


class OrdersPane(Vertical):
    BORDER_TITLE = "Working orders"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: Any = None

    def compose(self) -> ComposeResult:
        table = KeyedTable(ORDER_COLUMNS, id="orders-table")
        table.sort_column = "id"
        yield table

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#orders-table", KeyedTable)

    def show(self, view: DeskView, ctx: RenderContext) -> None:
        if view.orders is self._key:
            return
        self._key = view.orders
        self.table.sync({f"o{o.order_id}": order_cells(o, ctx) for o in view.orders})
        self.border_subtitle = f"{len(view.orders)} working"

    def selected_order_id(self) -> int | None:
        key = self.table.cursor_key()
        return int(key[1:]) if key and key.startswith("o") else None


class FillsPane(Vertical):
    BORDER_TITLE = "Recent fills"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: Any = None

    def compose(self) -> ComposeResult:
        table = KeyedTable(FILL_COLUMNS, id="fills-table")
        table.sort_column, table.sort_reverse = "time", True  # newest first until the trader sorts
        yield table

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#fills-table", KeyedTable)

    def show(self, view: DeskView, ctx: RenderContext) -> None:
        if view.fills is self._key:
            return
        self._key = view.fills
        self.table.sync({f"f{f.exec_id}:{f.order_id}": fill_cells(f, ctx) for f in view.fills})
        self.border_subtitle = f"{len(view.fills)} fills"
