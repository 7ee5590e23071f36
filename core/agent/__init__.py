"""The agent runtime: duty-cycle agents, runners, idle strategies, clocks and timers."""

from core.agent.agent import Agent, AgentError
from core.agent.clock import Clock, SimulatedClock, SystemClock
from core.agent.composite import CompositeAgent
from core.agent.idle import (
    IdleStrategy,
    backoff,
    busy_spin,
    default_idle_strategy,
    noop,
    parse_idle_strategy,
    sleeping,
    yielding,
)
from core.agent.ratelimit import RateLimitedLog
from core.agent.runner import AgentRunner, ErrorPolicy
from core.agent.signals import ShutdownSignals, run_agents_main
from core.agent.timers import TimerService

__all__ = [
    "Agent",
    "AgentError",
    "AgentRunner",
    "Clock",
    "CompositeAgent",
    "ErrorPolicy",
    "IdleStrategy",
    "RateLimitedLog",
    "ShutdownSignals",
    "SimulatedClock",
    "SystemClock",
    "TimerService",
    "backoff",
    "busy_spin",
    "default_idle_strategy",
    "noop",
    "parse_idle_strategy",
    "run_agents_main",
    "sleeping",
    "yielding",
]
