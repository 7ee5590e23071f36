"""What can go wrong talking to the oms, as exceptions that say which case it is (the CLI maps them to
its exit codes: 3 not running, 4 unhealthy, 1 refused or failed, 2 usage)."""

from __future__ import annotations

# Every refusal of a request the oms could not journal starts with this text (daemon: refusals.py).
WAL_REFUSAL = "refused: the oms cannot write its write-ahead log"


class ControlError(Exception):
    """Base of the control client's errors."""


class OmsNotAnswering(ControlError):
    """The desk's media driver runs, but no oms answered in time (or nothing subscribes to its streams)."""


class ControlTimeout(ControlError, TimeoutError):
    """The oms answered, but the final answer did not come in time."""


class Refused(ControlError):
    """The oms refused the request; `reason` is the Reason name, `text` the oms's explanation."""

    def __init__(self, reason: str, text: str) -> None:
        self.reason = reason
        self.text = text
        super().__init__(f"refused by the oms ({reason})" + (f": {text}" if text else ""))

    @property
    def unhealthy(self) -> bool:
        """Refused because the oms cannot journal (its WAL fails), not because of the request."""
        return self.text.startswith(WAL_REFUSAL)


class UsageError(ControlError, ValueError):
    """A request that cannot be sent as given (unknown symbol, a price finer than the tick...)."""
