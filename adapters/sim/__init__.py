"""The simulated venue ("sim"): the demo's default venue.

Files (the same in every venue folder): config (client settings), data (the market-data client: the
seeded synthetic markets of core/market), execution (the execution client: core/sim's matching
engines behind the venue's latency model; bus messages in, ExecutionReports out), providers (the
venue's instruments from configs/instruments.toml and its settings from configs/venues.toml).
"""

from adapters.sim.config import SimDataClientConfig, SimExecClientConfig
from adapters.sim.data import NotStartedError, SimDataClient
from adapters.sim.execution import (
    SimExecutionClient,
    cancel_request,
    execution_report_fields,
    new_order_request,
    replace_request,
)
from adapters.sim.providers import SimInstrumentProvider

__all__ = [
    "NotStartedError",
    "SimDataClient",
    "SimDataClientConfig",
    "SimExecClientConfig",
    "SimExecutionClient",
    "SimInstrumentProvider",
    "cancel_request",
    "execution_report_fields",
    "new_order_request",
    "replace_request",
]
