"""The TUI's bus-facing model: pure Python state folded from decoded bus messages (no Textual, no bus).

The bus worker owns a DeskModel and hands the UI immutable DeskViews built from it at the render rate.
"""

from tui.model.desk import DeskModel, ModelConfig
from tui.model.staleness import DeskStatus, StaleRules
from tui.model.view import BookView, DeskView

__all__ = ["BookView", "DeskModel", "DeskStatus", "DeskView", "ModelConfig", "StaleRules"]
