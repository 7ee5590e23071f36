"""Desk health: each daemon's heartbeat age and state, the TUI's own bus counters, and tick-to-order
latency percentiles (from LatencySample messages, else from strategies' NewOrder timestamps)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui import fmt
from tui.model.view import DeskView
from tui.widgets.context import RenderContext
from tui.widgets.keyed_table import Cell, Column, KeyedTable, num
from tui.widgets.text import set_text

DAEMON_COLUMNS = (
    Column("daemon", "Daemon"),
    Column("state", "State"),
    Column("age", "Beat age"),
    Column("pid", "PID"),
    Column("up", "Up"),
    Column("counters", "Top counters"),
)
LATENCY_COLUMNS = (
    Column("stage", "Latency"),
    Column("n", "n"),
    Column("p50", "p50"),
    Column("p99", "p99"),
    Column("max", "max"),
)


class HealthPane(Vertical):
    BORDER_TITLE = "Desk health"

    REFRESH_NS = 500_000_000  # ages move on screen twice a second: enough, and cheap

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._latency_key: Any = None
        self._shown_ns = -self.REFRESH_NS

    def compose(self) -> ComposeResult:
        yield KeyedTable(DAEMON_COLUMNS, id="daemons-table", cursor_type="none")
        yield KeyedTable(LATENCY_COLUMNS, id="latency-table", cursor_type="none")
        yield Static("", id="health-bus")

    def show(self, view: DeskView, ctx: RenderContext) -> None:
        if 0 <= view.built_ns - self._shown_ns < self.REFRESH_NS:
            return
        self._shown_ns = view.built_ns
        rows: dict[str, tuple[Cell, ...]] = {}
        for d in view.daemons:
            if d.stale:
                state = Cell(f"STALE ({d.state})", "bold red")
            elif d.state == "Running":
                state = Cell(d.state, "green")
            else:
                state = Cell(d.state, "yellow")
            counters = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in d.counters[:3])
            rows[f"d{d.name}"] = (
                Cell(d.name),
                state,
                num(fmt.age(d.age_ns), d.age_ns, "bold red" if d.stale else ""),
                num(str(d.pid), d.pid, "dim"),
                num(fmt.age(d.uptime_ns) if d.uptime_ns else "-", d.uptime_ns, "dim"),
                Cell(counters, "dim"),
            )
        self.query_one("#daemons-table", KeyedTable).sync(rows)
        if view.latency is not self._latency_key:
            self._latency_key = view.latency
            lat: dict[str, tuple[Cell, ...]] = {}
            for stage, n, p50, p99, mx in view.latency.stages:
                lat[stage] = (
                    Cell(stage),
                    num(str(n), n, "dim"),
                    num(fmt.duration(p50), p50),
                    num(fmt.duration(p99), p99),
                    num(fmt.duration(mx), mx, "dim"),
                )
            if not lat:
                lat["none"] = (
                    Cell("tick→order", "dim"),
                    Cell(""),
                    Cell("no samples yet", "dim"),
                    Cell(""),
                    Cell(""),
                )
            self.query_one("#latency-table", KeyedTable).sync(lat)
            self.border_subtitle = f"latency from {view.latency.source}" if view.latency.source else ""
        link = view.link
        counters = "  ".join(f"{k} {v}" for k, v in link.bus_counters)
        behind = f"  [bold red]BEHIND {fmt.duration(link.lag_ns)}[/]" if link.behind else ""
        set_text(
            self.query_one("#health-bus", Static),
            f"md {link.md_rate:,}/s  lag {fmt.duration(link.lag_ns)}  rejoins {link.rejoins}{behind}\n"
            f"[dim]{counters}[/dim]",
        )
