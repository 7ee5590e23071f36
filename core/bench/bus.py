"""Bus benchmark: our Publisher/Subscriber/dispatcher against raw pyaeron offer/poll, same run.

    report = run_bus_bench()                  # or: aerodesk bench bus [--quick] [--json]

Both cases cross processes over `aeron:ipc` through a media driver this benchmark starts (instance
`bench-<random>`) and stops, and alternate raw and wrapped rounds so machine noise hits both alike.

- Latency: ping-pong between this process and a child; one-hop latency = RTT / 2, recorded per message
  (HDR histogram). Raw: pyaeron offer/poll in both processes. Wrapped: Publisher.offer and Subscriber.poll
  with a MessageDispatcher here; the child runs a pong agent beside its BusClient in an AgentRunner.
- Throughput: a child sends N messages as fast as the stream takes them; this process receives and
  counts them (the Python subscriber is the bottleneck). msg/s from first to last message received.

Same work on both sides: the raw baselines that carry the goals dispatch like any SBE consumer must, at
the least: read the template id from the fragment in place and call that template's handler (no
checks, no counters, no copy). What the wrapper adds on top - header validation, bad-input and handler
exception counting, the copy handlers may keep, offer outcome counting and bounded retries - is what is
measured. A raw handler that reads nothing at all (pyaeron's floor) is reported too, without a goal.
Same payload, same fragment limits (10 for ping-pong, FRAGMENT_LIMIT for throughput), same idle
strategy, same sender loop shape (offer; on failure idle and retry; reset the idle strategy once sent).

Idle strategy: backoff (core.agent default, 50 us max park) unless busy_spin=True; both sides of both
variants use the same one. Busy-spin needs a free core per spinning process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from core.agent import AgentRunner, CompositeAgent, backoff, busy_spin
from core.agent.idle import IdleStrategy
from core.bench.report import BenchCase, BenchReport, LatencyRecorder
from core.bench.workers import finish_worker, raw_aeron_client, spawn_worker
from core.bus import NO_RETRY, BusClient, MessageDispatcher, Publisher, StreamConfig, read_schema_identity
from core.bus.dispatch import MESSAGE_HEADER
from core.bus.launch import spawn_driver

PING = StreamConfig("bench_ping", "aeron:ipc", 1001, 2 << 20)
PONG = StreamConfig("bench_pong", "aeron:ipc", 1002, 2 << 20)
FLOOD = StreamConfig("bench_flood", "aeron:ipc", 1003, 2 << 20)
TEMPLATE_ID = 999
FRAGMENT_LIMIT = 256
BODY = struct.Struct("<7q")  # what the decoding handlers read: the 56-byte body of a 64-byte message
TEMPLATE_ID_FIELD = struct.Struct("<H")  # templateId, at offset 2 of the SBE message header
# Throughput cases in the order they run in a round; raw and wrapped alternate so noise hits both alike.
THROUGHPUT_CASES = (
    ("raw", False),
    ("wrapped", False),
    ("raw", True),
    ("wrapped", True),
    ("raw_floor", False),
)
_READY_TIMEOUT_S = 30.0
_RUN_TIMEOUT_S = 300.0


def run_bus_bench(
    *,
    quick: bool = False,
    messages: int | None = None,
    throughput_messages: int | None = None,
    payload_size: int = 64,
    rounds: int | None = None,
    busy_spin: bool = False,
) -> BenchReport:
    messages = messages or (2_000 if quick else 20_000)
    throughput_messages = throughput_messages or (100_000 if quick else 1_000_000)
    rounds = rounds or (1 if quick else 3)
    idle_name = "busy-spin" if busy_spin else "backoff"
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    driver = spawn_driver(instance)
    try:
        latency = {"raw": LatencyRecorder(), "wrapped": LatencyRecorder(), "agent": LatencyRecorder()}
        rates: dict[tuple[str, bool], list[float]] = {case: [] for case in THROUGHPUT_CASES}
        for _ in range(rounds):
            for variant in ("raw", "wrapped", "agent"):
                _ping_pong(variant, instance, messages, payload_size, idle_name, latency[variant])
            for variant, decode in THROUGHPUT_CASES:
                rate = _throughput(variant, instance, throughput_messages, payload_size, idle_name, decode)
                rates[variant, decode].append(rate)
        cpu = _subscriber_cpu_per_message(instance, payload_size, batches=20 * rounds if not quick else 10)
    finally:
        driver.stop()
    lat = {k: v.percentiles() for k, v in latency.items()}
    report = BenchReport(f"bus: {payload_size} B messages over aeron:ipc, two processes, {idle_name} idle")
    report.cases.append(
        BenchCase(
            name=f"one-hop latency (ping-pong RTT/2), Publisher/Subscriber, {messages} x {rounds} round(s)",
            unit="ns one-way",
            value={k: float(lat["wrapped"][k]) for k in ("p50", "p99", "p99.9")},
            baseline_name="raw pyaeron offer/poll, dispatch by template id",
            baseline={k: float(lat["raw"][k]) for k in ("p50", "p99", "p99.9")},
            goal="<= 1.3x",
        )
    )
    report.cases.append(
        BenchCase(
            name="one-hop latency, pong side a daemon: AgentRunner + CompositeAgent(BusClient, pong agent)",
            unit="ns one-way",
            value={k: float(lat["agent"][k]) for k in ("p50", "p99", "p99.9")},
            baseline_name="raw pyaeron offer/poll, dispatch by template id",
            baseline={k: float(lat["raw"][k]) for k in ("p50", "p99", "p99.9")},
        )
    )
    for decode, what in ((False, "handler counts only"), (True, "handler unpacks the body")):
        wrapped, raw = rates["wrapped", decode], rates["raw", decode]
        report.cases.append(
            BenchCase(
                name=f"one-way throughput, {what}, {throughput_messages} messages, median of {rounds}",
                unit="msg/s",
                value={"value": statistics.median(wrapped)},
                baseline_name="raw pyaeron offer/poll, dispatch by template id",
                baseline={"value": statistics.median(raw)},
                goal=">= 0.7x",
            )
        )
        report.notes.append(f"{what}, msg/s per round: raw {_rates(raw)}; wrapped {_rates(wrapped)}")
    floor = rates["raw_floor", False]
    report.cases.append(
        BenchCase(
            name=f"one-way throughput, handler counts only, {throughput_messages} messages, vs the floor",
            unit="msg/s",
            value={"value": statistics.median(rates["wrapped", False])},
            baseline_name="raw pyaeron floor: a handler that reads nothing, no dispatch",
            baseline={"value": statistics.median(floor)},
        )
    )
    report.notes.append(f"raw floor (reads nothing), msg/s per round: {_rates(floor)}")
    for baseline, what in (
        ("raw", "handler counts only"),
        ("raw_dispatch", "hand-written dispatch, no checks"),
    ):
        report.cases.append(
            BenchCase(
                name="subscriber CPU per message, in-process poll of the same messages",
                unit="ns/msg",
                value={"p50": cpu["wrapped"]},
                baseline_name=f"raw pyaeron poll, {what}",
                baseline={"p50": cpu[baseline]},
            )
        )
    report.notes.append(
        "the decoding handlers read the 56-byte body with struct.unpack_from: raw from pyaeron's BufferView "
        "in place, wrapped from the bytes the dispatcher hands over"
    )
    report.notes.append(
        "raw baselines with a goal read the template id in place and call its handler (what any SBE consumer "
        "does); the wrapper adds header checks, counters, the copy and offer outcome handling"
    )
    report.notes.append(f"{os.cpu_count()} CPUs; driver and both clients share them")
    return report


def _rates(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def _frame(payload_size: int) -> bytes:
    schema = read_schema_identity()
    body = max(payload_size - MESSAGE_HEADER.size, 0)
    return MESSAGE_HEADER.pack(body, TEMPLATE_ID, schema.schema_id, schema.version) + bytes(body)


def _raw_dispatcher(handlers: dict[int, Callable[[Any, Any], None]]) -> Callable[[Any, Any], None]:
    """The least a raw pyaeron SBE consumer does: read the template id in place and call its handler."""
    read_template_id = TEMPLATE_ID_FIELD.unpack_from

    def on_fragment(buffer: Any, header: Any) -> None:
        handlers[read_template_id(buffer, 2)[0]](buffer, header)

    return on_fragment


def _idle(name: str) -> IdleStrategy:
    return busy_spin() if name == "busy-spin" else backoff()


def _spawn_worker(
    mode: str, instance: str, count: int, payload_size: int, idle_name: str
) -> subprocess.Popen[str]:
    return spawn_worker(
        "core.bench.bus",
        mode,
        *("--instance", instance, "--count", str(count), "--size", str(payload_size), "--idle", idle_name),
    )


def _finish(worker: subprocess.Popen[str]) -> None:
    finish_worker(worker, f"benchmark worker {worker.args}", _RUN_TIMEOUT_S)


# -- latency ------------------------------------------------------------------------------------


def _ping_pong(
    variant: str, instance: str, count: int, size: int, idle_name: str, rec: LatencyRecorder
) -> None:
    warmup = max(count // 10, 100)
    total = warmup + count
    worker = _spawn_worker(f"pong-{variant}", instance, total, size, idle_name)
    try:
        if variant == "raw":
            _ping_raw(instance, total, warmup, size, idle_name, rec, worker)
        else:  # the agent variant differs on the pong side only
            _ping_wrapped(instance, total, warmup, size, idle_name, rec, worker)
    finally:
        _finish(worker)


def _await(condition: Any, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while not condition():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"benchmark worker did not connect (exit code {worker.poll()})")
        time.sleep(0.001)


def _ping_raw(instance, total, warmup, size, idle_name, rec, worker) -> None:  # type: ignore[no-untyped-def]
    aeron = raw_aeron_client(instance)
    try:
        pub = aeron.add_exclusive_publication(PING.publication_channel(), PING.stream_id)
        sub = aeron.add_subscription(PONG.subscription_channel(), PONG.stream_id)
        _await(lambda: pub.is_connected and sub.is_connected, worker)
        frame = _frame(size)
        idle = _idle(idle_name)
        got = [0]

        def on_pong(buffer: Any, header: Any) -> None:
            got[0] += 1

        on_fragment = _raw_dispatcher({TEMPLATE_ID: on_pong})
        clock = time.perf_counter_ns
        for i in range(total):
            t0 = clock()
            while pub.offer(frame) is not True:
                idle.idle(0)
            while got[0] <= i:
                idle.idle(sub.poll(on_fragment, 10))
            if i >= warmup:
                rec.record((clock() - t0) // 2)
    finally:
        aeron.close()


def _ping_wrapped(instance, total, warmup, size, idle_name, rec, worker) -> None:  # type: ignore[no-untyped-def]
    schema = read_schema_identity()
    got = [0]

    def on_pong(message: bytes, header: Any) -> None:
        got[0] += 1

    with BusClient(instance, role_name="bench-ping") as bus:
        pub = bus.publisher(PING, retry=NO_RETRY)
        sub = bus.subscriber(
            PONG, MessageDispatcher(schema.schema_id, schema.version).on(TEMPLATE_ID, on_pong)
        )
        _await(lambda: pub.is_connected and sub.is_connected, worker)
        frame = _frame(size)
        idle = _idle(idle_name)
        clock = time.perf_counter_ns
        for i in range(total):
            t0 = clock()
            while not pub.offer(frame):
                idle.idle(0)
            while got[0] <= i:
                idle.idle(sub.poll(10))
            if i >= warmup:
                rec.record((clock() - t0) // 2)


def _pong_raw(instance: str, total: int, idle_name: str) -> None:
    aeron = raw_aeron_client(instance)
    try:
        pub = aeron.add_exclusive_publication(PONG.publication_channel(), PONG.stream_id)
        sub = aeron.add_subscription(PING.subscription_channel(), PING.stream_id)
        idle = _idle(idle_name)
        echoed = [0]

        def on_ping(buffer: Any, header: Any) -> None:
            while pub.offer(buffer) is not True:  # forwards the view without a copy
                pass
            echoed[0] += 1

        on_fragment = _raw_dispatcher({TEMPLATE_ID: on_ping})
        while echoed[0] < total:
            idle.idle(sub.poll(on_fragment, 10))
    finally:
        aeron.close()


class _PongAgent:
    role_name = "bench-pong"

    def __init__(self, bus: BusClient, total: int) -> None:
        schema = read_schema_identity()
        self.total = total
        self.echoed = 0
        self.runner: AgentRunner | None = None
        self.pub: Publisher = bus.publisher(PONG, retry=NO_RETRY)
        dispatcher = MessageDispatcher(schema.schema_id, schema.version).on(TEMPLATE_ID, self.on_ping)
        self.sub = bus.subscriber(PING, dispatcher, fragment_limit=10)

    def on_start(self) -> None: ...

    def on_close(self) -> None: ...

    def on_ping(self, message: bytes, header: Any) -> None:
        while not self.pub.offer(message):
            pass
        self.echoed += 1
        if self.echoed >= self.total and self.runner is not None:
            self.runner.stop()

    def do_work(self) -> int:
        return self.sub.poll()


def _pong_wrapped(instance: str, total: int, idle_name: str) -> None:
    """The raw pong loop with Publisher, Subscriber and MessageDispatcher in place of pyaeron's."""
    schema = read_schema_identity()
    echoed = [0]
    with BusClient(instance, role_name="bench-pong") as bus:
        pub = bus.publisher(PONG, retry=NO_RETRY)

        def on_ping(message: bytes, header: Any) -> None:
            while not pub.offer(message):
                pass
            echoed[0] += 1

        sub = bus.subscriber(
            PING,
            MessageDispatcher(schema.schema_id, schema.version).on(TEMPLATE_ID, on_ping),
            fragment_limit=10,
        )
        idle = _idle(idle_name)
        while echoed[0] < total:
            idle.idle(sub.poll())


