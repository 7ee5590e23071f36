"""Cheap text updates: a Static is re-rendered only when its text changed, and without a layout pass
when its size cannot change (a layout pass re-arranges the whole screen: far too dear per frame)."""

from __future__ import annotations

from textual.widgets import Static


def set_text(widget: Static, markup: str, *, layout: bool = False) -> bool:
    """Show `markup` in `widget`; True if it changed. `layout=True` only for widgets of auto size."""
    if getattr(widget, "_aerodesk_text", None) == markup:
        return False
    widget._aerodesk_text = markup  # type: ignore[attr-defined]
    widget.update(markup, layout=layout)
    return True
