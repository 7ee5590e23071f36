"""Baselines of the tick-to-order benchmark: the desk's three hops (md -> strategy -> oms -> exec) with
nothing but a transport, in processes of their own.

- `aeron`: four processes over aeron:ipc: the md source, the strategy and oms relays (poll -> offer of
  the same frame, minimal Python) and the exec sink, each with the idle strategy of the profile it is
  compared with.
- `aeron-chain`: the same four parts in one process on one thread, as the low-latency profile's
  composite daemon runs the hot path (four spinning processes would starve each other on a small host).
- `zmq`: the four processes over ZeroMQ PAIR sockets (ipc://), each hop `json.loads` of the message and
  `json.dumps` of a dict of the fields a strategy and an oms would carry, with blocking `recv`: the
  baseline a user would build without aerodesk.

The source stamps every tick with the epoch clock (as md stamps publishTs) and sends `count` ticks at
`rate` per second; the sink records arrival - publishTs (same host, same clock) after `warmup` ticks in
an HDR histogram. Every process prints one JSON line on stdout when done: its role, the CPU seconds and
wall seconds of its run loop, and (the sink) the histogram, HDR-encoded.

    python -m core.bench.relay aeron --role md|strategy|oms|exec --instance I --idle SPEC --count N ...
    python -m core.bench.relay aeron-chain --instance I --idle SPEC --count N --rate R --warmup W
    python -m core.bench.relay zmq --role md|strategy|oms|exec --dir D --count N --rate R --warmup W
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.agent.idle import IdleStrategy, WakeIdle, parse_idle_strategy
from core.bench.report import LatencyRecorder
from core.bench.workers import raw_aeron_client
from core.bus import StreamConfig, instance_dir
from core.bus.doorbell import Doorbell, DoorbellUnavailable, stream_bit

ROLES = ("md", "strategy", "oms", "exec")
# md -> strategy, strategy -> oms, oms -> exec
HOPS = tuple(StreamConfig(f"relay_{i}", "aeron:ipc", 1101 + i, 1 << 20) for i in range(3))
TICK = struct.Struct("<qq80x")  # publishTs, seq, padding: a 96-byte frame
FRAGMENTS = 10
_CONNECT_TIMEOUT_S = 30.0
_ZMQ_LINGER_MS = 30_000


class Run:
    """The CPU and wall time of a run loop (getrusage: immune to waiting for a core)."""

    def __enter__(self) -> Run:
        self.cpu0, self.wall0 = _cpu_s(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu_s, self.wall_s = _cpu_s() - self.cpu0, time.monotonic() - self.wall0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _done(role: str, run: Run, sink: LatencyRecorder | None = None) -> None:
    out: dict[str, Any] = {"role": role, "cpu_s": run.cpu_s, "wall_s": run.wall_s}
    if sink is not None:
        out["hist"] = sink.hist.encode().decode("ascii")
    print(json.dumps(out), flush=True)


class Pacer:
    """Due times of `count` ticks at `rate` per second from the first call."""

    def __init__(self, count: int, rate: float) -> None:
        self.count = count
        self.interval_ns = int(1e9 / rate)
        self.sent = 0
        self.next_ns = 0

    def due(self, now: int) -> bool:
        if self.sent >= self.count:
            return False
        if not self.next_ns:
            self.next_ns = now
        return now >= self.next_ns

    def sent_one(self) -> None:
        self.sent += 1
        self.next_ns += self.interval_ns


class Sink:
    """Records arrival - publishTs of every tick after the warm-up."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.received = 0
        self.recorder = LatencyRecorder()

    def arrived(self, publish_ts: int) -> None:
        latency = time.time_ns() - publish_ts
        self.received += 1
        if self.received > self.warmup:
            self.recorder.record(latency)


# -- aeron --------------------------------------------------------------------------------------------


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _CONNECT_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"relay: timed out waiting for {what}")
        time.sleep(0.001)


class _RawWake:
    """The desk's doorbell used as the daemons use it (core/bus/doorbell.py), for a relay on `wake`:
    ring for the outbound stream after a send, wait for the inbound one."""

    def __init__(self, instance: str, inbound: StreamConfig | None, outbound: StreamConfig | None) -> None:
        self.doorbell = Doorbell.open(instance_dir(instance))
        self.in_bits = stream_bit(inbound.stream_id) if inbound else 0
        self.out_bits = stream_bit(outbound.stream_id) if outbound else 0
        self._armed = 0

    def arm(self) -> None:
        self._armed = self.doorbell.sequence

    def wait(self, timeout_ns: int) -> None:
        self.doorbell.wait(self._armed, timeout_ns, self.in_bits)

    def ring(self) -> None:
        self.doorbell.ring(self.out_bits)


