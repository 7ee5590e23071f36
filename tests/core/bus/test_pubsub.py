"""Publishers and subscribers over a real media driver, within a process and across processes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from core.bus import (
    NO_RETRY,
    BusClient,
    DriverProcess,
    MessageDispatcher,
    OfferFailure,
    RetryPolicy,
    aerodesk_dispatcher,
    copy_frame,
    load_bus_config,
)
from core.bus.counters import BAD_INPUT_REASONS, MAX_NAME_LENGTH
from tests.core.bus.conftest import Processes
from tests.core.bus.frames import (
    BOOM_TEMPLATE,
    SCHEMA,
    SEQ_TEMPLATE,
    check_seq_frame,
    frame,
    seq_frame,
    seq_of,
)
from tests.core.bus.helpers import poll_until, wait_connected


class Collector:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.sessions: set[int] = set()

    def __call__(self, message: bytes, header) -> None:
        self.messages.append(message)
        self.sessions.add(header.session_id)

    @property
    def seqs(self) -> list[int]:
        return [seq_of(m) for m in self.messages]


def boom(message: bytes, header) -> None:
    raise RuntimeError("handler failure under test")


def test_cross_process_messages_larger_than_the_mtu_are_reassembled(driver: DriverProcess, procs: Processes):
    got = Collector()
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", aerodesk_dispatcher().on(SEQ_TEMPLATE, got))
        size = 100_000  # ~70 fragments at the IPC MTU; state allows up to 1 MiB / 8
        child = procs.python("-m", "tests.core.bus.procs", "publish", "--instance", driver.instance,
                             "--stream", "state", "--count", "20", "--size", str(size))  # fmt: skip
        assert poll_until(lambda: len(got.messages) == 20, [bus], [sub])
        out, _ = child.communicate(timeout=30)
    assert child.returncode == 0
    report = json.loads(out)
    assert report["sent"] == [True] * 20 and report["counters"]["sent"] == 20
    # The child waits out back pressure itself (offer again), so the publisher may report offers it gave
    # up on for back pressure; nothing else may be dropped.
    assert report["counters"]["dropped"] == report["counters"]["dropped_bp"]
    assert got.seqs == list(range(20))
    assert all(len(m) == size and check_seq_frame(m) for m in got.messages)
    assert sub.counters.received == 20 and sub.counters.bad_input() == 0


def test_cross_process_bad_input_is_counted_per_reason_and_skipped(driver: DriverProcess, procs: Processes):
    frames = [
        seq_frame(1),
        b"\x01\x02\x03\x04\x05",  # shorter than the header
        frame(SEQ_TEMPLATE, b"\x00" * 4, block_length=32),  # shorter than its blockLength
        frame(999, b"\x00" * 8),  # unknown template
        frame(SEQ_TEMPLATE, b"\x00" * 8, schema_id=SCHEMA.schema_id + 1),  # another schema
        frame(SEQ_TEMPLATE, b"\x00" * 8, version=SCHEMA.version + 1),  # newer version
        frame(BOOM_TEMPLATE, b"\x00" * 8),  # the handler raises
        frame(SEQ_TEMPLATE, seq_frame(2)[8:], version=0, block_length=8),  # older version: understood
        seq_frame(3),
        seq_frame(4)[:12],  # the header of a good message seen before, the block cut short
        seq_frame(5),
    ]
    got = Collector()
    with BusClient(driver.instance) as bus:
        dispatcher = aerodesk_dispatcher().on(SEQ_TEMPLATE, got).on(BOOM_TEMPLATE, boom)
        sub = bus.subscriber("state", dispatcher, fragment_limit=100)
        child = procs.python("-m", "tests.core.bus.procs", "publish", "--instance", driver.instance,
                             "--stream", "state", "--hex", *[f.hex() for f in frames])  # fmt: skip
        out, _ = child.communicate(timeout=30)
        assert json.loads(out)["sent"] == [True] * len(frames)
        # Everything is in the log already: one poll delivers the whole batch, bad frames included.
        assert poll_until(
            lambda: sub.counters.received + sub.counters.bad_input() == len(frames), [bus], [sub]
        )
    c = sub.counters.as_dict()
    assert {r: c[r] for r in BAD_INPUT_REASONS} == {
        "bad_short_header": 1,
        "bad_short_block": 2,
        "bad_template": 1,
        "bad_schema": 1,
        "bad_version": 1,
        "bad_decode": 0,
        "handler_error": 1,
    }
    assert got.seqs == [1, 2, 3, 5]
    assert c["received"] == 4


def test_handler_exception_does_not_lose_the_rest_of_the_batch(driver: DriverProcess):
    got = Collector()
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", aerodesk_dispatcher().on(SEQ_TEMPLATE, got).on(BOOM_TEMPLATE, boom))
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        wait_connected(sub, [bus])  # its image comes a conductor cycle after the publication connects
        sent = [pub.offer(seq_frame(0)), pub.offer(frame(BOOM_TEMPLATE, b"")), pub.offer(seq_frame(1))]
        sent += [pub.offer(seq_frame(2)), pub.offer(frame(BOOM_TEMPLATE, b"")), pub.offer(seq_frame(3))]
        assert sent == [True] * 6
        assert sub.poll(fragment_limit=100) == 6  # one batch
    assert got.seqs == [0, 1, 2, 3]
    assert sub.counters.handler_error == 2 and sub.counters.received == 4


def test_replacing_a_handler_takes_effect_at_once(driver: DriverProcess):
    first, second = Collector(), Collector()
    dispatcher = aerodesk_dispatcher().on(SEQ_TEMPLATE, first)
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", dispatcher)
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        assert pub.offer(seq_frame(1))
        assert poll_until(lambda: len(first.messages) == 1, [bus], [sub])
        dispatcher.on(SEQ_TEMPLATE, second)  # after the header was seen and cached
        assert pub.offer(seq_frame(2))
        assert poll_until(lambda: len(second.messages) == 1, [bus], [sub])
    assert first.seqs == [1] and second.seqs == [2]


def test_decoder_failures_are_counted_and_decoded_messages_delivered(driver: DriverProcess):
    def decode(frame_bytes: bytes) -> int:
        seq = seq_of(frame_bytes)
        if seq == 13:
            raise ValueError("undecodable")
        return seq

    seqs: list[int] = []
    dispatcher = MessageDispatcher(SCHEMA.schema_id, SCHEMA.version, decoder=decode)
    dispatcher.on(SEQ_TEMPLATE, lambda message, header: seqs.append(message))
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", dispatcher)
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        for seq in (12, 13, 14):
            assert pub.offer(seq_frame(seq))
        assert poll_until(lambda: len(seqs) == 2, [bus], [sub])
    assert seqs == [12, 14]
    assert sub.counters.bad_decode == 1


def test_zero_copy_handlers_get_a_view_and_copy_what_they_keep(driver: DriverProcess):
    kept: list[bytes] = []
    dispatcher = aerodesk_dispatcher(copy=False).on(
        SEQ_TEMPLATE, lambda view, header: kept.append(copy_frame(view))
    )
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", dispatcher)
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        for seq in range(5):
            assert pub.offer(seq_frame(seq, 64))
        assert poll_until(lambda: len(kept) == 5, [bus], [sub])
    assert [seq_of(m) for m in kept] == list(range(5))
    assert all(check_seq_frame(m) for m in kept)


def test_raw_fragment_handlers_are_guarded_too(driver: DriverProcess):
    seen: list[bytes] = []

    def raw_handler(view, header) -> None:
        data = copy_frame(view)
        if seq_of(data) == 2:
            raise RuntimeError("raw handler failure under test")
        seen.append(data)

    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", raw_handler)
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        for seq in (1, 2, 3):
            assert pub.offer(seq_frame(seq))
        assert poll_until(lambda: len(seen) == 2, [bus], [sub])
    assert [seq_of(m) for m in seen] == [1, 3]
    assert sub.counters.handler_error == 1 and sub.counters.received == 2


def test_offer_a_slice_of_a_buffer(driver: DriverProcess):
    got = Collector()
    with BusClient(driver.instance) as bus:
        sub = bus.subscriber("state", aerodesk_dispatcher().on(SEQ_TEMPLATE, got))
        pub = bus.publisher("state")
        wait_connected(pub, [bus])
        buffer = bytearray(b"\xff" * 5) + seq_frame(7, 40) + bytearray(b"\xee" * 3)
        assert pub.offer(buffer, 5, 40) is True
        assert poll_until(lambda: len(got.messages) == 1, [bus], [sub])
    assert got.messages == [seq_frame(7, 40)]


def test_offer_without_subscriber_is_not_connected_and_counted(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        pub = bus.publisher("control")
        assert pub.offer(seq_frame(1)) is OfferFailure.NOT_CONNECTED
        assert pub.counters.not_connected == 1 and pub.counters.dropped_nc == 1 and pub.counters.dropped == 1
        retrying = bus.publisher("venue_orders", retry=RetryPolicy(not_connected=3))
        assert not retrying.offer(seq_frame(1))
        assert retrying.counters.not_connected == 4 and retrying.counters.dropped_nc == 1
        assert pub.counters.sent == 0 and retrying.counters.sent == 0


@pytest.mark.parametrize("retry", [NO_RETRY, RetryPolicy(back_pressured=5)], ids=["no-retry", "5-retries"])
def test_back_pressure_is_retried_then_reported(driver: DriverProcess, retry: RetryPolicy):
    with BusClient(driver.instance) as bus:
        # A subscriber that is not polled until the publisher has met back pressure.
        sub = bus.subscriber("control", aerodesk_dispatcher(default_handler=lambda m, h: None))
        pub = bus.publisher("control", retry=retry)  # 64 KiB terms in the test config: a 32 KiB window
        wait_connected(pub, [bus])
        big = seq_frame(0, 1000)
        results = [pub.offer(big) for _ in range(200)]
        first_failure = results.index(OfferFailure.BACK_PRESSURED)
        assert first_failure > 0 and all(results[:first_failure])
        c = pub.counters
        assert c.sent == first_failure
        assert c.dropped_bp == c.dropped == 200 - first_failure
        assert c.back_pressured == c.dropped_bp * (retry.back_pressured + 1)
        # Once the subscriber catches up (and the driver has moved the publication limit) it flows again.
        assert poll_until(lambda: sub.counters.received == first_failure, [bus], [sub])
        assert poll_until(lambda: pub.offer(big) is True, [bus], [sub])


def test_message_longer_than_the_stream_maximum_is_refused(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        bus.subscriber("control", aerodesk_dispatcher())
        pub = bus.publisher("control")
        wait_connected(pub, [bus])
        too_big = seq_frame(0, pub.stream.max_message_length + 1)
        assert pub.offer(too_big) is OfferFailure.TOO_BIG
        assert pub.counters.dropped_too_big == 1
        assert pub.offer(seq_frame(0, pub.stream.max_message_length)) is True


def test_one_publisher_per_stream_and_process(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        pub = bus.publisher("state")
        assert bus.publisher("state") is pub  # shared: one exclusive publication, one session
        assert bus.publisher("control") is not pub
        with pytest.raises(ValueError, match="already has a publisher"):
            bus.publisher("state", retry=NO_RETRY)
        pub.close()
        assert bus.publisher("state", retry=NO_RETRY) is not pub


def test_closed_publisher_reports_closed(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        pub = bus.publisher("control")
        pub.close()
        assert pub.offer(seq_frame(0)) is OfferFailure.CLOSED
        assert pub.counters.dropped_closed == 1


def test_a_closed_and_dropped_subscriber_outlives_aerons_late_image_callbacks(
    driver: DriverProcess, procs: Processes
):
    """Aeron closes a subscription on its conductor thread and calls the image callbacks then, with the
    pyaeron subscription as their context. A process that freed it crashed (SIGSEGV); the bus client
    keeps closed subscriptions alive until its Aeron client is closed. In a child process, as the crash
    takes the whole process."""
    args = ["churn", "--instance", driver.instance, "--count", "100"]
    child = procs.python("-m", "tests.core.bus.procs", *args)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0, f"churn exited {child.returncode}: {out}"
    result = json.loads(out.strip().splitlines()[-1])
    assert result["images_joined"] == 100  # every subscriber saw its image join
    # and "left" callbacks did come after close() (not for all: Aeron skips an image that lingers)
    assert result["images_left"] > 0


def test_exclusive_publications_give_each_publisher_its_own_session(driver: DriverProcess):
    got = Collector()
    with BusClient(driver.instance) as bus_a, BusClient(driver.instance) as bus_b:
        sub = bus_a.subscriber("state", aerodesk_dispatcher().on(SEQ_TEMPLATE, got))
        pubs = [bus_a.publisher("state"), bus_b.publisher("state")]
        for p in pubs:
            wait_connected(p, [bus_a, bus_b])
        sessions = {pubs[0].session_id, pubs[1].session_id}
        assert len(sessions) == 2
        assert pubs[0].offer(seq_frame(1)) and pubs[1].offer(seq_frame(2))
        assert poll_until(lambda: len(got.messages) == 2, [bus_a, bus_b], [sub])
    assert got.sessions == sessions
    assert sub.counters.images_joined == 2  # one image per publisher, reported by the client conductor


def test_untethered_observer_never_holds_back_the_publisher(driver: DriverProcess):
    """A frozen untethered observer is left behind; a frozen tethered subscriber would block the stream."""
    got = Collector()
    with BusClient(driver.instance) as bus:
        fast = bus.subscriber("control", aerodesk_dispatcher().on(SEQ_TEMPLATE, got))
        frozen = bus.subscriber("control", aerodesk_dispatcher(), tether=False)
        pub = bus.publisher("control", retry=NO_RETRY)
        wait_connected(pub, [bus])
        wait_connected(fast, [bus])  # the images come a conductor cycle or two after the publication
        wait_connected(frozen, [bus])
        target = 8 * pub.stream.term_length // 1000  # several windows' worth of 1000-byte messages
        seq = 0

        def publish_and_check() -> bool:
            nonlocal seq
            if pub.offer(seq_frame(seq, 1000)):
                seq += 1
            return len(got.messages) >= target

        assert poll_until(publish_and_check, [bus], [fast])
    assert got.seqs == list(range(len(got.messages)))  # the tethered subscriber lost nothing
    assert frozen.counters.received == 0


def test_udp_channel_from_config(tmp_path: Path, procs: Processes, instance: str, monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "udp.toml"
    path.write_text(
        "[driver]\ndriver_timeout_ms = 2000\n"
        f'[streams.state]\nchannel = "aeron:udp?endpoint=127.0.0.1:{port}"\n'
    )
    monkeypatch.setenv("AERODESK_CHANNELS_CONFIG", str(path))
    procs.driver(instance, path)
    got = Collector()
    config = load_bus_config(path)
    with BusClient(instance, config=config) as bus:
        sub = bus.subscriber("state", aerodesk_dispatcher().on(SEQ_TEMPLATE, got))
        pub = bus.publisher("state")
        assert pub.channel == f"aeron:udp?endpoint=127.0.0.1:{port}|term-length=1048576"
        wait_connected(pub, [bus])
        for seq in range(10):
            assert pub.offer(seq_frame(seq, 5000))
        assert poll_until(lambda: len(got.messages) == 10, [bus], [sub])
    assert got.seqs == list(range(10)) and all(check_seq_frame(m) for m in got.messages)


def test_counter_names_fit_a_heartbeat(driver: DriverProcess):
    with BusClient(driver.instance) as bus:
        for name in load_bus_config().streams:
            bus.publisher(name)
            bus.subscriber(name, aerodesk_dispatcher())
        names = bus.counters_dict()
    assert "order_requests.bad_short_header" in names and "bus.driver_lost" in names
    assert max(len(n) for n in names) <= MAX_NAME_LENGTH
