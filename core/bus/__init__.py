"""The Aeron bus: desk instances and their media driver, stream configuration, publishers, subscribers."""

from core.bus.client import BusClient
from core.bus.config import BusConfig, DriverConfig, StreamConfig, load_bus_config
from core.bus.dispatch import (
    HEADER_LENGTH,
    MESSAGE_HEADER,
    GuardedHandler,
    MessageDispatcher,
    SchemaIdentity,
    aerodesk_dispatcher,
    copy_frame,
    read_schema_identity,
)
from core.bus.errors import (
    BusError,
    DeskNotRunning,
    DriverAlreadyRunning,
    DriverStartError,
    InsufficientSharedMemory,
)
from core.bus.instance import (
    InstanceNameError,
    instance_dir,
    probe_driver,
    resolve_instance,
    validate_instance,
)
from core.bus.launch import DriverProcess, spawn_driver
from core.bus.publisher import DEFAULT_RETRY, NO_RETRY, OfferFailure, Publisher, RetryPolicy
from core.bus.subscriber import Subscriber

__all__ = [
    "DEFAULT_RETRY",
    "HEADER_LENGTH",
    "MESSAGE_HEADER",
    "NO_RETRY",
    "BusClient",
    "BusConfig",
    "BusError",
    "DeskNotRunning",
    "DriverAlreadyRunning",
    "DriverConfig",
    "DriverProcess",
    "DriverStartError",
    "GuardedHandler",
    "InstanceNameError",
    "InsufficientSharedMemory",
    "MessageDispatcher",
    "OfferFailure",
    "Publisher",
    "RetryPolicy",
    "SchemaIdentity",
    "StreamConfig",
    "Subscriber",
    "aerodesk_dispatcher",
    "copy_frame",
    "instance_dir",
    "load_bus_config",
    "probe_driver",
    "read_schema_identity",
    "resolve_instance",
    "spawn_driver",
    "validate_instance",
]