def _bind_wake(idle: IdleStrategy, instance: str, role: str) -> Callable[[], None]:
    """The ring to call after a send: the doorbell's when `idle` is `wake`, else nothing."""
    if not isinstance(idle, WakeIdle):
        return _no_ring
    index = ROLES.index(role)
    try:
        wake = _RawWake(instance, HOPS[index - 1] if index else None, HOPS[index] if index < 3 else None)
    except DoorbellUnavailable:
        return _no_ring
    idle.bind(wake)
    return wake.ring


def _no_ring() -> None:
    pass


def _offer(pub: Any, frame: Any) -> None:
    """Offer until the stream takes it: back pressure and term rotations are retried, nothing dropped."""
    while pub.offer(frame) is not True:
        pass


def aeron_role(role: str, instance: str, idle: IdleStrategy, count: int, rate: float, warmup: int) -> None:
    aeron = raw_aeron_client(instance)
    try:
        index = ROLES.index(role)
        pub = None
        if index < 3:  # everyone but the sink publishes the next hop; connect downstream first
            out = HOPS[index]
            pub = aeron.add_exclusive_publication(out.publication_channel(), out.stream_id)
            _wait(lambda: pub.is_connected, f"{role}: its subscriber downstream")
        ring = _bind_wake(idle, instance, role)
        if role == "md":
            assert pub is not None
            _aeron_source(pub, idle, Pacer(count, rate), ring)
            return
        inbound = HOPS[index - 1]
        sub = aeron.add_subscription(inbound.subscription_channel(), inbound.stream_id)
        if role == "exec":
            _aeron_sink(sub, idle, count, Sink(warmup))
        else:
            assert pub is not None
            _aeron_relay(role, sub, pub, idle, count, ring)
    finally:
        aeron.close()


def _aeron_source(pub: Any, idle: IdleStrategy, pacer: Pacer, ring: Callable[[], None]) -> None:
    frame = bytearray(TICK.size)
    with Run() as run:
        while pacer.sent < pacer.count:
            work = 0
            if pacer.due(time.time_ns()):
                TICK.pack_into(frame, 0, time.time_ns(), pacer.sent)
                _offer(pub, frame)
                ring()
                pacer.sent_one()
                work = 1
            idle.idle(work)
    _done("md", run)


def _aeron_relay(
    role: str, sub: Any, pub: Any, idle: IdleStrategy, count: int, ring: Callable[[], None]
) -> None:
    forwarded = [0]

    def forward(buffer: Any, _header: Any) -> None:
        _offer(pub, buffer)  # the frame as it came, without a copy
        forwarded[0] += 1

    with Run() as run:
        while forwarded[0] < count:
            work = sub.poll(forward, FRAGMENTS)
            if work:
                ring()  # once per poll, as a daemon rings once per duty cycle
            idle.idle(work)
    _done(role, run)


def _aeron_sink(sub: Any, idle: IdleStrategy, count: int, sink: Sink) -> None:
    unpack = TICK.unpack_from

    def arrived(buffer: Any, _header: Any) -> None:
        sink.arrived(unpack(buffer)[0])

    with Run() as run:
        while sink.received < count:
            idle.idle(sub.poll(arrived, FRAGMENTS))
    _done("exec", run, sink.recorder)


def aeron_chain(instance: str, idle: IdleStrategy, count: int, rate: float, warmup: int) -> None:
    """md, strategy, oms and exec on one thread: one duty cycle polls every hop in path order."""
    aeron = raw_aeron_client(instance)
    try:
        pubs = [aeron.add_exclusive_publication(h.publication_channel(), h.stream_id) for h in HOPS]
        subs = [aeron.add_subscription(h.subscription_channel(), h.stream_id) for h in HOPS]
        _wait(lambda: all(p.is_connected for p in pubs), "the chain's subscriptions")
        pacer, sink = Pacer(count, rate), Sink(warmup)
        frame = bytearray(TICK.size)
        unpack = TICK.unpack_from
        to_oms, to_exec = pubs[1], pubs[2]

        def strategy(buffer: Any, _header: Any) -> None:
            _offer(to_oms, buffer)

        def oms(buffer: Any, _header: Any) -> None:
            _offer(to_exec, buffer)

        def exec_(buffer: Any, _header: Any) -> None:
            sink.arrived(unpack(buffer)[0])

        s1, s2, s3 = subs
        md = pubs[0]
        with Run() as run:
            while sink.received < count:
                work = 0
                if pacer.due(time.time_ns()):
                    TICK.pack_into(frame, 0, time.time_ns(), pacer.sent)
                    _offer(md, frame)
                    pacer.sent_one()
                    work = 1
                work += s1.poll(strategy, FRAGMENTS)
                work += s2.poll(oms, FRAGMENTS)
                work += s3.poll(exec_, FRAGMENTS)
                idle.idle(work)
        _done("chain", run, sink.recorder)
    finally:
        aeron.close()


