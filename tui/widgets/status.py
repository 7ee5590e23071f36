"""The status bar (desk, link state, kill switch, clock) and the banner that says loudly when what is
on screen is not live or the kill switch is engaged."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual.widgets import Static

from tui import fmt
from tui.model.staleness import DeskStatus
from tui.model.view import DeskView
from tui.widgets.text import set_text

_STATUS_STYLE = {
    DeskStatus.LIVE: "bold green",
    DeskStatus.CONNECTING: "bold yellow",
    DeskStatus.DEGRADED: "bold black on yellow",
    DeskStatus.STALE: "bold white on red",
    DeskStatus.DOWN: "bold white on red",
}


class StatusBar(Static):
    def show(self, view: DeskView | None, *, read_only: bool, screen_stale: str, wall_ns: int) -> None:
        parts: list[str] = []
        if view is None:
            parts.append("[b]aerodesk[/b]  [bold yellow]STARTING[/]")
        else:
            link = view.link
            status = DeskStatus.STALE if screen_stale and link.status != DeskStatus.DOWN else link.status
            parts.append(f"[b]aerodesk[/b] {link.instance}")
            parts.append(f"[{_STATUS_STYLE[status]}] {status.value} [/]")
            kill = view.kill
            if kill.engaged:
                parts.append("[bold white on red] KILL ENGAGED [/]")
            elif kill.engaged is None:
                parts.append("[yellow]kill ?[/yellow]")
            else:
                parts.append("[green]kill off[/green]")
            parts.append(f"md {fmt.rate(link.md_rate)}")
            if link.behind:
                parts.append("[bold red]BEHIND[/]")
        if read_only:
            parts.append("[bold black on cyan] READ-ONLY [/]")
        parts.append(f"[dim]{fmt.clock(wall_ns)[:8]} UTC[/dim]")
        set_text(self, "  ".join(parts))


class Banner(Static):
    """Hidden while all is well; otherwise one or two lines, red for a stale desk or an engaged kill."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._last: Any = None

    def show(self, view: DeskView | None, screen_stale: str) -> None:
        lines: list[str] = []
        severity = ""
        if view is not None:
            link = view.link
            if link.status in (DeskStatus.DOWN, DeskStatus.STALE):
                lines.append(f"■ {link.status.value}: {link.status_text} — data shown is NOT live")
                severity = "-error"
            elif screen_stale:
                lines.append(f"■ STALE: {screen_stale} — data shown is NOT live")
                severity = "-error"
            elif link.status == DeskStatus.DEGRADED:
                lines.append(f"▲ DEGRADED: {link.status_text}")
                severity = severity or "-warning"
            if link.resyncing:
                lines.append(f"↻ resync: {link.resyncing}")
                severity = severity or "-warning"
            if view.kill.engaged:
                reason = view.kill.reason or "no reason given"
                lines.insert(0, f"■ KILL SWITCH ENGAGED — {reason} — new orders are refused")
                severity = "-error"
        elif screen_stale:
            lines.append(f"■ {screen_stale}")
            severity = "-error"
        key = (tuple(lines), severity)
        if key == self._last:
            return
        self._last = key
        set_text(self, escape("\n".join(lines)), layout=True)
        self.display = bool(lines)
        for c in ("-error", "-warning"):
            self.set_class(c == severity, c)