def _pong_agent(instance: str, total: int, idle_name: str) -> None:
    bus = BusClient(instance, role_name="bench-pong")
    agent = _PongAgent(bus, total)
    runner = AgentRunner(CompositeAgent([bus, agent]), _idle(idle_name))
    agent.runner = runner
    runner.run()
    if runner.failed:
        raise RuntimeError(f"pong agent failed: {runner.last_error}")


# -- subscriber cost ------------------------------------------------------------------------------


def _subscriber_cpu_per_message(
    instance: str, size: int, *, batches: int, batch: int = 4_000
) -> dict[str, float]:
    """Thread CPU time per message of a poll loop over the same messages (three subscriptions of one
    stream): raw pyaeron with a handler that only counts; raw pyaeron with a hand-written dispatch
    (read the header from the view, look the template up, call its handler; no checks); and Subscriber
    + MessageDispatcher. CPU time is immune to waiting for a core on a busy machine."""
    schema = read_schema_identity()
    got = [0]

    def count(message: Any, header: Any) -> None:
        got[0] += 1

    hand_dispatch = _raw_dispatcher({TEMPLATE_ID: count})
    samples: dict[str, list[float]] = {"raw": [], "raw_dispatch": [], "wrapped": []}
    aeron = raw_aeron_client(instance)
    try:
        raw_subs = [aeron.add_subscription(FLOOD.subscription_channel(), FLOOD.stream_id) for _ in range(2)]
        with BusClient(instance, role_name="bench-cpu") as bus:
            dispatcher = MessageDispatcher(schema.schema_id, schema.version).on(TEMPLATE_ID, count)
            sub = bus.subscriber(FLOOD, dispatcher, fragment_limit=FRAGMENT_LIMIT)
            pub = bus.publisher(FLOOD, retry=NO_RETRY)
            deadline = time.monotonic() + _READY_TIMEOUT_S
            while not (pub.is_connected and all(s.image_count for s in raw_subs) and sub.image_count):
                if time.monotonic() > deadline:
                    raise RuntimeError("in-process benchmark subscribers did not connect")
                time.sleep(0.001)
            frame = _frame(size)
            polls = {
                "raw": lambda: raw_subs[0].poll(count, FRAGMENT_LIMIT),
                "raw_dispatch": lambda: raw_subs[1].poll(hand_dispatch, FRAGMENT_LIMIT),
                "wrapped": sub.poll,
            }
            for _ in range(batches):
                sent = sum(1 for _ in range(batch) if pub.offer(frame))
                if not sent:
                    time.sleep(0.001)
                    continue
                for name, poll in polls.items():
                    got[0] = 0
                    t0 = time.thread_time_ns()
                    while got[0] < sent:
                        poll()
                    samples[name].append((time.thread_time_ns() - t0) / sent)
    finally:
        aeron.close()
    return {k: statistics.median(v) for k, v in samples.items()}