# -- ZeroMQ -------------------------------------------------------------------------------------------


def zmq_role(role: str, directory: Path, count: int, rate: float, warmup: int) -> None:
    import zmq  # a dev dependency: only this baseline needs it

    ctx = zmq.Context()
    index = ROLES.index(role)
    inbound = outbound = None
    try:
        if index > 0:  # a hop binds where its upstream connects
            inbound = ctx.socket(zmq.PAIR)
            inbound.bind(f"ipc://{directory}/hop{index}")
        if index < 3:
            outbound = ctx.socket(zmq.PAIR)
            outbound.connect(f"ipc://{directory}/hop{index + 1}")
        if role == "md":
            assert outbound is not None
            _zmq_source(outbound, Pacer(count, rate))
        elif role == "exec":
            assert inbound is not None
            _zmq_sink(inbound, count, Sink(warmup))
        else:
            assert inbound is not None and outbound is not None
            _zmq_relay(role, inbound, outbound, count)
    finally:
        if inbound is not None:
            inbound.close(linger=0)
        if outbound is not None:
            # what was sent may still be queued (a slow or late peer): linger=0 would drop it and the
            # sink would wait for ticks that never come
            outbound.close(linger=_ZMQ_LINGER_MS)
        ctx.term()


def _zmq_source(out: Any, pacer: Pacer) -> None:
    with Run() as run:
        while pacer.sent < pacer.count:
            now = time.time_ns()
            if not pacer.due(now):
                time.sleep(max(pacer.next_ns - now, 0) / 1e9)
                continue
            ts = time.time_ns()
            seq = pacer.sent
            tick = {
                "instrumentId": 1,
                "seq": seq,
                "venueSeq": seq,
                "exchangeTs": ts,
                "receiveTs": ts,
                "publishTs": ts,
                "side": "Bid",
                "price": 6_000_000,
                "qty": 100,
            }
            out.send(json.dumps(tick).encode())
            pacer.sent_one()
    _done("md", run)


def _zmq_relay(role: str, inbound: Any, out: Any, count: int) -> None:
    with Run() as run:
        for n in range(count):
            m = json.loads(inbound.recv())
            if role == "strategy":
                order = {
                    "correlationId": m["seq"],
                    "clientId": 100,
                    "strategyId": 90,
                    "clOrdId": m["seq"],
                    "instrumentId": m["instrumentId"],
                    "side": "Buy",
                    "ordType": "Limit",
                    "timeInForce": "IOC",
                    "price": m["price"] - 10,
                    "qty": m["qty"],
                    "sendTs": time.time_ns(),
                    "triggerTs": m["publishTs"],
                }
            else:  # the oms: accept and route to the venue
                order = {**m, "orderId": n + 1, "venueId": 1}
            out.send(json.dumps(order).encode())
    _done(role, run)


def _zmq_sink(inbound: Any, count: int, sink: Sink) -> None:
    with Run() as run:
        while sink.received < count:
            sink.arrived(json.loads(inbound.recv())["triggerTs"])
    _done("exec", run, sink.recorder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench.relay")
    parser.add_argument("mode", choices=["aeron", "aeron-chain", "zmq"])
    parser.add_argument("--role", choices=ROLES)
    parser.add_argument("--instance")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--idle", default="backoff")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--warmup", type=int, default=0)
    a = parser.parse_args(argv)
    if a.mode == "aeron-chain":
        aeron_chain(a.instance, parse_idle_strategy(a.idle), a.count, a.rate, a.warmup)
    elif a.mode == "aeron":
        aeron_role(a.role, a.instance, parse_idle_strategy(a.idle), a.count, a.rate, a.warmup)
    else:
        zmq_role(a.role, a.dir, a.count, a.rate, a.warmup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
