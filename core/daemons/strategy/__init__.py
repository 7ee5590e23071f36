"""The strategy daemon: one or more strategies (core/strategy) hosted on the bus.

    python -m core.daemons run strategies --instance I --profile P     (the supervisor starts it so)

It runs one StrategyHost (the engine the backtest runs too) as an agent (agent.py): market data and the
oms's state stream in, order requests and per-strategy heartbeats out (outputs.py). At start it waits
for the oms, asks it for the working orders and positions of its strategies (a restarted daemon gets
them back) and only then starts the strategies. Its [daemon.config] is described in config.py; which
strategies it runs are named there and configured in configs/strategies.toml (or a file it names).

Streams: market_data (untethered: a slow strategy never slows the desk's market data; a gap is seen
through the md seq and the book is unusable until the next snapshot), state (tethered: its own execution
reports are never lost) in; order_requests and heartbeats out, and control for its two queries.

Its heartbeat's counters (prefixed with the daemon's name): strategies, running, disabled, callbacks,
orders_sent, errors, fills, rejects, working_orders, md_messages, md_gaps, reports, positions,
requests_sent / held / refused (refused: answered locally, the oms could not be reached), heartbeats_sent
/ dropped, recovered_orders, recovered_positions, recovered_canceled, recovery_timeouts, resyncs.
"""

from __future__ import annotations

import logging

from core.agent.agent import Agent
from core.daemons.host import DaemonHost
from core.daemons.md_feeds import static_data
from core.daemons.profile import DaemonSpec
from core.daemons.strategy.agent import StrategyAgent
from core.daemons.strategy.config import StrategyDaemonConfig, parse_strategy_config
from core.daemons.strategy.outputs import BusHostOutputs
from core.sim.config import load_venues
from core.strategy.host import HostIdentity, StrategyHost

log = logging.getLogger("aerodesk.strategy")

__all__ = ["BusHostOutputs", "StrategyAgent", "StrategyDaemonConfig", "build", "parse_strategy_config"]


def build(host: DaemonHost, spec: DaemonSpec) -> list[Agent]:
    t = spec.config
    catalog = static_data(t)
    cfg = parse_strategy_config(t, catalog)
    venues = load_venues(instruments=catalog)
    outputs = BusHostOutputs(
        host.bus.publisher("order_requests"), host.bus.publisher("heartbeats"), host.clock.time_ns
    )
    strategy_host = StrategyHost(
        cfg.specs,
        catalog=catalog,
        clock=host.clock,
        outputs=outputs,
        config=cfg.strategies.host,
        identity=HostIdentity.local(host.instance),
        venue_ids={v.name: v.id for v in venues},
    )
    disabled = [c.name for c in strategy_host.contexts if not c.strategy]
    if len(disabled) == len(strategy_host.contexts):
        raise ValueError(
            f"no strategy could be built: {'; '.join(c.last_error for c in strategy_host.contexts)}"
        )
    agent = StrategyAgent(
        spec.name,
        host.bus,
        host.clock,
        strategy_host,
        outputs,
        connect_wait_ms=cfg.connect_wait_ms,
        recover_timeout_ms=cfg.recover_timeout_ms,
        recovered_orders=cfg.recovered_orders,
        md_tether=cfg.md_tether,
        fragment_limit=cfg.fragment_limit,
    )
    return [agent]
