"""Desk daemons: md, oms, exec, strategy, recorder; each a set of agents hosted by a DaemonHost.

Start one with `python -m core.daemons run NAME --instance I --profile P` (the supervisor does).
"""
