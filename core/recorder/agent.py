"""RecorderAgent: journals every message of the desk's streams, with receive time, stream, session and
Aeron position, into one journal directory per desk session (`<data>/<instance>/<start>/`).

Duty cycle: poll each stream's subscription (fragment_limit messages at most), append each message to
the JournalWriter (buffered), write the buffer to the OS every flush interval and let the fsync policy
make it durable. Failures never stop the recorder and never block the desk:
- the journal cannot be opened (permission, missing or full disk): messages are counted as
  unjournaled and the open is retried every retry interval;
- a write fails (disk full, I/O error): the writer keeps the records queued and retries; records it
  refuses are counted as unjournaled. Either way the recorder is Degraded (heartbeat state, counters,
  rate-limited log lines) until a write succeeds, and then marks what was lost in the journal.
Gaps in the subscriptions (see gaps.py) are marked in the journal as they are found (markers.py).

on_close drains the subscriptions (until they are empty or drain_timeout_ms passes), then closes the
journal, which seals its last segment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.agent.clock import Clock, SystemClock
from core.agent.ratelimit import RateLimitedLog
from core.bus.client import BusClient
from core.bus.config import StreamConfig
from core.bus.subscriber import Subscriber
from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION
from core.journal import JournalError, JournalWriteError, JournalWriter, recording_dir
from core.recorder.config import RecorderConfig
from core.recorder.gaps import SEEN, UNFRAGMENTED, StreamTracker, frame_span
from core.recorder.markers import MARKER_STREAM_ID, GapMarker, GapReason

log = logging.getLogger("aerodesk.recorder")

_DRAIN_IDLE_ROUNDS = 3  # consecutive empty polls of every stream that end the drain


@dataclass
class RecorderCounters:
    recorded: int = 0  # messages journaled
    recorded_bytes: int = 0
    gaps: int = 0  # gap markers for skipped positions (position-jump, late-join)
    gap_bytes: int = 0  # bytes of the streams the recorder never saw
    unjournaled: int = 0  # messages received but not journaled (write or open errors)
    write_errors: int = 0
    open_errors: int = 0
    bad_messages: int = 0  # too short to be an SBE message, or too long for a segment
    duplicates: int = 0  # fragments delivered again after an untethered rejoin, not recorded twice
    by_stream: dict[str, int] = field(default_factory=dict)  # not in heartbeats: `<stream>.received` is

    def as_dict(self) -> dict[str, int]:
        # kept to what a heartbeat has room for (64 counters, bus counters included)
        return {
            "recorded": self.recorded,
            "gaps": self.gaps,
            "gap_bytes": self.gap_bytes,
            "unjournaled": self.unjournaled,
            "write_errors": self.write_errors,
            "open_errors": self.open_errors,
            "bad_messages": self.bad_messages,
            "duplicates": self.duplicates,
        }


class RecorderAgent:
    def __init__(
        self,
        bus: BusClient,
        config: RecorderConfig,
        instance: str,
        clock: Clock,
        *,
        on_health: Callable[[bool], None] | None = None,
        role_name: str = "recorder",
    ) -> None:
        self.bus = bus
        self.config = config
        self.instance = instance
        self.clock = clock
        self.role_name = role_name
        self.on_health = on_health
        self.totals = RecorderCounters()
        self.path: Path | None = None  # the journal directory, fixed at on_start
        self.writer: JournalWriter | None = None
        self.start_ns = 0
        self._report = RateLimitedLog(log)
        self._streams = [bus.config.stream(name) for name in config.streams]
        self._names = {s.stream_id: s.name for s in self._streams}
        self._trackers: dict[int, StreamTracker] = {}
        self._gap_counts: dict[int, int] = {}  # stream id -> gap markers written
        self._unjournaled: dict[int, int] = {}  # stream id -> messages lost since the last marker
        self._pending_markers: list[GapMarker] = []  # found while the journal could not take them
        self._degraded: bool | None = None
        self._next_flush_ns = 0
        self._next_open_ns = 0
        self._flush_interval_ns = config.flush_interval_ms * 1_000_000
        self._retry_interval_ns = config.retry_interval_ms * 1_000_000
        self.subscribers: list[Subscriber] = [
            bus.subscriber(
                stream,
                self._handler(stream),
                tether=config.tether,
                fragment_limit=config.fragment_limit,
                assemble=False,  # fragments are reassembled here, so every frame's position is checked
            )
            for stream in self._streams
        ]

    # -- Agent ------------------------------------------------------------------------------------

    def on_start(self) -> None:
        self.start_ns = self.clock.time_ns()
        self.path = recording_dir(self.instance, self.start_ns, self.config.data_dir)
        policy = "tethered: loses nothing" if self.config.tether else "untethered: gaps are marked"
        log.info(
            "recording %s into %s (%s; fsync %s, flush every %d ms)",
            ", ".join(self.config.streams),
            self.path,
            policy,
            self.config.fsync,
            self.config.flush_interval_ms,
        )
        self._try_open(self.start_ns)

    def do_work(self) -> int:
        work = 0
        for sub in self.subscribers:
            work += sub.poll()
        now = self.clock.time_ns()
        writer = self.writer
        if writer is None:
            if now >= self._next_open_ns:
                self._try_open(now)
                work += 1
        else:
            if now >= self._next_flush_ns:
                if writer.pending_records or writer.last_error is not None:
                    self._guarded(writer.flush)
                    work += 1
                # after a failed write, retry at the retry interval rather than every flush interval
                failing = writer.last_error is not None
                self._next_flush_ns = now + (self._retry_interval_ns if failing else self._flush_interval_ns)
            work += self._guarded(writer.do_work) or 0
            if (self._pending_markers or self._unjournaled) and writer.last_error is None:
                work += self._write_markers(now)
        self._update_health()
        return work

    def on_close(self) -> None:
        drained = self.drain()
        writer, self.writer = self.writer, None
        if writer is None:
            lost = self.totals.unjournaled
            log.error(
                "recorder stopped without a journal (%s): %d message(s) were not recorded", self.path, lost
            )
            return
        if self._pending_markers or self._unjournaled:
            self._write_markers(self.clock.time_ns(), writer)
        try:
            writer.close()
        except JournalWriteError as e:
            self.totals.write_errors += 1
            log.error("closing the journal %s failed: %s; those records are lost", self.path, e)
            return
        log.info(
            "journal %s closed: %d message(s) recorded (%d drained at shutdown), %d gap(s) marked, "
            "%d unjournaled",
            self.path,
            self.totals.recorded,
            drained,
            self.totals.gaps,
            self.totals.unjournaled,
        )

    def counters(self) -> dict[str, int]:
        out = self.totals.as_dict()
        writer = self.writer
        out["pending"] = writer.pending_records if writer is not None else 0
        out["degraded"] = int(bool(self._degraded))
        return out

    @property
    def degraded(self) -> bool:
        return bool(self._degraded)

    def drain(self) -> int:
        """Poll every subscription until all are empty (or the drain timeout): what publishers sent
        before the desk went down is still in the images."""
        deadline = self.clock.time_ns() + self.config.drain_timeout_ms * 1_000_000
        before = self.totals.recorded + self.totals.unjournaled
        idle_rounds = 0
        while idle_rounds < _DRAIN_IDLE_ROUNDS and self.clock.time_ns() < deadline:
            work = sum(sub.poll() for sub in self.subscribers)
            if work:
                idle_rounds = 0
            else:
                idle_rounds += 1
                time.sleep(0.001)  # lets a publication's last offers land before the next look
        return self.totals.recorded + self.totals.unjournaled - before

    # -- receiving ----------------------------------------------------------------------------------

    def _handler(self, stream: StreamConfig) -> Callable[[Any, Any], None]:
        stream_id = stream.stream_id
        name = stream.name
        tracker = self._trackers.setdefault(stream_id, StreamTracker())
        advance = tracker.advance
        assemble = tracker.assemble
        is_gap = tracker.is_gap
        # the system clock's own function saves a call per message; any other clock is used as given
        now = time.time_ns if type(self.clock) is SystemClock else self.clock.time_ns
        counters = self.totals
        by_stream = counters.by_stream
        by_stream[name] = 0

        def on_fragment(buffer: Any, header: Any) -> None:
            end = header.position
            session = header.session_id
            frame_length = header.frame_length
            expected = advance(session, end, frame_length)
            if expected is not None:
                if expected == SEEN:
                    counters.duplicates += 1
                    return
                start = end - frame_span(frame_length)
                if is_gap(
                    session, expected, start, header.term_offset, header.term_id, header.initial_term_id
                ):
                    self._gap(stream_id, session, expected, start, now())
            flags = header.flags
            if flags & UNFRAGMENTED == UNFRAGMENTED:
                payload = buffer.tobytes()
            else:
                payload = assemble(session, buffer, flags)
                if payload is None:
                    return
            writer = self.writer
            if writer is None:
                self._lost(stream_id, 1)
                return
            try:
                writer.append(
                    payload, stream_id=stream_id, receive_time_ns=now(), session_id=session, position=end
                )
            except JournalWriteError as e:
                self._write_failed(e)
                if not e.record_appended:
                    self._lost(stream_id, 1)
                    return
            except ValueError as e:  # too short to be an SBE message, or too long for a segment
                counters.bad_messages += 1
                self._report.report("bad_message", f"stream {name}: not recorded: {e}")
                return
            counters.recorded += 1
            counters.recorded_bytes += len(payload)
            by_stream[name] += 1

        return on_fragment

    # -- gaps ---------------------------------------------------------------------------------------

    def _gap(self, stream_id: int, session: int, expected: int, start: int, now: int) -> None:
        reason = GapReason.LATE_JOIN if expected == 0 else GapReason.POSITION_JUMP
        count = self._gap_counts.get(stream_id, 0) + 1
        self._gap_counts[stream_id] = count
        marker = GapMarker(
            reason=reason,
            stream_id=stream_id,
            stream=self._names.get(stream_id, str(stream_id)),
            session_id=session,
            ts_ns=now,
            expected_position=expected,
            resumed_position=start,
            gap_count=count,
        )
        self.totals.gaps += 1
        self.totals.gap_bytes += marker.bytes_lost
        self._report.report(
            f"gap:{stream_id}",
            f"stream {marker.stream} session {session}: {marker.bytes_lost} byte(s) not recorded "
            f"({reason}: expected position {expected}, next message at {start}); marked in the journal",
        )
        if not self._append_marker(marker):
            self._pending_markers.append(marker)

    def _lost(self, stream_id: int, n: int) -> None:
        self.totals.unjournaled += n
        self._unjournaled[stream_id] = self._unjournaled.get(stream_id, 0) + n

    def _write_markers(self, now: int, writer: JournalWriter | None = None) -> int:
        """Write the markers that had to wait (and one per stream for unjournaled messages)."""
        written = 0
        while self._pending_markers:
            if not self._append_marker(self._pending_markers[0], writer):
                return written
            self._pending_markers.pop(0)
            written += 1
        for stream_id, n in list(self._unjournaled.items()):
            count = self._gap_counts.get(stream_id, 0) + 1
            marker = GapMarker(
                reason=GapReason.UNJOURNALED,
                stream_id=stream_id,
                stream=self._names.get(stream_id, str(stream_id)),
                session_id=0,
                ts_ns=now,
                gap_count=count,
                messages=n,
            )
            if not self._append_marker(marker, writer):
                return written
            self._gap_counts[stream_id] = count
            del self._unjournaled[stream_id]
            written += 1
            log.warning(
                "stream %s: %d message(s) were not journaled; marked in the journal", marker.stream, n
            )
        return written

    def _append_marker(self, marker: GapMarker, writer: JournalWriter | None = None) -> bool:
        writer = writer or self.writer
        if writer is None:
            return False
        try:
            writer.append(
                marker.encode(),
                stream_id=MARKER_STREAM_ID,
                receive_time_ns=marker.ts_ns,
                session_id=marker.session_id,
                position=marker.resumed_position,
            )
        except JournalWriteError as e:
            self._write_failed(e)
            return e.record_appended
        return True

    # -- the journal --------------------------------------------------------------------------------

    def _try_open(self, now: int) -> None:
        assert self.path is not None
        self._next_open_ns = now + self._retry_interval_ns
        try:
            self.writer = JournalWriter(
                self.path,
                schema_id=SCHEMA_ID,
                schema_version=SCHEMA_VERSION,
                instance=self.instance,
                fsync=self.config.fsync,
                max_segment_bytes=self.config.segment_bytes,
                flush_interval_ms=self.config.flush_interval_ms,
                retry_interval_ms=self.config.retry_interval_ms,
                wall_clock=self.clock.time_ns,
            )
        except JournalError as e:
            self.totals.open_errors += 1
            self._report.report(
                "open",
                f"cannot open the journal {self.path}: {e}; retrying every {self.config.retry_interval_ms} "
                "ms, messages meanwhile are counted as unjournaled",
                level=logging.ERROR,
            )
            return
        if self.writer.recovered:
            log.warning(
                "journal %s: recovered from %s", self.path, "; ".join(map(str, self.writer.recovered))
            )
        if self.totals.open_errors:
            log.warning("journal %s opened after %d failed attempt(s)", self.path, self.totals.open_errors)
        self._next_flush_ns = now + self._flush_interval_ns

    def _guarded(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except JournalWriteError as e:
            self._write_failed(e)
            return None

    def _write_failed(self, e: JournalWriteError) -> None:
        self.totals.write_errors += 1
        self._report.report(
            f"write:{e.errno}",
            f"recorder journal write failed: {e}; the recorder keeps running and retries",
            level=logging.ERROR,
        )

    def _update_health(self) -> None:
        """Tell the heartbeat when health changes (first from do_work: the host marks the daemon Running
        after every on_start)."""
        writer = self.writer
        degraded = writer is None or writer.last_error is not None
        if degraded != self._degraded:
            if self._degraded is not None:
                if degraded:
                    log.error("recorder degraded: the journal %s is not taking records", self.path)
                else:
                    log.warning("recorder healthy again: the journal %s takes records", self.path)
            self._degraded = degraded
            if self.on_health is not None:
                self.on_health(degraded)