# -- throughput ---------------------------------------------------------------------------------


def _throughput(variant: str, instance: str, count: int, size: int, idle_name: str, decode: bool) -> float:
    """msg/s received; variant raw (dispatch by template id), raw_floor (reads nothing) or wrapped."""
    sender = "send-wrapped" if variant == "wrapped" else "send-raw"
    worker = _spawn_worker(sender, instance, count, size, idle_name)
    try:
        if variant == "raw":
            return _receive_raw(instance, count, idle_name, worker, decode, dispatch=True)
        if variant == "raw_floor":
            return _receive_raw(instance, count, idle_name, worker, decode, dispatch=False)
        return _receive_wrapped(instance, count, idle_name, worker, decode)
    finally:
        _finish(worker)


def _receive_raw(
    instance: str, count: int, idle_name: str, worker: subprocess.Popen[str], decode: bool, *, dispatch: bool
) -> float:
    aeron = raw_aeron_client(instance)
    try:
        sub = aeron.add_subscription(FLOOD.subscription_channel(), FLOOD.stream_id)
        got = [0]
        unpack = BODY.unpack_from

        def count_only(buffer: Any, header: Any) -> None:
            got[0] += 1

        def unpack_body(buffer: Any, header: Any) -> None:
            unpack(buffer, MESSAGE_HEADER.size)
            got[0] += 1

        on_message = unpack_body if decode else count_only
        on_fragment = _raw_dispatcher({TEMPLATE_ID: on_message}) if dispatch else on_message
        poll = partial(sub.poll, on_fragment, FRAGMENT_LIMIT)  # as Subscriber binds it
        return _receive_loop(poll, got, count, idle_name, worker)
    finally:
        aeron.close()


