"""aerodesk command line: one Typer sub-app per command group, no business logic."""
