"""Bus counters: plain ints on the hot path, a dict for heartbeats and status.

Names are `<stream>.<counter>` and at most 32 characters, the width of a Heartbeat counter name, so a
daemon can copy `BusClient.counters()` into its Heartbeat as is.
"""

from __future__ import annotations

# Publisher outcomes. back_pressured / not_connected / admin_action count every such offer result
# (retried or not); dropped_* count messages finally not sent, by the last reason.
PUBLISHER_COUNTERS = (
    "sent",
    "back_pressured",
    "not_connected",
    "admin_action",
    "dropped",
    "dropped_bp",
    "dropped_nc",
    "dropped_admin",
    "dropped_closed",
    "dropped_too_big",
    "dropped_max_pos",
)

# Subscriber input that was skipped, by reason.
BAD_SHORT_HEADER = "bad_short_header"  # shorter than the 8-byte SBE message header
BAD_SHORT_BLOCK = "bad_short_block"  # shorter than the header's blockLength says
BAD_TEMPLATE = "bad_template"  # a template id nobody handles
BAD_SCHEMA = "bad_schema"  # another schema id
BAD_VERSION = "bad_version"  # a newer schema version than this build knows
BAD_DECODE = "bad_decode"  # the decoder raised
HANDLER_ERROR = "handler_error"  # the message handler raised
BAD_INPUT_REASONS = (
    BAD_SHORT_HEADER,
    BAD_SHORT_BLOCK,
    BAD_TEMPLATE,
    BAD_SCHEMA,
    BAD_VERSION,
    BAD_DECODE,
    HANDLER_ERROR,
)
SUBSCRIBER_COUNTERS = ("received", *BAD_INPUT_REASONS, "images_joined", "images_left")

CLIENT_COUNTERS = ("driver_lost", "reconnects", "aeron_errors")

MAX_NAME_LENGTH = 32


class PublisherCounters:
    __slots__ = PUBLISHER_COUNTERS

    def __init__(self) -> None:
        for name in PUBLISHER_COUNTERS:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in PUBLISHER_COUNTERS}


class SubscriberCounters:
    __slots__ = SUBSCRIBER_COUNTERS

    def __init__(self) -> None:
        for name in SUBSCRIBER_COUNTERS:
            setattr(self, name, 0)

    def bad_input(self) -> int:
        return sum(getattr(self, r) for r in BAD_INPUT_REASONS)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SUBSCRIBER_COUNTERS}


class ClientCounters:
    __slots__ = CLIENT_COUNTERS

    def __init__(self) -> None:
        for name in CLIENT_COUNTERS:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in CLIENT_COUNTERS}


def prefixed(prefix: str, counters: dict[str, int]) -> dict[str, int]:
    return {f"{prefix}.{k}": v for k, v in counters.items()}