def _receive_wrapped(
    instance: str, count: int, idle_name: str, worker: subprocess.Popen[str], decode: bool
) -> float:
    schema = read_schema_identity()
    got = [0]
    unpack = BODY.unpack_from

    def count_only(message: bytes, header: Any) -> None:
        got[0] += 1

    def unpack_body(message: bytes, header: Any) -> None:
        unpack(message, MESSAGE_HEADER.size)
        got[0] += 1

    on_message = unpack_body if decode else count_only

    with BusClient(instance, role_name="bench-receive") as bus:
        dispatcher = MessageDispatcher(schema.schema_id, schema.version).on(TEMPLATE_ID, on_message)
        sub = bus.subscriber(FLOOD, dispatcher, fragment_limit=FRAGMENT_LIMIT)
        return _receive_loop(sub.poll, got, count, idle_name, worker)


def _receive_loop(
    poll: Any, got: list[int], count: int, idle_name: str, worker: subprocess.Popen[str]
) -> float:
    idle = _idle(idle_name)
    deadline = time.monotonic() + _RUN_TIMEOUT_S
    while got[0] == 0:
        idle.idle(poll())
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"benchmark sender sent nothing (exit code {worker.poll()})")
    t0 = time.perf_counter_ns()
    first = got[0]
    while got[0] < count:
        idle.idle(poll())
    elapsed = time.perf_counter_ns() - t0
    return (count - first) / (elapsed / 1e9)


