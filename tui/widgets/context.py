"""What every pane needs besides the view to render it: static data and the trader's selection."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.instruments import InstrumentCatalog


@dataclass
class RenderContext:
    catalog: InstrumentCatalog
    strategy_names: dict[int, str] = field(default_factory=dict)
    instrument_id: int = 0  # the instrument the ladder shows (0: none yet)
    stale: bool = False  # the whole screen is stale (desk down or the worker not updating)
