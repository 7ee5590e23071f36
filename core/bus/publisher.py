"""Publisher: one exclusive publication per process and stream, with explicit offer outcomes.

    pub = bus.publisher("state")
    result = pub.offer(frame)            # True, or a falsy OfferFailure saying why it was not sent
    if not result: ...                   # the counters say the same: pub.counters.dropped_bp, ...

Exclusive publications give every process its own session (shared publications opened on the same
stream by two processes end up in one session). An offer that meets back pressure or an admin action
(term rotation) is retried a bounded number of times with an idle strategy; one that finds no
subscriber is, by default, not retried (that is a state, not a blip). A message is never dropped
silently: `offer` returns the reason and a counter records it. While the driver is lost, offers fail
at once with CLOSED until the client has reconnected.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyaeron

from core.agent.idle import IdleStrategy, backoff
from core.agent.ratelimit import RateLimitedLog
from core.bus.config import StreamConfig
from core.bus.counters import PublisherCounters
from core.bus.doorbell import stream_bit
from core.bus.errors import BusError

if TYPE_CHECKING:
    from core.bus.client import BusClient

log = logging.getLogger("aerodesk.bus")


class OfferFailure(enum.Enum):
    """Why a message was not sent. Falsy, like pyaeron's OfferCode, so `if not pub.offer(m)` works."""

    BACK_PRESSURED = "back_pressured"  # subscribers are a publication window behind
    NOT_CONNECTED = "not_connected"  # no subscriber on the stream
    ADMIN_ACTION = "admin_action"  # term rotation; retried, so seen only if every retry met one
    CLOSED = "closed"  # publication or client closed: the driver was lost, or the publisher closed
    TOO_BIG = "too_big"  # longer than the stream's max message length (term_length / 8)
    MAX_POSITION = "max_position"  # the stream reached its maximum position; the publication is renewed

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """How many times each retryable outcome is retried (with the idle strategy between attempts)."""

    back_pressured: int = 50  # <= ~2.5 ms with the default back-off: absorbs a burst, bounds the stall
    admin_action: int = 10  # the next attempt normally succeeds
    not_connected: int = 0  # nobody is listening: report it, do not stall the duty cycle


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(0, 0, 0)

BACK_PRESSURED = pyaeron.BACK_PRESSURED
NOT_CONNECTED = pyaeron.NOT_CONNECTED
ADMIN_ACTION = pyaeron.ADMIN_ACTION


