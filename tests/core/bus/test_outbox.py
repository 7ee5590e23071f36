"""The daemons' ordered outbox (core/daemons/outbox.py) on a real media driver: what the stream pushes
back on waits in order, a stall is bounded, an owner may hold other outcomes, a stream opened later."""

from __future__ import annotations

import logging

from core.bus import BusClient, DriverProcess, RetryPolicy, aerodesk_dispatcher
from core.bus.publisher import OfferFailure
from core.daemons.outbox import Outbox
from tests.core.bus.frames import SEQ_TEMPLATE, seq_frame, seq_of
from tests.core.bus.helpers import poll_until, wait_connected

HOLDS = RetryPolicy(back_pressured=0, admin_action=10, not_connected=0)  # what the daemons' outboxes use
log = logging.getLogger("test.outbox")


def collector(got: list[int]):
    return aerodesk_dispatcher().on(SEQ_TEMPLATE, lambda m, h: got.append(seq_of(m)))


def test_what_the_stream_pushes_back_on_waits_in_order_and_a_stall_is_bounded(driver: DriverProcess):
    got: list[int] = []
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("control", collector(got))  # not polled until the outbox is full
        pub = bus.publisher("control", retry=HOLDS)  # 64 KiB terms in the test config: a 32 KiB window
        wait_connected(pub, [bus])
        outbox = Outbox(pub, "test output", log, max_held=50)
        results = [outbox.send(seq_frame(seq, 1000)) for seq in range(200)]
        through = results.index(None)  # the first one the stream pushed back on
        assert 0 < through < 150 and results[:through] == [True] * through
        assert results[through:] == [None] * (200 - through)  # held (never dropped for being slow) ...
        assert outbox.held_total == 200 - through and len(outbox.held) == 50  # ... up to max_held
        assert outbox.dropped == 200 - through - 50  # the oldest held gave way, counted
        assert poll_until(lambda: (outbox.flush(), not outbox.held)[1], [bus], [sub])
        assert poll_until(lambda: len(got) == through + 50, [bus], [sub])
    assert got == list(range(through)) + list(range(150, 200))  # in order, the newest 50 kept
    assert outbox.sent == through + 50 and outbox.held_total == 200 - through


def test_an_owner_may_hold_other_outcomes_and_the_rest_are_dropped(driver: DriverProcess):
    got: list[int] = []
    connecting = [True]
    with BusClient(driver.instance) as bus:
        pub = bus.publisher("state", retry=HOLDS)  # nobody subscribed yet: NOT_CONNECTED
        hold_also = lambda f: connecting[0] and f is OfferFailure.NOT_CONNECTED  # noqa: E731
        outbox = Outbox(pub, "test output", log, hold_also=hold_also)
        assert outbox.send(seq_frame(0)) is None and outbox.send(seq_frame(1)) is None
        assert outbox.flush() == 0 and len(outbox.held) == 2 and outbox.dropped == 0
        sub = bus.subscriber("state", collector(got))
        wait_connected(pub, [bus])
        assert outbox.flush() == 2
        assert poll_until(lambda: got == [0, 1], [bus], [sub])
        sub.close()
        assert poll_until(lambda: not pub.is_connected, [bus], [])
        connecting[0] = False  # no longer worth waiting for: dropped, and counted
        assert outbox.send(seq_frame(2)) is False
    assert outbox.dropped == 1 and outbox.held_total == 2 and not outbox.held


def test_a_stream_opened_later_gets_what_was_held_in_order(driver: DriverProcess):
    got: list[int] = []
    outbox = Outbox(None, "test output", log)
    assert [outbox.send(seq_frame(seq)) for seq in range(3)] == [None] * 3
    assert outbox.flush() == 0 and len(outbox.held) == 3
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", collector(got))
        pub = bus.publisher("state", retry=HOLDS)
        wait_connected(pub, [bus])
        outbox.attach(pub)
        assert outbox.send(seq_frame(3)) is None  # behind what waits: order is kept
        assert outbox.flush() == 4
        assert poll_until(lambda: len(got) == 4, [bus], [sub])
    assert got == [0, 1, 2, 3] and outbox.sent == 4 and outbox.dropped == 0
