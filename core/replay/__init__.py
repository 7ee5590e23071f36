"""Replay of recorded journals: republish into a running desk at the recorded pace (scaled) or as fast
as possible (`aerodesk replay JOURNAL --into INSTANCE`).

- engine.ReplayAgent: paces records by their receive times through an injected clock;
- bus_sink.BusSink: offers them on the target desk's streams of the same names;
- into.replay_into: the whole run, as the CLI calls it.
"""
