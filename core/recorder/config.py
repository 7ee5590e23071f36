"""The recorder's [daemon.config] table: what it records, its subscription policy, when it writes.

    [daemon.config]
    streams = "all"                       # or a list of stream names, e.g. ["market_data", "state"]
    tether = true                         # true: lose nothing (publishers wait for the recorder);
                                          # false: never slow the desk, mark every gap in the journal
    fsync = "batch:interval_ms=1000"      # none | batch:records=N,interval_ms=T | every-record
    flush_interval_ms = 100               # buffered records reach the OS at least this often
    segment_mb = 64                       # journal segment size
    fragment_limit = 256                  # messages per stream per duty cycle
    drain_timeout_ms = 5000               # on SIGTERM, how long to keep draining the subscriptions
    retry_interval_ms = 1000              # after an error, how often to retry opening the journal
    data_dir = ""                         # "" = $AERODESK_DATA, else ~/.local/share/aerodesk

A process crash loses at most the records of the last flush interval (they were not yet written to
the OS); an OS crash or power loss at most those not yet fsynced by the fsync policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.bus.config import STREAM_NAMES
from core.config import Table
from core.journal import FsyncPolicy

ALL_STREAMS = "all"
DEFAULT_FSYNC = "batch:interval_ms=1000"
_DEFAULT_POLICY = FsyncPolicy.parse(DEFAULT_FSYNC)


@dataclass(frozen=True)
class RecorderConfig:
    streams: tuple[str, ...] = STREAM_NAMES
    tether: bool = True
    fsync: FsyncPolicy = _DEFAULT_POLICY
    flush_interval_ms: int = 100
    segment_bytes: int = 64 << 20
    fragment_limit: int = 256
    drain_timeout_ms: int = 5_000
    retry_interval_ms: int = 1_000
    data_dir: Path | None = None


def parse_recorder_config(t: Table) -> RecorderConfig:
    """Strictly: unknown keys and bad values are ConfigErrors naming the file and key."""
    d = RecorderConfig()
    streams = _streams(t)
    tether = t.get("tether", bool, d.tether)
    fsync_text = t.get("fsync", str, DEFAULT_FSYNC)
    try:
        fsync = FsyncPolicy.parse(fsync_text)
    except ValueError as e:
        raise t.error("fsync", str(e)) from None
    flush = _bounded(t, "flush_interval_ms", d.flush_interval_ms, 1, 60_000)
    segment_mb = _bounded(t, "segment_mb", d.segment_bytes >> 20, 1, 4095)
    fragment_limit = _bounded(t, "fragment_limit", d.fragment_limit, 1, 1 << 16)
    drain = _bounded(t, "drain_timeout_ms", d.drain_timeout_ms, 0, 600_000)
    retry = _bounded(t, "retry_interval_ms", d.retry_interval_ms, 10, 600_000)
    data_dir = t.get("data_dir", str, "")
    t.reject_unknown()
    return RecorderConfig(
        streams=streams,
        tether=tether,
        fsync=fsync,
        flush_interval_ms=flush,
        segment_bytes=segment_mb << 20,
        fragment_limit=fragment_limit,
        drain_timeout_ms=drain,
        retry_interval_ms=retry,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
    )


def _streams(t: Table) -> tuple[str, ...]:
    if "streams" not in t:
        t.get("streams", str, ALL_STREAMS)  # marks the key as known
        return STREAM_NAMES
    value = t.data["streams"]
    if value == ALL_STREAMS:
        t.get("streams", str)
        return STREAM_NAMES
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise t.error("streams", f'expected "all" or a non-empty list of stream names, got {value!r}')
    t.get("streams", list)
    unknown = [v for v in value if v not in STREAM_NAMES]
    if unknown:
        raise t.error("streams", f"unknown stream {unknown[0]!r}; streams: {', '.join(STREAM_NAMES)}")
    if len(set(value)) != len(value):
        raise t.error("streams", f"a stream is listed twice: {value!r}")
    return tuple(value)


def _bounded(t: Table, key: str, default: int, low: int, high: int) -> int:
    value = t.get(key, int, default)
    if not low <= value <= high:
        raise t.error(key, f"must be from {low} to {high}, got {value}")
    return value
