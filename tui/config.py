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

# Journal replay (`aerodesk tui --journal`): binding id -> (default keys, footer label, palette title).
# Remappable in an optional [replay_keys] table by the name after "replay_" (e.g. pause = "p"). They
# must differ from each other; in a replay they take precedence over a live binding of the same key
# (by default `[` and `]` change the speed instead of the instrument: `i` and the palette still pick it).
REPLAY_BINDINGS: dict[str, tuple[str, str, str]] = {
    "replay_pause": ("space", "Play", "Replay: pause or resume"),
    "replay_step": ("full_stop", "Step", "Replay: step one record"),
    "replay_step_message": ("n", "Next msg", "Replay: step to the next market-data or state message"),
    "replay_slower": ("left_square_bracket", "Slow", "Replay: slower"),
    "replay_faster": ("right_square_bracket", "Fast", "Replay: faster"),
    "replay_back": ("left", "-10s", "Replay: seek back 10 s"),
    "replay_forward": ("right", "+10s", "Replay: seek forward 10 s"),
    "replay_seek": ("g", "Seek", "Replay: seek to a time"),
    "replay_start": ("home", "Start", "Replay: seek to the start"),
    "replay_end": ("end", "End", "Replay: seek to the end"),
}


@dataclass(frozen=True)
class TuiConfig:
    theme: str = "dark"
    render_hz: int = 15
    model: ModelConfig = field(default_factory=ModelConfig)
    risk_refresh_ms: int = 2000
    action_timeout_ms: int = 5000
    keys: dict[str, str] = field(default_factory=lambda: {k: v[0] for k, v in BINDINGS.items()})
    replay_keys: dict[str, str] = field(default_factory=lambda: {k: v[0] for k, v in REPLAY_BINDINGS.items()})
    path: Path | None = None


def default_path() -> Path:
    return configs_dir() / "tui.toml"


def load_tui_config(path: str | Path | None = None) -> TuiConfig:
    p = Path(path) if path is not None else default_path()
    root = load_toml(p)
    display = root.table("display", default_empty=True)
    timing = root.table("timing", default_empty=True)
    keys_table = root.table("keys", default_empty=True)
    replay_table = root.table("replay_keys", default_empty=True)
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
        replay_keys=_replay_keys(replay_table),
        path=p,
    )


def _keys(t: Table) -> dict[str, str]:
    out = {k: v[0] for k, v in BINDINGS.items()}
    for name in list(t.keys()):
        if name not in BINDINGS:
            raise t.error(name, f"unknown binding (known: {', '.join(BINDINGS)})")
        out[name] = _key_list(t, name)
    owner: dict[str, str] = {}
    for name, value in out.items():
        for key in value.split(","):
            if key in owner:
                raise ConfigError(t.file, t.key(name), f"key {key!r} is already bound to {owner[key]!r}")
            owner[key] = name
    return out


def _replay_keys(t: Table) -> dict[str, str]:
    out = {k: v[0] for k, v in REPLAY_BINDINGS.items()}
    names = [k.removeprefix("replay_") for k in REPLAY_BINDINGS]
    set_here: set[str] = set()
    for name in list(t.keys()):
        binding_id = f"replay_{name}"
        if binding_id not in REPLAY_BINDINGS:
            raise t.error(name, f"unknown replay binding (known: {', '.join(names)})")
        out[binding_id] = _key_list(t, name)
        set_here.add(binding_id)
    owner: dict[str, str] = {}
    # the defaults first, so a clash is reported at the key the file sets
    for binding_id in sorted(out, key=lambda b: b in set_here):
        for key in out[binding_id].split(","):
            if key in owner:
                raise ConfigError(
                    t.file,
                    t.key(binding_id.removeprefix("replay_")),
                    f"key {key!r} is already bound to {owner[key].removeprefix('replay_')!r}",
                )
            owner[key] = binding_id
    return out


def _key_list(t: Table, name: str) -> str:
    value = t.get(name, str)
    keys = [k.strip() for k in value.split(",")]
    if not value.strip() or any(not k or " " in k for k in keys):
        raise t.error(name, f"expected a key name or comma-separated key names, got {value!r}")
    return ",".join(keys)


def _int_in(t: Table, name: str, default: int, low: int, high: int) -> int:
    value = t.get(name, int, default)
    if not low <= value <= high:
        raise t.error(name, f"must be between {low} and {high}, got {value}")
    return value