class Publisher:
    """Created by BusClient.publisher(); usable from the agent thread that owns the client."""

    def __init__(
        self,
        client: BusClient,
        stream: StreamConfig,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        idle_strategy: IdleStrategy | None = None,
    ) -> None:
        self.client = client
        self.stream = stream
        self.channel = stream.publication_channel()
        self.retry = retry
        self.counters = PublisherCounters()
        self._idle = idle_strategy if idle_strategy is not None else backoff()
        self._retries = {
            pyaeron.BACK_PRESSURED: retry.back_pressured,
            pyaeron.NOT_CONNECTED: retry.not_connected,
            pyaeron.ADMIN_ACTION: retry.admin_action,
        }
        self._report = RateLimitedLog(log)
        self._pub: Any = None  # pyaeron.ExclusivePublication while attached
        self._offer: Any = None  # its bound offer method
        self._closed = False
        self._bit = stream_bit(stream.stream_id)
        # counters.sent at this publisher's last doorbell ring (BusClient.ring): any send since is
        # unrung. Comparing counts at the ring costs the hot path nothing beyond the count it keeps.
        self._rung = 0

    # -- hot path ---------------------------------------------------------------------------------

    def offer(self, buffer: Any, offset: int = 0, length: int | None = None) -> Literal[True] | OfferFailure:
        """Send one message (bytes, bytearray, memoryview or a BufferView to forward without a copy).

        Returns True once it is in the log, else the OfferFailure after the bounded retries.
        """
        offer = self._offer  # the publication's bound offer while attached
        if offer is not None:
            try:
                result = offer(buffer) if length is None else offer(buffer, offset=offset, length=length)
            except pyaeron.AeronError as e:
                return self._failed(e)
            if result is True:
                self.counters.sent += 1
                return True
            return self._retry(result, buffer, offset, length)
        return self._drop_closed()

    def _retry(
        self, result: Any, buffer: Any, offset: int, length: int | None
    ) -> Literal[True] | OfferFailure:
        """The rare path: count the outcome, retry it a bounded number of times, else drop and say why.

        The idle strategy is reset only when a retried offer gets through, not on entry: under sustained
        back pressure each offer continues the back-off (parks) instead of spinning and yielding again,
        so a congested publisher does not take the CPU its subscribers need to catch up.
        """
        counters = self.counters
        idle = self._idle
        retries = self._retries
        # Retries are counted per outcome: back pressure waited out up to a term's end meets a term
        # rotation (ADMIN_ACTION) next, and that must get its own retries, not the ones already used.
        attempts = dict.fromkeys(retries, 0)
        while True:
            if result is BACK_PRESSURED:
                counters.back_pressured += 1
                # a subscriber asleep on the doorbell is what holds us back: wake it before waiting
                self.client.wake(self._bit)
            elif result is NOT_CONNECTED:
                counters.not_connected += 1
            elif result is ADMIN_ACTION:
                counters.admin_action += 1
            else:  # pyaeron raises for terminal outcomes; anything else is a contract change
                raise BusError(f"stream {self.stream.name}: unexpected offer result {result!r}")
            if attempts[result] >= retries[result]:
                return self._drop(result)
            attempts[result] += 1
            if result is not ADMIN_ACTION:
                idle.idle(0)
            pub = self._pub
            if pub is None:
                return self._drop_closed()
            try:
                result = (
                    pub.offer(buffer) if length is None else pub.offer(buffer, offset=offset, length=length)
                )
            except pyaeron.AeronError as e:
                return self._failed(e)
            if result is True:
                counters.sent += 1
                idle.reset()
                return True

    def _failed(self, e: pyaeron.AeronError) -> OfferFailure:
        if isinstance(e, pyaeron.PublicationClosed | pyaeron.ResourceClosed):
            self.client._resource_closed(self)
            return self._drop_closed()
        if isinstance(e, pyaeron.MaxPositionExceeded):
            self._report.report("max_position", f"stream {self.stream.name}: max position reached; renewing")
            self.client._resource_closed(self)
            return self._drop_other(OfferFailure.MAX_POSITION, "dropped_max_pos")
        if "max_message_length" in str(e):  # "(22) Invalid argument ... length=N > max_message_length=M"
            self._report.report(
                "too_big",
                f"stream {self.stream.name}: message longer than its maximum of "
                f"{self.stream.max_message_length} bytes (term_length / 8) not sent",
            )
            return self._drop_other(OfferFailure.TOO_BIG, "dropped_too_big")
        raise e

    def _drop(self, result: Any) -> OfferFailure:
        c = self.counters
        c.dropped += 1
        if result is BACK_PRESSURED:
            c.dropped_bp += 1
            return OfferFailure.BACK_PRESSURED
        if result is NOT_CONNECTED:
            c.dropped_nc += 1
            return OfferFailure.NOT_CONNECTED
        c.dropped_admin += 1
        return OfferFailure.ADMIN_ACTION

    def _drop_closed(self) -> OfferFailure:
        self.counters.dropped += 1
        self.counters.dropped_closed += 1
        return OfferFailure.CLOSED

    def _drop_other(self, failure: OfferFailure, counter: str) -> OfferFailure:
        c = self.counters
        c.dropped += 1
        setattr(c, counter, getattr(c, counter) + 1)
        return failure

    # -- state ------------------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        pub = self._pub
        return pub is not None and not pub.is_closed and pub.is_connected

    @property
    def session_id(self) -> int | None:
        return self._pub.session_id if self._pub is not None else None

    @property
    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self.client._forget(self)
        self._detach()

    def _attach(self, aeron: pyaeron.Aeron) -> None:
        self._pub = aeron.add_exclusive_publication(self.channel, self.stream.stream_id)
        self._offer = self._pub.offer

    def _detach(self) -> None:
        pub, self._pub, self._offer = self._pub, None, None
        if pub is not None:
            with contextlib.suppress(pyaeron.AeronError):  # the client or driver is already gone
                pub.close()