def _send_raw(instance: str, count: int, size: int, idle_name: str) -> None:
    aeron = raw_aeron_client(instance)
    try:
        pub = aeron.add_exclusive_publication(FLOOD.publication_channel(), FLOOD.stream_id)
        while not pub.is_connected:
            time.sleep(0.001)
        frame = _frame(size)
        idle = _idle(idle_name)
        offer = pub.offer
        for _ in range(count):
            if offer(frame) is not True:
                while offer(frame) is not True:
                    idle.idle(0)
                idle.reset()
    finally:
        aeron.close()


def _send_wrapped(instance: str, count: int, size: int, idle_name: str) -> None:
    with BusClient(instance, role_name="bench-send") as bus:
        pub = bus.publisher(FLOOD, idle_strategy=_idle(idle_name))
        while not pub.is_connected:
            time.sleep(0.001)
        frame = _frame(size)
        offer = pub.offer
        for _ in range(count):
            if not offer(frame):
                while not offer(frame):
                    pass


def _worker_main() -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench.bus")
    parser.add_argument(
        "mode", choices=["pong-raw", "pong-wrapped", "pong-agent", "send-raw", "send-wrapped"]
    )
    parser.add_argument("--instance", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--idle", default="backoff")
    a = parser.parse_args()
    if a.mode == "pong-raw":
        _pong_raw(a.instance, a.count, a.idle)
    elif a.mode == "pong-wrapped":
        _pong_wrapped(a.instance, a.count, a.idle)
    elif a.mode == "pong-agent":
        _pong_agent(a.instance, a.count, a.idle)
    elif a.mode == "send-raw":
        _send_raw(a.instance, a.count, a.size, a.idle)
    else:
        _send_wrapped(a.instance, a.count, a.size, a.idle)
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main())
