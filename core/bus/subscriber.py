"""Subscriber: polls one stream with fragment assembly and hands each message to a dispatcher.

    sub = bus.subscriber("state", dispatcher)                  # a MessageDispatcher (see dispatch.py)
    sub = bus.subscriber("state", dispatcher, tether=False)    # an observer: never slows publishers
    work += sub.poll()                                         # in do_work

Observers (TUI, CLI queries, monitors) subscribe untethered: if they fall a window behind, the driver
lets the publishers go on without them after untethered_window_limit_timeout_ms and they rejoin at
the live end (a gap they must handle, e.g. by asking for a snapshot). Tethered subscribers (the
default, e.g. the oms or the recorder) hold publishers back instead: nothing is lost.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import pyaeron

from core.bus.config import StreamConfig
from core.bus.counters import SubscriberCounters
from core.bus.dispatch import GuardedHandler, MessageDispatcher

if TYPE_CHECKING:
    from core.bus.client import BusClient

log = logging.getLogger("aerodesk.bus")

DEFAULT_FRAGMENT_LIMIT = 64


class Subscriber:
    """Created by BusClient.subscriber(); poll it from the agent thread that owns the client."""

    def __init__(
        self,
        client: BusClient,
        stream: StreamConfig,
        handler: MessageDispatcher | GuardedHandler | Callable[[Any, Any], None],
        *,
        tether: bool = True,
        fragment_limit: int = DEFAULT_FRAGMENT_LIMIT,
        assemble: bool = True,
    ) -> None:
        if not isinstance(handler, MessageDispatcher | GuardedHandler):
            handler = GuardedHandler(handler, stream.name)  # a raw handler must not kill the poll either
        if not handler.label:
            handler.label = stream.name
        self.client = client
        self.stream = stream
        self.handler = handler
        self.tether = tether
        self.channel = stream.subscription_channel(tether=tether)
        self.fragment_limit = fragment_limit
        self.assemble = assemble
        self._sub: Any = None  # pyaeron.Subscription while attached
        # While attached: the subscription's poll with the fragment handler bound, called with a limit.
        # (Handlers are built once, so binding them at attach time is safe.)
        self._poll: Callable[[int], int] | None = None
        self._closed = False

    @property
    def counters(self) -> SubscriberCounters:
        return self.handler.counters

    def poll(self, fragment_limit: int | None = None) -> int:
        """Deliver up to `fragment_limit` fragments; returns the number read (0 when idle or detached)."""
        poll = self._poll
        if poll is None:
            return 0
        try:
            return poll(fragment_limit or self.fragment_limit)
        except pyaeron.AeronError:  # ResourceClosed and kin: closed under us
            self.client._resource_closed(self)
            return 0

    @property
    def is_connected(self) -> bool:
        sub = self._sub
        return sub is not None and not sub.is_closed and sub.is_connected

    @property
    def image_count(self) -> int:
        return self._sub.image_count if self._sub is not None else 0

    @property
    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self.client._forget(self)
        self._detach()

    def _attach(self, aeron: pyaeron.Aeron) -> None:
        self._sub = aeron.add_subscription(
            self.channel,
            self.stream.stream_id,
            available_image=self._image_joined,
            unavailable_image=self._image_left,
        )
        on_fragment = self.handler.on_fragment
        if self.assemble:
            self._poll = partial(self._sub.poll, on_fragment)
        else:
            self._poll = partial(self._sub.poll, on_fragment, assemble=False)

    def _detach(self) -> None:
        sub, self._sub, self._poll = self._sub, None, None
        if sub is not None:
            with contextlib.suppress(pyaeron.AeronError):  # the client or driver is already gone
                sub.close()
            # Aeron closes a subscription later, on its conductor thread, and may call the image
            # callbacks then with this object as their context: it must outlive the Aeron client.
            self.client._retire(sub)

    # Image callbacks run on the client conductor thread: count and log only.
    def _image_joined(self, _subscription: Any, image: Any) -> None:
        self.counters.images_joined += 1
        log.info(
            "stream %s: publisher session %s joined (%s)",
            self.stream.name,
            image.session_id,
            image.source_identity,
        )

    def _image_left(self, _subscription: Any, image: Any) -> None:
        self.counters.images_left += 1
        log.info("stream %s: publisher session %s left", self.stream.name, image.session_id)
