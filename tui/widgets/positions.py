"""Positions and PnL: one row per strategy and instrument, a total per strategy, the desk's net position
per instrument (every strategy and manual orders together), and the desk total as the oms states it
(AccountState: realized, unrealized, daily, gross and net exposure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui import fmt
from tui.model.view import DeskView
from tui.widgets.context import RenderContext
from tui.widgets.keyed_table import Cell, Column, KeyedTable, num
from tui.widgets.text import set_text

COLUMNS = (
    Column("strategy", "Strategy"),
    Column("instrument", "Instr"),
    Column("net", "Net"),
    Column("upnl", "uPnL"),
    Column("rpnl", "rPnL"),
    Column("exposure", "Exposure"),
    Column("avg", "Avg px"),
)


def _pnl(value: Decimal) -> Cell:
    style = "green" if value > 0 else "red" if value < 0 else ""
    return num(fmt.signed_money(value), value, style)


class PositionsPane(Vertical):
    BORDER_TITLE = "Positions & PnL"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: Any = None

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="positions-table")
        yield Static("", id="positions-total")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#positions-table", KeyedTable)

    def show(self, view: DeskView, ctx: RenderContext) -> None:
        key = (view.positions, view.desk_positions, view.strategy_totals, view.desk_total)
        if key == self._key:
            return
        self._key = key
        rows: dict[str, tuple[Cell, ...]] = {}
        positions = [p for p in view.positions if p.net_qty != 0 or p.realized != 0]
        for t in view.strategy_totals:
            name = fmt.strategy(t.strategy_id, ctx.strategy_names)
            for p in positions:
                if p.strategy_id != t.strategy_id:
                    continue
                inst = ctx.catalog.get(p.instrument_id)
                side_style = "green" if p.net_qty > 0 else "red" if p.net_qty < 0 else "dim"
                rows[f"p{p.strategy_id}:{p.instrument_id}"] = (
                    Cell(name, sort=(p.strategy_id, 0)),
                    Cell(fmt.symbol(ctx.catalog, p.instrument_id)),
                    num(fmt.qty(inst, p.net_qty), p.net_qty, side_style),
                    _pnl(p.unrealized),
                    _pnl(p.realized),
                    num(fmt.money(_exposure(p, ctx)), _exposure(p, ctx)),
                    num(f"{p.avg_px.normalize():f}" if p.net_qty else "-", p.avg_px),
                )
            rows[f"t{t.strategy_id}"] = (
                Cell(f"{name} total", "bold", sort=(t.strategy_id, 1)),
                Cell(""),
                Cell(""),
                _pnl(t.unrealized),
                _pnl(t.realized),
                num(fmt.money(t.exposure), t.exposure, "bold"),
                Cell(""),
            )
        for p in view.desk_positions:
            if p.net_qty == 0 and p.realized == 0 and p.unrealized == 0:
                continue
            inst = ctx.catalog.get(p.instrument_id)
            side_style = "bold green" if p.net_qty > 0 else "bold red" if p.net_qty < 0 else "dim"
            exposure = _exposure(p, ctx)
            rows[f"d{p.account_id}:{p.instrument_id}"] = (
                Cell("DESK", "bold", sort=(1 << 40, p.instrument_id)),
                Cell(fmt.symbol(ctx.catalog, p.instrument_id), "bold"),
                num(fmt.qty(inst, p.net_qty), p.net_qty, side_style),
                _pnl(p.unrealized),
                _pnl(p.realized),
                num(fmt.money(exposure), exposure, "bold"),
                num(f"{p.avg_px.normalize():f}" if p.net_qty else "-", p.avg_px),
            )
        self.table.sync(rows)
        total = self.query_one("#positions-total", Static)
        d = view.desk_total
        if d is None:
            set_text(total, "[dim]desk total: no account state from the oms yet[/dim]", layout=True)
        else:
            pnl = d.pnl
            colour = "green" if pnl > 0 else "red" if pnl < 0 else "white"
            set_text(
                total,
                f"[b]Desk[/b] PnL [{colour}]{fmt.signed_money(pnl)}[/] "
                f"(r {fmt.signed_money(d.realized)} u {fmt.signed_money(d.unrealized)})  "
                f"day {fmt.signed_money(d.daily)}  gross {fmt.money(d.gross_exposure)}  "
                f"net {fmt.money(d.net_exposure)}  open {d.open_orders}",
                layout=True,
            )


def _exposure(p: Any, ctx: RenderContext) -> Decimal:
    inst = ctx.catalog.get(p.instrument_id)
    if inst is None or p.net_qty == 0:
        return Decimal(0)
    if inst.inverse:
        return inst.qty(abs(p.net_qty)) * inst.multiplier
    if p.mark_px is None:
        return Decimal(0)
    return inst.notional(p.mark_px, abs(p.net_qty))
