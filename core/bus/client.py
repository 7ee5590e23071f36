"""BusClient: a process's connection to its desk's media driver; owns its publishers and subscribers.

    bus = BusClient("demo")                          # instance, else env AERODESK_INSTANCE, else default
    bus.connect()                                    # DeskNotRunning at once if no driver serves the desk
    md = bus.subscriber("market_data", dispatcher)
    orders = bus.publisher("order_requests")

It is an Agent: run it in the same duty cycle (CompositeAgent) as the agents that use its publishers and
subscribers; its do_work watches the connection. When the driver is lost (the client's keepalive check
fails after driver_timeout_ms; the error handler is told, the client closes, offers raise
PublicationClosed) it reports it, detaches everything (offers fail with CLOSED, polls return 0), and
reconnects as soon as a driver serves the desk again, re-creating every publication and subscription.
The Context always has an error handler: without one the C client exits the process (code 1, no
finally, no atexit) when the driver dies.

Not thread-safe: one agent thread owns the client and everything created from it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pyaeron

from core.agent.idle import IdleStrategy
from core.agent.ratelimit import RateLimitedLog
from core.bus.config import BusConfig, StreamConfig, load_bus_config
from core.bus.counters import ClientCounters, prefixed
from core.bus.dispatch import GuardedHandler, MessageDispatcher
from core.bus.doorbell import Doorbell, DoorbellUnavailable, stream_bit
from core.bus.errors import DeskNotRunning
from core.bus.instance import instance_dir, probe_driver, resolve_instance
from core.bus.publisher import DEFAULT_RETRY, Publisher, RetryPolicy
from core.bus.subscriber import DEFAULT_FRAGMENT_LIMIT, Subscriber

log = logging.getLogger("aerodesk.bus")

DEFAULT_RECONNECT_INTERVAL_NS = 250_000_000

Resource = Publisher | Subscriber


class BusClient:
    def __init__(
        self,
        instance: str | None = None,
        *,
        config: BusConfig | None = None,
        client_name: str | None = None,
        role_name: str = "bus",
        reconnect_interval_ns: int = DEFAULT_RECONNECT_INTERVAL_NS,
        nano_clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.instance = resolve_instance(instance)
        self.dir = instance_dir(self.instance)
        self.config = config if config is not None else load_bus_config()
        self.role_name = role_name
        self.client_name = client_name or f"aerodesk-{role_name}-{os.getpid()}"
        self.reconnect_interval_ns = reconnect_interval_ns
        self.counters = ClientCounters()
        self._clock = nano_clock
        self._aeron: Any = None  # pyaeron.Aeron while connected
        self._resources: list[Resource] = []
        # Closed pyaeron subscriptions, kept alive until the Aeron client is closed (Subscriber._detach):
        # freeing one earlier lets the conductor thread call back into freed memory (a segfault).
        self._retired: list[Any] = []
        self._next_attempt_ns = 0
        self._closed = False
        self._last_error: str | None = None
        self._error_lock = threading.Lock()
        self._report = RateLimitedLog(log)
        # The desk's doorbell (core/bus/doorbell.py) while connected; ring() rings once for every
        # stream sent on since the last ring (`unrung`); `wake_bits` are the streams this process
        # subscribes to, what an idle wait wakes for.
        self.doorbell: Doorbell | None = None
        self.wake_bits = 0
        self._publishers: list[Publisher] = []

    # -- connection ----------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        aeron = self._aeron
        return aeron is not None and not aeron.is_closed

    def connect(self) -> BusClient:
        """Connect to the desk's driver and attach every registered publisher and subscriber.

        Raises DeskNotRunning without waiting when there is no live driver.
        """
        if self._closed:
            raise RuntimeError("bus client is closed")
        if self._aeron is not None:
            return self
        timeout_ms = self.config.driver.driver_timeout_ms
        probe = probe_driver(self.dir, timeout_ms)
        if not probe.active:
            if not probe.exists:
                detail = ""
            elif probe.pid is not None:
                detail = f"a stale directory of driver pid {probe.pid}, which is gone"
            else:
                detail = "a stale directory"
            raise DeskNotRunning(self.instance, self.dir, detail)
        if probe.recently_dead:
            # Its heartbeat is still fresh but its process is gone (killed moments ago): connecting
            # would block for driver_timeout_ms before failing. (Assumes the driver runs in this pid
            # namespace, as a desk's driver does.)
            raise DeskNotRunning(
                self.instance,
                self.dir,
                f"its media driver (pid {probe.pid}) has exited; start the desk again",
            )
        context = pyaeron.Context(
            dir=str(self.dir),
            client_name=self.client_name,
            driver_timeout_ms=timeout_ms,
            error_handler=self._on_aeron_error,
        )
        try:
            aeron = pyaeron.Aeron(context=context)
        except pyaeron.AeronError as e:
            raise DeskNotRunning(self.instance, self.dir, f"could not connect: {_first_line(e)}") from e
        try:
            for resource in self._resources:
                resource._attach(aeron)
        except pyaeron.AeronError as e:
            for resource in self._resources:
                resource._detach()
            aeron.close()
            raise DeskNotRunning(self.instance, self.dir, f"lost while connecting: {_first_line(e)}") from e
        self._aeron = aeron
        self._open_doorbell()
        log.info("connected to desk %s (%s) as %s", self.instance, self.dir, self.client_name)
        return self

    @property
    def unrung(self) -> int:
        """The stream bits of the publishers that sent since their last ring."""
        bits = 0
        for p in self._publishers:
            if p.counters.sent != p._rung:
                bits |= p._bit
        return bits

    def ring(self, only: int | None = None) -> bool:
        """Wake the processes waiting for the streams sent on since the last ring; True if it rang.

        only: ring just these stream bits now (if they were sent on), leaving the rest for the end of
        the duty cycle: an urgent message wakes its reader before the sender's slower work."""
        bits = 0
        for p in self._publishers:
            sent = p.counters.sent
            if sent != p._rung and (only is None or p._bit & only):
                p._rung = sent
                bits |= p._bit
        if not bits:
            return False
        doorbell = self.doorbell
        if doorbell is None:
            return False
        doorbell.ring(bits)
        return True

    def wake(self, bits: int) -> None:
        """Ring for these streams now, sent on or not (a publisher held back by a sleeping reader)."""
        doorbell = self.doorbell
        if doorbell is not None:
            doorbell.ring(bits)

    def _open_doorbell(self) -> None:
        try:
            self.doorbell = Doorbell.open(self.dir)
        except DoorbellUnavailable as e:
            # Only latency suffers: waiting processes wake at their max wait instead.
            self._report.report("doorbell", f"desk {self.instance}: no doorbell ({e}); idle waits are timed")

    def close(self) -> None:
        """Disconnect for good; publishers and subscribers stay detached and keep their counters."""
        self._closed = True
        self._disconnect()

    def __enter__(self) -> BusClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Agent ----------------------------------------------------------------------------------

    def on_start(self) -> None:
        self.connect()

    def do_work(self) -> int:
        """Watch the connection: report a lost driver, reconnect when one is back."""
        aeron = self._aeron
        if aeron is not None:
            if not aeron.is_closed:
                return 0
            self._driver_lost()
            return 1
        if self._closed:
            return 0
        return self._try_reconnect()

    def ensure_connected(self) -> bool:
        """For a process that does not run a duty cycle yet (a long start): connect on first use, and
        afterwards notice a lost driver and reconnect (at the reconnect interval) as do_work() would.
        Whether it is connected now."""
        if self._aeron is None and not self.counters.driver_lost:
            try:
                self.connect()
            except DeskNotRunning:
                return False
        else:
            self.do_work()
        return self.is_connected

    def on_close(self) -> None:
        self.close()

    # -- publishers and subscribers -------------------------------------------------------------

    def publisher(
        self,
        stream: str | StreamConfig,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        idle_strategy: IdleStrategy | None = None,
    ) -> Publisher:
        """The process's one publisher (one exclusive publication, one session) for the stream.

        Agents of a process that publish on the same stream share it (they share the thread too);
        asking again with another retry policy or idle strategy is an error rather than a surprise.
        """
        config = self._stream(stream)
        for r in self._resources:
            if isinstance(r, Publisher) and r.stream == config and not r.is_closed:
                if r.retry != retry or idle_strategy is not None:
                    raise ValueError(
                        f"stream {config.name} already has a publisher in this process (retry {r.retry}); "
                        "share it, or close it first"
                    )
                return r
        pub = Publisher(self, config, retry=retry, idle_strategy=idle_strategy)
        self._register(pub)
        return pub

    def subscriber(
        self,
        stream: str | StreamConfig,
        handler: MessageDispatcher | GuardedHandler | Callable[[Any, Any], None],
        *,
        tether: bool = True,
        fragment_limit: int = DEFAULT_FRAGMENT_LIMIT,
        assemble: bool = True,
        wake: bool = True,
    ) -> Subscriber:
        """wake=False: messages on this stream do not wake the process from an idle wait (it reads them
        when something else wakes it, or at its idle strategy's max wait): for data that is never
        urgent to this process, such as reference prices, so it does not compete for a core with the
        processes that must answer them."""
        config = self._stream(stream)
        if wake:
            self.wake_bits |= stream_bit(config.stream_id)
        sub = Subscriber(
            self,
            config,
            handler,
            tether=tether,
            fragment_limit=fragment_limit,
            assemble=assemble,
        )
        self._register(sub)
        return sub

    def counters_dict(self) -> dict[str, int]:
        """Every counter of this client and its resources, e.g. for a Heartbeat.

        Keys: `bus.<counter>`, `<stream>.<counter>` (publishers and subscribers of a stream add up)."""
        out = prefixed("bus", self.counters.as_dict())
        for r in self._resources:
            for k, v in prefixed(r.stream.name, r.counters.as_dict()).items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def _stream(self, stream: str | StreamConfig) -> StreamConfig:
        return stream if isinstance(stream, StreamConfig) else self.config.stream(stream)

    def _register(self, resource: Resource) -> None:
        if self._closed:
            raise RuntimeError("bus client is closed")
        aeron = self._aeron
        if aeron is not None and not aeron.is_closed:
            try:
                resource._attach(aeron)
            except pyaeron.AeronError as e:  # the driver went away since connect
                self._driver_lost()
                raise DeskNotRunning(
                    self.instance, self.dir, f"lost while connecting: {_first_line(e)}"
                ) from e
        self._resources.append(resource)
        if isinstance(resource, Publisher):
            self._publishers.append(resource)

    def _forget(self, resource: Resource) -> None:
        if resource in self._resources:
            self._resources.remove(resource)
        if resource in self._publishers:
            self.ring(only=resource._bit)  # what it sent before closing still wakes its readers
            self._publishers.remove(resource)

    def _resource_closed(self, resource: Resource) -> None:
        """A publication or subscription reported closed: the driver is gone, or just this resource."""
        aeron = self._aeron
        if aeron is None or resource.is_closed:
            return
        if aeron.is_closed:
            self._driver_lost()
            return
        log.warning(
            "stream %s: %s was closed by the driver; re-creating it",
            resource.stream.name,
            type(resource).__name__,
        )
        resource._detach()
        try:
            resource._attach(aeron)
        except pyaeron.AeronError as e:
            self._report.report(
                "reattach", f"stream {resource.stream.name}: could not re-create: {_first_line(e)}"
            )

    # -- loss and reconnection ------------------------------------------------------------------

    def _on_aeron_error(self, code: int, message: str) -> None:
        # Runs on the Aeron client conductor thread: record and log only.
        with self._error_lock:
            self.counters.aeron_errors += 1
            self._last_error = f"{message} (code {code})"
        self._report.report(f"aeron:{code}", f"desk {self.instance}: Aeron client error {code}: {message}")

    def _driver_lost(self) -> None:
        self.counters.driver_lost += 1
        log.error(
            "desk %s: lost the media driver at %s (%s); sends fail and polls are idle until it is back",
            self.instance,
            self.dir,
            self._last_error or "client closed",
        )
        self._disconnect()
        self._next_attempt_ns = self._clock()

    def _disconnect(self) -> None:
        for resource in self._resources:
            resource._detach()
        doorbell, self.doorbell = self.doorbell, None
        if doorbell is not None:
            doorbell.close()
        aeron, self._aeron = self._aeron, None
        if aeron is not None:
            try:
                aeron.close()
            except pyaeron.AeronError as e:
                log.debug("closing a lost Aeron client: %s", e)
                return  # its conductor may not have stopped: keep the retired subscriptions
        self._retired.clear()  # the conductor has stopped: no callback can reach them any more

    def _retire(self, subscription: Any) -> None:
        """Keep a closed pyaeron subscription alive until the Aeron client that owned it is closed."""
        self._retired.append(subscription)

    def _try_reconnect(self) -> int:
        now = self._clock()
        if now < self._next_attempt_ns:
            return 0
        self._next_attempt_ns = now + self.reconnect_interval_ns
        try:
            self.connect()
        except DeskNotRunning as e:
            self._report.report("reconnect", f"waiting for a media driver: {e}", level=logging.INFO)
            return 1
        self.counters.reconnects += 1
        log.warning(
            "desk %s: reconnected to the media driver; publications and subscriptions re-created",
            self.instance,
        )
        return 1


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
