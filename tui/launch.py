"""Building and running the TUI for a desk instance (used by `aerodesk tui` and `aerodesk demo`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from core.config import ConfigError
from core.instruments import InstrumentCatalog, load_instruments
from tui.app import AerodeskApp
from tui.config import TuiConfig, load_tui_config
from tui.link import DeskLink

log = logging.getLogger("aerodesk.tui")


def strategy_names(catalog: InstrumentCatalog) -> dict[int, str]:
    """Strategy id -> name from configs/strategies.toml; ids only if it cannot be read (display only)."""
    try:
        from core.strategy.config import load_strategies

        return {s.strategy_id: s.name for s in load_strategies(catalog=catalog).strategies}
    except Exception as e:  # a display nicety: never a reason not to show the desk
        log.debug("strategy names unavailable: %s", e)
        return {}


def build_app(
    instance: str,
    *,
    read_only: bool = False,
    theme: str | None = None,
    config_path: str | Path | None = None,
    config: TuiConfig | None = None,
    catalog: InstrumentCatalog | None = None,
) -> AerodeskApp:
    """A ready-to-run app attached (through its bus worker) to the desk `instance`.

    Raises ConfigError for a bad configs/tui.toml or instruments file.
    """
    cfg = config if config is not None else load_tui_config(config_path)
    if theme is not None and theme not in ("dark", "light"):
        raise ConfigError("--theme", "", f"must be dark or light, got {theme!r}")
    cat = catalog if catalog is not None else load_instruments()
    link = DeskLink(instance, cat, cfg, read_only=read_only)
    return AerodeskApp(link, cat, cfg, theme=theme, strategy_names=strategy_names(cat))


def build_replay_app(
    journal: str | Path,
    *,
    speed: Fraction | None = Fraction(1),
    paused: bool = False,
    theme: str | None = None,
    config_path: str | Path | None = None,
    config: TuiConfig | None = None,
    catalog: InstrumentCatalog | None = None,
    mono_clock: Callable[[], int] = time.monotonic_ns,
) -> AerodeskApp:
    """A ready-to-run, read-only app replaying the journal at `journal` (a directory, or a segment in it).

    The journal is opened (and its index read) here, before any screen is drawn. Raises NotAJournalError
    (a usage error), JournalError or OSError (unreadable), ConfigError (bad settings).
    """
    from tui.journal_link import JournalLink  # journal reading loads only for --journal
    from tui.replay_source import open_journal

    cfg = config if config is not None else load_tui_config(config_path)
    if theme is not None and theme not in ("dark", "light"):
        raise ConfigError("--theme", "", f"must be dark or light, got {theme!r}")
    cat = catalog if catalog is not None else load_instruments()
    source = open_journal(Path(journal))
    link = JournalLink(source, cat, cfg, speed=speed, paused=paused, mono_clock=mono_clock)
    return AerodeskApp(
        link, cat, cfg, theme=theme, strategy_names=strategy_names(cat), wall_clock=link.replay_now
    )
