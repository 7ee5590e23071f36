"""The replay bar: says loudly that the screen shows a recording, and where in it the replay is: the
speed, playing / paused / end / seeking, the replay clock (UTC), the offset in the recording, the record
position (n of N and percent) and the journal's name; a second, red line when the journal is damaged."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from tui import fmt
from tui.replay_clock import format_speed
from tui.replay_engine import ReplayStatus
from tui.replay_time import format_offset
from tui.widgets.text import set_text


def replay_line(s: ReplayStatus) -> str:
    """The bar's markup (first line: state, clock, position; second: damage, if any)."""
    if s.seeking_to is not None:
        state = f"[bold black on yellow] SEEKING → {fmt.clock(s.seeking_to)} [/]"
    elif s.ended:
        state = "[bold white on blue] END [/]"
    elif s.paused:
        state = "[bold black on yellow] ‖ PAUSED [/]"
    else:
        state = "[bold black on green] ▶ PLAYING [/]"
    pct = 100 * s.position // s.total if s.total else 100
    parts = [
        f"[bold white on magenta] REPLAY {format_speed(s.speed)} [/]",
        state,
        f"[b]{fmt.clock(s.replay_ns)}[/b] UTC",
        f"{format_offset(s.replay_ns - s.first_ns)}/{format_offset(s.last_ns - s.first_ns)[1:]}",
        f"rec {s.position}/{s.total} ({pct}%)",
        f"[dim]{escape(s.journal)}[/dim]",
    ]
    line = " ".join(parts)
    if s.damage:
        line += f"\n[bold white on red] {escape(s.damage)} [/]"
    return line


class ReplayBar(Static):
    def show(self, status: ReplayStatus) -> None:
        set_text(self, replay_line(status), layout=True)
