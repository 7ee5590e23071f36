"""When is what the TUI shows no longer live? Pure rules over the model's receive times.

- The desk is DOWN when there is no bus connection (no media driver, or it was lost).
- It is STALE when connected but no daemon has sent a heartbeat within `stale_after` (every daemon
  beats every heartbeat_interval_ms, 250 ms in the demo profile).
- It is DEGRADED when some daemon is silent that long, or says it is Degraded.
- A book is stale when no market data for it arrived within `book_stale_after` (the md republishes
  every book periodically, so a live feed never trips it), when its feed reports trouble, or while it
  is out of sync.
- The screen itself is stale when the UI has not had a fresh view from the bus worker within
  `stale_after` (the worker is stuck or starved): the UI checks this on its own timer.
- The worker is BEHIND when the market data it folds is older than `behind_after` on arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.codec.messages import DaemonState

if TYPE_CHECKING:
    from tui.model.books import BookState
    from tui.model.health import DaemonHealth

NS_PER_MS = 1_000_000


class DeskStatus(StrEnum):
    CONNECTING = "CONNECTING"
    LIVE = "LIVE"
    DEGRADED = "DEGRADED"
    STALE = "STALE"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class StaleRules:
    stale_after_ns: int = 3_000 * NS_PER_MS
    book_stale_after_ns: int = 5_000 * NS_PER_MS
    behind_after_ns: int = 1_000 * NS_PER_MS


def daemon_stale(d: DaemonHealth, now_ns: int, rules: StaleRules) -> bool:
    return now_ns - d.last_seen_ns > rules.stale_after_ns


def desk_status(
    *,
    connected: bool,
    connected_since_ns: int,
    last_beat_ns: int,
    daemons: list[DaemonHealth],
    now_ns: int,
    rules: StaleRules,
    down_text: str = "not connected to the desk",
) -> tuple[DeskStatus, str]:
    if not connected:
        return DeskStatus.DOWN, down_text
    if last_beat_ns == 0 or last_beat_ns < connected_since_ns:
        waited = now_ns - connected_since_ns
        if waited <= rules.stale_after_ns:
            return DeskStatus.CONNECTING, "connected; waiting for the daemons' heartbeats"
        return DeskStatus.STALE, f"no heartbeat from any daemon in {_secs(waited)}"
    silent = now_ns - last_beat_ns
    if silent > rules.stale_after_ns:
        return DeskStatus.STALE, f"no heartbeat from any daemon for {_secs(silent)}"
    troubled = []
    for d in daemons:
        if d.state == DaemonState.Stopping:
            continue  # said goodbye: shown, not a fault
        if daemon_stale(d, now_ns, rules):
            troubled.append(f"{_name(d)} silent for {_secs(now_ns - d.last_seen_ns)}")
        elif d.state == DaemonState.Degraded:
            troubled.append(f"{_name(d)} degraded")
    if troubled:
        return DeskStatus.DEGRADED, "; ".join(troubled)
    return DeskStatus.LIVE, ""


def book_stale_reason(b: BookState, now_ns: int, rules: StaleRules) -> str:
    """Why a book is not live ("" when it is)."""
    if not b.feed_ok:
        return f"feed {b.feed_status.name}" + (f": {b.feed_text}" if b.feed_text else "")
    if not b.synced:
        return b.out_of_sync_reason
    if b.last_local_ns and now_ns - b.last_local_ns > rules.book_stale_after_ns:
        return f"no market data for {_secs(now_ns - b.last_local_ns)}"
    return ""


def _name(d: DaemonHealth) -> str:
    return d.role if d.strategy_id == 0 else f"{d.role}/{d.strategy_id}"


def _secs(ns: int) -> str:
    # Whole seconds past ten: the text (and so the screen) changes once a second, not every frame.
    return f"{ns / 1e9:.1f} s" if ns < 10_000_000_000 else f"{ns // 1_000_000_000} s"
