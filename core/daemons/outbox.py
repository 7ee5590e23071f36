"""An ordered outbox in front of one publisher: what the stream pushes back on waits, in order.

An output the stream pushes back on (back pressure, a term rotation) is held and retried, in order, at
the next flush: nothing is reordered and nothing is dropped for being slow. One that cannot be
delivered at all (no subscriber, driver lost) is dropped and counted, unless the owner's `hold_also`
says that outcome is worth waiting for (a publication that has only just been opened, say). A stream
stalled for good cannot grow it without bound: past `max_held` the oldest are dropped and counted.

Used by the oms (state, venue_orders) and the exec daemon (venue_reports). It starts without a
publisher when its stream is opened later (`attach`); until then everything is held.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from core.agent.ratelimit import RateLimitedLog
from core.bus.publisher import OfferFailure, Publisher

_HOLD = (OfferFailure.BACK_PRESSURED, OfferFailure.ADMIN_ACTION)
MAX_HELD = 1_000_000  # outputs held for a stalled stream before the oldest are dropped (and counted)


class Outbox:
    """One publisher with an ordered queue of what it could not send yet.

    `what` names an output in the log ("oms: state output"); `quiet` says which drops are normal (logged
    at INFO: nobody listening on a stream nobody has to read); `hold_also(failure)` may hold outcomes
    other than back pressure and term rotation.
    """

    def __init__(
        self,
        publisher: Publisher | None,
        what: str,
        log: logging.Logger,
        *,
        max_held: int = MAX_HELD,
        quiet: Callable[[OfferFailure], bool] | None = None,
        hold_also: Callable[[OfferFailure], bool] | None = None,
    ) -> None:
        self.publisher = publisher
        self.what = what
        self.max_held = max_held
        self.held: deque[bytes] = deque()
        self.sent = 0
        self.dropped = 0
        self.held_total = 0  # outputs that had to wait, each counted once
        self._quiet = quiet
        self._hold_also = hold_also
        self._report = RateLimitedLog(log)

    def attach(self, publisher: Publisher) -> None:
        """The stream is open: what was held goes out at the next flush."""
        self.publisher = publisher

    def send(self, payload: bytes) -> bool | None:
        """True sent, None held for later, False dropped."""
        publisher = self.publisher
        if self.held or publisher is None:
            self._hold(payload)
            return None
        result = publisher.offer(payload)
        if result is True:
            self.sent += 1
            return True
        if self._holds(result):
            self._hold(payload)
            return None
        self._drop(result)
        return False

    def flush(self) -> int:
        """Send what is held, in order, until the stream pushes back; returns the number sent."""
        sent = 0
        held = self.held
        publisher = self.publisher
        if publisher is None:
            return 0
        while held:
            result = publisher.offer(held[0])
            if result is True:
                held.popleft()
                self.sent += 1
                sent += 1
            elif self._holds(result):
                break
            else:
                held.popleft()
                self._drop(result)
        return sent

    def _holds(self, result: OfferFailure) -> bool:
        return result in _HOLD or (self._hold_also is not None and self._hold_also(result))

    def _hold(self, payload: bytes) -> None:
        self.held.append(payload)
        self.held_total += 1
        if len(self.held) > self.max_held:
            self.held.popleft()
            self._drop(OfferFailure.BACK_PRESSURED)

    def _drop(self, why: OfferFailure) -> None:
        self.dropped += 1
        quiet = self._quiet is not None and self._quiet(why)
        self._report.report(
            f"drop:{why.value}",
            f"{self.what} not sent ({why.value})",
            level=logging.INFO if quiet else logging.WARNING,
        )
