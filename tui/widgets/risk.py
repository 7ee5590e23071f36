"""The risk panel: the kill switch, unmistakable; each limit with its current use; recent risk events
with their reasons. Everything here is what the oms reported; nothing is computed locally."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui import fmt
from tui.model.risk import KillState
from tui.model.view import DeskView
from tui.widgets.context import RenderContext
from tui.widgets.keyed_table import Cell, Column, KeyedTable, num
from tui.widgets.text import set_text

LIMIT_COLUMNS = (
    Column("name", "Limit"),
    Column("use", "Use"),
    Column("used", "Used"),
    Column("value", "Limit"),
    Column("scope", "Scope"),
)
EVENT_COLUMNS = (
    Column("time", "Time"),
    Column("event", "Event"),
    Column("reason", "Reason"),
    Column("scope", "Scope"),
    Column("detail", "Detail"),
)
_BAR = 5


def kill_markup(kill: KillState) -> tuple[str, str]:
    """(markup, css class) of the kill-switch line."""
    if kill.engaged is None:
        return "[b]KILL SWITCH: UNKNOWN[/b] — no word from the oms yet", "-kill-unknown"
    if kill.engaged:
        who = f" by {escape(kill.operator.split(' pid ')[0])}" if kill.operator else ""
        when = f" {fmt.clock(kill.changed_ts)[:8]}" if kill.changed_ts else ""
        reason = kill.reason or "no reason given"
        return f"[b]■ KILL SWITCH ENGAGED[/b]{when}{who}: {escape(reason)}", "-kill-engaged"
    return "[b]kill switch: off[/b] (trading allowed)", "-kill-off"


def use_bar(fraction: Any) -> Cell:
    if fraction is None:
        return Cell("-", "dim")
    filled = min(_BAR, int(fraction * _BAR))
    pct = int(fraction * 100)
    style = "bold red" if fraction >= 1 else "yellow" if fraction * 10 >= 8 else "green"
    return Cell("█" * filled + "░" * (_BAR - filled) + f" {pct:3d}%", style, fraction)


class RiskPane(Vertical):
    BORDER_TITLE = "Risk"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="risk-kill")
        yield Static("", id="risk-daily")
        yield KeyedTable(LIMIT_COLUMNS, id="limits-table", cursor_type="none")
        events = KeyedTable(EVENT_COLUMNS, id="events-table", cursor_type="none")
        events.sort_column, events.sort_reverse = "time", True  # newest first
        yield events

    def show(self, view: DeskView, ctx: RenderContext) -> None:
        key = (view.kill, view.limits, view.risk_events, view.daily_pnl)
        if key == self._key:
            return
        self._key = key
        markup, css = kill_markup(view.kill)
        line = self.query_one("#risk-kill", Static)
        set_text(line, markup, layout=True)
        for c in ("-kill-engaged", "-kill-off", "-kill-unknown"):
            line.set_class(c == css, c)
        set_text(
            self.query_one("#risk-daily", Static),
            f"daily PnL {fmt.signed_money(view.daily_pnl)}   limits {len(view.limits)}",
        )
        limits: dict[str, tuple[Cell, ...]] = {}
        for i, lim in enumerate(view.limits):
            scope = _scope(lim.strategy_id, lim.instrument_id, ctx)
            limits[f"l{i}:{lim.name}:{lim.strategy_id}:{lim.instrument_id}"] = (
                Cell(lim.name),
                use_bar(lim.use_fraction),
                num(_plain(lim.used), lim.used),
                num(_plain(lim.value), lim.value),
                Cell(scope, "dim"),
            )
        self.query_one("#limits-table", KeyedTable).sync(limits)
        events: dict[str, tuple[Cell, ...]] = {}
        for e in view.risk_events:
            detail = e.text
            if e.limit:
                detail = f"{_plain(e.value)} vs {_plain(e.limit)}" + (f"; {e.text}" if e.text else "")
            if e.operator:
                detail = f"{detail} ({e.operator})" if detail else e.operator
            style = "bold red" if e.event.name in ("KillEngaged", "DeadManTriggered", "FlattenFailed") else ""
            events[f"e{e.seq}:{e.ts}"] = (
                Cell(fmt.clock(e.ts), "dim", e.ts),
                Cell(e.event.name, style),
                Cell(e.reason.name if e.reason else "-"),
                Cell(_scope(e.strategy_id, e.instrument_id, ctx), "dim"),
                Cell(detail),
            )
        self.query_one("#events-table", KeyedTable).sync(events)


def _scope(strategy_id: int, instrument_id: int, ctx: RenderContext) -> str:
    parts = []
    if strategy_id:
        parts.append(fmt.strategy(strategy_id, ctx.strategy_names))
    if instrument_id:
        parts.append(fmt.symbol(ctx.catalog, instrument_id))
    return "/".join(parts) or "desk"


def _plain(value: Any) -> str:
    return f"{value.normalize():,f}" if hasattr(value, "normalize") else str(value)
