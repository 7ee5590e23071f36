"""Child processes for bus integration tests: `python -m tests.core.bus.procs MODE ...`.

publish:  connect, wait for a subscriber, send --count seq frames of --size bytes (or the hex frames
          given with --hex, in order; back pressure is waited out), print the results and the
          publisher counters as JSON, exit.
ring:     as publish, but spaced by --interval-ms and ringing the desk's doorbell after each send as a
          daemon's duty cycle does (core.bus.doorbell.DoorbellSignal as the last agent).
stream:   a daemon: an agent that publishes a Heartbeat (core.codec.messages; seq = 0, 1, 2, ...) every
          --interval-ms through a TimerService on the system clock, run by run_agents_main with the bus
          client in the same duty cycle. It survives the loss of the driver and reconnects. On SIGTERM
          it prints its counters as JSON.
churn:    subscribe to a stream it also publishes on, wait for the image, close and drop the
          subscriber, collect garbage and allocate over the freed memory, --count times; prints its
          subscribers' image counters as JSON. Aeron closes a subscription later, on its conductor
          thread, and calls its image callbacks then: a process that freed the subscription crashes.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time

from core.agent import SystemClock, TimerService, run_agents_main
from core.bus import BusClient, OfferFailure, Publisher, aerodesk_dispatcher
from core.bus.doorbell import DoorbellSignal
from core.codec.messages import DaemonState, Heartbeat
from tests.core.bus.frames import seq_frame


def publish(args: argparse.Namespace) -> int:
    bus = BusClient(args.instance, role_name="test-pub").connect()
    pub = bus.publisher(args.stream)
    deadline = time.monotonic() + 20
    while not pub.is_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    if args.hex:
        frames = [bytes.fromhex(h) for h in args.hex]
    else:
        frames = [seq_frame(seq, args.size) for seq in range(args.count)]
    results = []
    for f in frames:
        # A slow subscriber (a loaded test machine) means back pressure: wait it out, up to a deadline.
        result = pub.offer(f)
        while result is OfferFailure.BACK_PRESSURED and time.monotonic() < deadline + 30:
            time.sleep(0.001)
            result = pub.offer(f)
        results.append(bool(result))
    print(json.dumps({"sent": results, "counters": pub.counters.as_dict()}), flush=True)
    bus.close()
    return 0


def ring(args: argparse.Namespace) -> int:
    bus = BusClient(args.instance, role_name="test-ring").connect()
    pub = bus.publisher(args.stream)
    ringer = DoorbellSignal(bus)
    deadline = time.monotonic() + 20
    while not pub.is_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    sent = 0
    for seq in range(args.count):
        time.sleep(args.interval_ms / 1000)
        sent += pub.offer(seq_frame(seq, 16)) is True
        ringer.do_work()
    rings = bus.doorbell.rings if bus.doorbell is not None else 0
    print(json.dumps({"sent": sent, "rings": rings}), flush=True)
    bus.close()
    return 0


class HeartbeatStreamAgent:
    """Publishes Heartbeat seq 0, 1, 2, ... every interval; a failed offer is counted, the seq not reused."""

    role_name = "heartbeat-stream"

    def __init__(self, pub: Publisher, timers: TimerService, interval_ns: int) -> None:
        self.pub = pub
        self.timers = timers
        self.interval_ns = interval_ns
        self.seq = 0

    def on_start(self) -> None:
        self.timers.schedule_in(0, self._tick)
        print("started", flush=True)

    def _tick(self, _timer_id: int, now_ns: int) -> None:
        counters = [(k[:32], v) for k, v in self.pub.client.counters_dict().items() if v][:20]
        message = Heartbeat.encode_bytes(
            ts=now_ns,
            role=self.role_name,
            pid=os.getpid(),
            state=DaemonState.Running,
            seq=self.seq,
            startedTs=0,
            strategyId=0,
            counters=counters,
            instance=b"test",
        )
        self.pub.offer(message)
        self.seq += 1
        self.timers.schedule_in(self.interval_ns, self._tick)

    def do_work(self) -> int:
        return self.timers.poll()

    def on_close(self) -> None:
        pass


def stream(args: argparse.Namespace) -> int:
    bus = BusClient(args.instance, role_name="test-stream")
    agent = HeartbeatStreamAgent(
        bus.publisher(args.stream), TimerService(SystemClock()), args.interval_ms * 1_000_000
    )
    code = run_agents_main([bus, agent])
    print(json.dumps({"seq": agent.seq, "counters": bus.counters_dict()}), flush=True)
    return code


def churn(args: argparse.Namespace) -> int:
    counters = []  # each subscriber's counters, kept: the callbacks after close count into them
    with BusClient(args.instance, role_name="test-churn") as bus:
        bus.publisher(args.stream)  # an image for every subscriber: the callbacks have work to do
        for _ in range(args.count):
            sub = bus.subscriber(args.stream, aerodesk_dispatcher())
            deadline = time.monotonic() + 20
            while not sub.is_connected and time.monotonic() < deadline:
                time.sleep(0.0005)
            sub.close()
            counters.append(sub.counters)
            del sub
            gc.collect()
            reuse = [type("Reuse", (), {})() for _ in range(200)]  # land new objects on freed memory
            time.sleep(0.002)  # the conductor's duty cycle: it acts on the close meanwhile
            del reuse
    joined = sum(c.images_joined for c in counters)
    left = sum(c.images_left for c in counters)
    print(json.dumps({"count": args.count, "images_joined": joined, "images_left": left}), flush=True)
    return 0


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s proc %(message)s")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("publish")
    p.add_argument("--instance", required=True)
    p.add_argument("--stream", default="state")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--size", type=int, default=16)
    p.add_argument("--hex", nargs="*")
    r = sub.add_parser("ring")
    r.add_argument("--instance", required=True)
    r.add_argument("--stream", default="state")
    r.add_argument("--count", type=int, default=10)
    r.add_argument("--interval-ms", type=int, default=20)
    s = sub.add_parser("stream")
    s.add_argument("--instance", required=True)
    s.add_argument("--stream", default="heartbeats")
    s.add_argument("--interval-ms", type=int, default=20)
    c = sub.add_parser("churn")
    c.add_argument("--instance", required=True)
    c.add_argument("--stream", default="state")
    c.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    return {"publish": publish, "ring": ring, "stream": stream, "churn": churn}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
