"""The TUI's settings (configs/tui.toml), loaded strictly: every error names the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config import ConfigError, Table, configs_dir, load_toml
from tui.model.desk import ModelConfig
from tui.model.staleness import NS_PER_MS, StaleRules

THEMES = ("dark", "light")

# binding id -> (default key, footer label, whether it acts on the desk and is refused read-only)
BINDINGS: dict[str, tuple[str, str, bool]] = {
    "kill": ("k", "Kill", True),
    "release": ("K", "Release", True),
    "flatten": ("f", "Flatten", True),
    "flatten_all": ("F", "Flatten all", True),
    "cancel_order": ("c", "Cancel", True),
    "cancel_all": ("C", "Cancel all", True),
    "order_ticket": ("o", "Order", True),
    "pick_instrument": ("i", "Instrument", False),
    "next_instrument": ("right_square_bracket", "Next", False),
    "prev_instrument": ("left_square_bracket", "Prev", False),
    "pane_positions": ("1", "Positions", False),
    "pane_orders": ("2", "Orders", False),
    "pane_fills": ("3", "Fills", False),
    "pane_risk": ("4", "Risk", False),
    "pane_health": ("5", "Health", False),
    "pane_log": ("6", "Messages", False),
    "sort": ("s", "Sort", False),
    "toggle_theme": ("t", "Theme", False),
    "quit": ("q", "Quit", False),
}
ACTIONS = frozenset(k for k, (_key, _label, acts) in BINDINGS.items() if acts)


@dataclass(frozen=True)
class TuiConfig:
    theme: str = "dark"
    render_hz: int = 15
    model: ModelConfig = field(default_factory=ModelConfig)
    risk_refresh_ms: int = 2000
    action_timeout_ms: int = 5000
    keys: dict[str, str] = field(default_factory=lambda: {k: v[0] for k, v in BINDINGS.items()})
    path: Path | None = None


def default_path() -> Path:
    return configs_dir() / "tui.toml"


def load_tui_config(path: str | Path | None = None) -> TuiConfig:
    p = Path(path) if path is not None else default_path()
    root = load_toml(p)
    display = root.table("display", default_empty=True)
    timing = root.table("timing", default_empty=True)
    keys_table = root.table("keys", default_empty=True)
    root.reject_unknown()

    theme = display.get("theme", str, "dark")
    if theme not in THEMES:
        raise display.error("theme", f"must be one of {', '.join(THEMES)}, got {theme!r}")
    render_hz = _int_in(display, "render_hz", 15, 5, 30)
    model = ModelConfig(
        depth=_int_in(display, "book_depth", 10, 1, 100),
        trades_kept=_int_in(display, "trades_kept", 32, 1, 1000),
        fills_kept=_int_in(display, "fills_kept", 200, 1, 10_000),
        events_kept=_int_in(display, "risk_events_kept", 100, 1, 10_000),
        rules=StaleRules(
            stale_after_ns=_int_in(timing, "stale_after_ms", 3000, 100, 600_000) * NS_PER_MS,
            book_stale_after_ns=_int_in(timing, "book_stale_after_ms", 5000, 100, 600_000) * NS_PER_MS,
            behind_after_ns=_int_in(timing, "behind_after_ms", 1000, 10, 600_000) * NS_PER_MS,
        ),
    )
    risk_refresh_ms = _int_in(timing, "risk_refresh_ms", 2000, 100, 600_000)
    action_timeout_ms = _int_in(timing, "action_timeout_ms", 5000, 100, 600_000)
    display.reject_unknown()
    timing.reject_unknown()
    return TuiConfig(
        theme=theme,
        render_hz=render_hz,
        model=model,
        risk_refresh_ms=risk_refresh_ms,
        action_timeout_ms=action_timeout_ms,
        keys=_keys(keys_table),
        path=p,
    )


def _keys(t: Table) -> dict[str, str]:
    out = {k: v[0] for k, v in BINDINGS.items()}
    for name in list(t.keys()):
        if name not in BINDINGS:
            raise t.error(name, f"unknown binding (known: {', '.join(BINDINGS)})")
        value = t.get(name, str)
        keys = [k.strip() for k in value.split(",")]
        if not value.strip() or any(not k or " " in k for k in keys):
            raise t.error(name, f"expected a key name or comma-separated key names, got {value!r}")
        out[name] = ",".join(keys)
    owner: dict[str, str] = {}
    for name, value in out.items():
        for key in value.split(","):
            if key in owner:
                raise ConfigError(t.file, t.key(name), f"key {key!r} is already bound to {owner[key]!r}")
            owner[key] = name
    return out


def _int_in(t: Table, name: str, default: int, low: int, high: int) -> int:
    value = t.get(name, int, default)
    if not low <= value <= high:
        raise t.error(name, f"must be between {low} and {high}, got {value}")
    return value
