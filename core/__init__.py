"""aerodesk core engine: codec, bus, agents, journal, books, oms, risk, sim, strategies, daemons.

core imports none of textual, typer, rich, cli, tui or adapters (enforced by import-linter).
"""
