"""aerodesk Textual TUI: attaches to a desk over the bus and never holds authoritative state."""
