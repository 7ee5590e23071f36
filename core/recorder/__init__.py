"""The recorder: journals every stream of a desk, and reads journals back for `aerodesk log`.

Writing (the recorder daemon, core.daemons.recorder):
- agent.RecorderAgent: subscriptions, journal writer, gap detection, health, drain on shutdown;
- config.RecorderConfig: its [daemon.config] table (policy and flushing);
- gaps.StreamTracker / markers.GapMarker: how lost data is found and marked in the journal.
Reading (`aerodesk log`): listing, dump, stats, export, on columns decoded with numpy (columns.py).
README.md in this directory documents the policies, the gap markers and the CLI.
"""
