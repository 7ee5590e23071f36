"""The thin hot paths keep their guarantees: handlers bound once still see changes, counters stay exact,
and a congested publisher backs off across offers instead of spinning again on each."""

from __future__ import annotations

import time

import pytest

from core.agent.idle import noop
from core.bus import BusClient, DriverProcess, OfferFailure, RetryPolicy, aerodesk_dispatcher
from tests.core.bus.frames import SEQ_TEMPLATE, frame, seq_frame, seq_of
from tests.core.bus.helpers import poll_until, wait_connected

OTHER_TEMPLATE = 903


class RecordingIdle:
    """A real (no-op) idle strategy that records how the publisher drives it; `on_idle` runs per idle."""

    def __init__(self, on_idle=None) -> None:
        self._inner = noop()
        self.events: list[str] = []
        self.on_idle = on_idle

    def idle(self, work_count: int = 0) -> None:
        self.events.append("idle")
        if self.on_idle is not None:
            self.on_idle()
        self._inner.idle(work_count)

    def reset(self) -> None:
        self.events.append("reset")
        self._inner.reset()


def test_a_handler_registered_after_the_subscriber_was_attached_is_used(driver: DriverProcess):
    """The subscriber binds the dispatcher's poll handler once; later registrations must still count."""
    seqs: list[int] = []
    others: list[bytes] = []
    dispatcher = aerodesk_dispatcher().on(SEQ_TEMPLATE, lambda m, h: seqs.append(seq_of(m)))
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", dispatcher)
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        other = frame(OTHER_TEMPLATE, b"\x01" * 8)
        assert pub.offer(seq_frame(1)) and pub.offer(other)
        assert poll_until(lambda: sub.counters.received + sub.counters.bad_template == 2, [bus], [sub])
        assert sub.counters.bad_template == 1  # nobody handled it yet

        dispatcher.on(OTHER_TEMPLATE, lambda m, h: others.append(m))
        assert pub.offer(other) and pub.offer(seq_frame(2))
        assert poll_until(lambda: sub.counters.received == 3, [bus], [sub])
    assert seqs == [1, 2] and others == [other]
    assert sub.counters.bad_template == 1 and sub.counters.bad_input() == 1


def test_counters_stay_exact_over_many_batches_of_mixed_input(driver: DriverProcess):
    """Every message is counted once, as received or under one bad-input reason, across partial polls."""
    got: list[int] = []
    dispatcher = aerodesk_dispatcher().on(SEQ_TEMPLATE, lambda m, h: got.append(seq_of(m)))
    good, truncated, unknown = 0, 0, 0
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", dispatcher, fragment_limit=7)  # batches cut mid-pattern
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        for seq in range(600):
            if seq % 10 == 3:
                message, truncated = seq_frame(seq)[:12], truncated + 1
            elif seq % 10 == 7:
                message, unknown = frame(OTHER_TEMPLATE, b"\x00" * 8), unknown + 1
            else:
                message, good = seq_frame(seq), good + 1
            result = pub.offer(message)
            while result is OfferFailure.BACK_PRESSURED:  # the subscriber is polled below, not here
                sub.poll()
                result = pub.offer(message)
            assert result is True
        assert poll_until(lambda: sub.counters.received + sub.counters.bad_input() == 600, [bus], [sub])
    c = sub.counters
    assert (c.received, c.bad_short_block, c.bad_template) == (good, truncated, unknown)
    assert got == [s for s in range(600) if s % 10 not in (3, 7)]
    assert pub.counters.sent == 600 and pub.counters.dropped == 0


def test_dispatcher_decoder_and_copy_mode_are_fixed_at_construction():
    dispatcher = aerodesk_dispatcher(copy=False)
    assert dispatcher.copy is False and dispatcher.decoder is None
    with pytest.raises(AttributeError):
        dispatcher.copy = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        dispatcher.decoder = bytes  # type: ignore[misc,assignment]


def test_sustained_back_pressure_continues_the_back_off_across_offers(driver: DriverProcess):
    idle = RecordingIdle()
    with BusClient(driver.instance) as bus:
        bus.subscriber("control", aerodesk_dispatcher(default_handler=lambda m, h: None))  # never polled
        pub = bus.publisher("control", retry=RetryPolicy(back_pressured=3), idle_strategy=idle)
        wait_connected(pub, [bus])
        big = seq_frame(0, 1000)
        results = [pub.offer(big) for _ in range(200)]
    dropped = results.count(OfferFailure.BACK_PRESSURED)
    assert dropped >= 2 and pub.counters.dropped_bp == dropped
    assert pub.counters.back_pressured == 4 * dropped  # the first attempt and 3 retries, each counted
    # Three idles per dropped offer and no reset in between: the back-off carries on from where the
    # previous offer left it, so a congested publisher parks instead of spinning again.
    assert idle.events == ["idle"] * 3 * dropped


def test_a_retried_offer_that_gets_through_resets_the_back_off(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("control", aerodesk_dispatcher(default_handler=lambda m, h: None))

        def drain_while_idle() -> None:  # the subscriber catches up while the publisher waits
            sub.poll(fragment_limit=1000)
            time.sleep(0.001)  # let the driver move the publication limit

        idle = RecordingIdle(drain_while_idle)
        pub = bus.publisher("control", retry=RetryPolicy(back_pressured=10_000), idle_strategy=idle)
        wait_connected(pub, [bus])
        big = seq_frame(0, 1000)
        offers = 0
        while not idle.events:  # until an offer meets back pressure (a window's worth, ~32 KiB)
            assert pub.offer(big) is True  # ...and gets through on a retry
            offers += 1
            assert offers < 10_000, "the publisher never met back pressure"
    assert offers > 1 and pub.counters.sent == offers and pub.counters.dropped == 0
    assert pub.counters.back_pressured == idle.events.count("idle") >= 1
    assert idle.events[-1] == "reset" and idle.events.count("reset") == 1


def test_a_term_rotation_met_after_back_pressure_gets_its_own_retries(driver: DriverProcess):
    """An offer that waits out back pressure at a term's end then meets the rotation (ADMIN_ACTION).

    The subscriber reads one message per idle, so once the window is full every offer meets back
    pressure first; a message size that does not divide the 64 KiB term makes the offer at each term's
    end not fit, so it gets ADMIN_ACTION once the limit moves. One retry for ADMIN_ACTION must be left
    for it, however many back-pressure retries came before (they were once counted together).
    """
    got: list[int] = []
    with BusClient(driver.instance) as bus:
        dispatcher = aerodesk_dispatcher().on(SEQ_TEMPLATE, lambda m, h: got.append(seq_of(m)))
        sub = bus.subscriber("control", dispatcher)

        def read_one() -> None:
            sub.poll(fragment_limit=1)
            time.sleep(0.0005)  # let the driver move the publication limit

        retry = RetryPolicy(back_pressured=100_000, admin_action=1)
        pub = bus.publisher("control", retry=retry, idle_strategy=RecordingIdle(read_one))
        wait_connected(pub, [bus])
        count = 150  # ~2.4 terms of 1,056-byte frames
        results = [pub.offer(seq_frame(seq, 1000)) for seq in range(count)]
        c = pub.counters
        assert results == [True] * count and c.dropped == 0
        # both term ends were met under back pressure
        assert c.admin_action >= 2 and c.back_pressured > count // 2
        assert poll_until(lambda: len(got) == count, [bus], [sub])
    assert got == list(range(count))
