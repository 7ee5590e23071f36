"""Control plane helpers shared by every client of the desk (CLI, TUI, tools)."""
