"""Bus configuration (configs/channels.toml): the streams of a desk and the media driver's sizing.

Each stream has a channel URI (`aeron:ipc` on one host, `aeron:udp?endpoint=host:port` across hosts),
a stream id and a term length, applied through the publication's channel URI (`term-length=`). A
publication maps three terms, so the term lengths are what a desk costs in /dev/shm: Aeron's IPC
default (64 MiB terms, 192 MiB per publication) would not fit a container's 64 MiB /dev/shm, so every
stream states its own. The largest message a stream carries is term_length / 8.

The file is strict: unknown streams or keys are errors naming the file and key. Streams the file does
not mention keep their defaults. The path is `load_bus_config(path)`, else env AERODESK_CHANNELS_CONFIG,
else configs/channels.toml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from core.config import ConfigError, Table, configs_dir, load_toml

CONFIG_ENV = "AERODESK_CHANNELS_CONFIG"
CONFIG_FILE = "channels.toml"

KIB = 1 << 10
MIB = 1 << 20
MIN_TERM_LENGTH = 64 * KIB  # Aeron's limits
MAX_TERM_LENGTH = 1 << 30
MAX_MESSAGE_LENGTH = 16 * MIB
THREADING_MODES = ("shared", "shared_network", "dedicated")

# name -> (stream id, term length). The defaults fit a 64 MiB /dev/shm with a typical desk's publishers.
DEFAULT_STREAMS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "control": (10, 256 * KIB),
        "market_data": (20, 2 * MIB),
        "order_requests": (30, 512 * KIB),
        "venue_orders": (40, 512 * KIB),
        "venue_reports": (50, 512 * KIB),
        "state": (60, 1 * MIB),
        "heartbeats": (70, 256 * KIB),
    }
)
STREAM_NAMES = tuple(DEFAULT_STREAMS)
DEFAULT_CHANNEL = "aeron:ipc"

# Channel parameters set per use, never in the base channel: term-length from term_length, tether per
# subscriber, session-id per publication.
_RESERVED_PARAMS = ("term-length", "tether", "session-id")


@dataclass(frozen=True)
class StreamConfig:
    name: str
    channel: str
    stream_id: int
    term_length: int

    @property
    def max_message_length(self) -> int:
        return min(self.term_length // 8, MAX_MESSAGE_LENGTH)

    def publication_channel(self) -> str:
        return _with_params(self.channel, {"term-length": str(self.term_length)})

    def subscription_channel(self, *, tether: bool = True) -> str:
        """`tether=False` for observers: a slow observer never holds back the publishers."""
        return self.channel if tether else _with_params(self.channel, {"tether": "false"})


@dataclass(frozen=True)
class DriverConfig:
    threading: str = "shared"  # one driver thread: on small hosts the cores belong to the agents
    counters_buffer_length: int = 1 * MIB  # Aeron's minimum; 8192 counters; CnC file 11 MiB (48 MB default)
    driver_timeout_ms: int = 10_000  # a client declares the driver dead after this long without heartbeat
    client_liveness_timeout_ms: int = 10_000  # the driver drops a silent client after this long
    untethered_window_limit_timeout_ms: int = 1_000  # a lagging observer may hold publishers this long
    untethered_resting_timeout_ms: int = 1_000  # then rests this long before rejoining at the live end
    timer_interval_ms: int = 100  # driver's timeout checks; untethered timeouts must exceed it
    default_term_length: int = 1 * MIB  # for channels without term-length= (Aeron's IPC default is 64 MiB)

    def cnc_file_length(self) -> int:
        """Size of cnc.dat: command and broadcast buffers (1 MiB each), counter metadata (4x values),
        counter values and the error log (4 MiB)."""
        return 2 * MIB + 5 * self.counters_buffer_length + 4 * MIB + 4 * KIB

    def environment(self) -> dict[str, str]:
        """Settings the C driver reads only from the environment (at driver context init)."""
        return {
            "AERON_COUNTERS_BUFFER_LENGTH": str(self.counters_buffer_length),
            "AERON_DRIVER_TIMEOUT": str(self.driver_timeout_ms),
            "AERON_CLIENT_LIVENESS_TIMEOUT": str(self.client_liveness_timeout_ms * 1_000_000),
            "AERON_UNTETHERED_WINDOW_LIMIT_TIMEOUT": str(self.untethered_window_limit_timeout_ms * 1_000_000),
            "AERON_UNTETHERED_RESTING_TIMEOUT": str(self.untethered_resting_timeout_ms * 1_000_000),
            "AERON_TIMER_INTERVAL": str(self.timer_interval_ms * 1_000_000),
        }


@dataclass(frozen=True)
class BusConfig:
    streams: Mapping[str, StreamConfig]
    driver: DriverConfig = field(default_factory=DriverConfig)
    source: Path | None = None

    def stream(self, name: str) -> StreamConfig:
        try:
            return self.streams[name]
        except KeyError:
            raise KeyError(f"unknown stream {name!r}; streams: {', '.join(self.streams)}") from None

    def shm_needed(self) -> int:
        """Bytes a driver needs in /dev/shm at least: CnC file, loss report (1 MiB) and one publication
        (three terms plus a page of metadata) per configured stream."""
        publications = sum(3 * s.term_length + 4 * KIB for s in self.streams.values())
        return self.driver.cnc_file_length() + MIB + publications


def default_bus_config() -> BusConfig:
    return BusConfig(
        MappingProxyType(
            {n: StreamConfig(n, DEFAULT_CHANNEL, sid, term) for n, (sid, term) in DEFAULT_STREAMS.items()}
        )
    )


def config_path(path: str | Path | None = None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else configs_dir() / CONFIG_FILE


def load_bus_config(path: str | Path | None = None) -> BusConfig:
    p = config_path(path)
    root = load_toml(p)
    driver = _driver(root.table("driver", default_empty=True))
    streams_table = root.table("streams", default_empty=True)
    root.reject_unknown()
    streams = {}
    for name in STREAM_NAMES:
        default_id, default_term = DEFAULT_STREAMS[name]
        t = streams_table.table(name, default_empty=True)
        streams[name] = _stream(t, name, default_id, default_term)
    streams_table.reject_unknown()
    _check_unique_ids(streams_table, streams)
    return BusConfig(MappingProxyType(streams), driver, p)


def _stream(t: Table, name: str, default_id: int, default_term: int) -> StreamConfig:
    channel = t.get("channel", str, DEFAULT_CHANNEL)
    _check_channel(t, channel)
    stream_id = t.get("stream_id", int, default_id)
    if not 1 <= stream_id <= 0x7FFF_FFFF:
        raise t.error("stream_id", f"must be between 1 and 2147483647, got {stream_id}")
    term_length = t.get("term_length", int, default_term)
    _check_term_length(t, "term_length", term_length)
    t.reject_unknown()
    return StreamConfig(name, channel, stream_id, term_length)


def _driver(t: Table) -> DriverConfig:
    d = DriverConfig()
    threading = t.get("threading", str, d.threading)
    if threading not in THREADING_MODES:
        raise t.error("threading", f"must be one of {', '.join(THREADING_MODES)}, got {threading!r}")
    counters = t.get("counters_buffer_length", int, d.counters_buffer_length)
    if counters < MIB or counters & (counters - 1):
        raise t.error("counters_buffer_length", f"must be a power of two >= 1048576, got {counters}")
    timer_interval = t.get("timer_interval_ms", int, d.timer_interval_ms)
    if not 10 <= timer_interval <= 1_000:
        raise t.error("timer_interval_ms", f"must be from 10 to 1000 ms, got {timer_interval}")
    timeouts = {"timer_interval_ms": timer_interval}
    for key in (
        "driver_timeout_ms",
        "client_liveness_timeout_ms",
        "untethered_window_limit_timeout_ms",
        "untethered_resting_timeout_ms",
    ):
        value = t.get(key, int, getattr(d, key))
        low = 1_000 if key in ("driver_timeout_ms", "client_liveness_timeout_ms") else timer_interval + 1
        if value < low:
            raise t.error(key, f"must be >= {low} ms, got {value}")
        timeouts[key] = value
    default_term = t.get("default_term_length", int, d.default_term_length)
    _check_term_length(t, "default_term_length", default_term)
    t.reject_unknown()
    return DriverConfig(threading, counters, default_term_length=default_term, **timeouts)


def _check_term_length(t: Table, key: str, value: int) -> None:
    if not MIN_TERM_LENGTH <= value <= MAX_TERM_LENGTH or value & (value - 1):
        raise t.error(key, f"must be a power of two from 65536 (64 KiB) to 1073741824 (1 GiB), got {value}")


def _check_channel(t: Table, channel: str) -> None:
    media, _, params = channel.partition("?")
    if media not in ("aeron:ipc", "aeron:udp"):
        raise t.error("channel", f"must be aeron:ipc or aeron:udp?endpoint=host:port, got {channel!r}")
    keys = [p.partition("=")[0] for p in params.split("|") if p]
    for reserved in _RESERVED_PARAMS:
        if reserved in keys:
            raise t.error(
                "channel", f"{reserved}= is set by aerodesk (use the stream's term_length), not here"
            )
    if media == "aeron:udp" and "endpoint" not in keys:
        raise t.error("channel", f"a UDP channel needs endpoint=host:port, got {channel!r}")


def _check_unique_ids(t: Table, streams: dict[str, StreamConfig]) -> None:
    seen: dict[int, str] = {}
    for s in streams.values():
        if s.stream_id in seen:
            raise ConfigError(
                t.file,
                f"streams.{s.name}.stream_id",
                f"{s.stream_id} is already used by stream {seen[s.stream_id]}",
            )
        seen[s.stream_id] = s.name


def _with_params(channel: str, params: dict[str, str]) -> str:
    extra = "|".join(f"{k}={v}" for k, v in params.items())
    return f"{channel}{'|' if '?' in channel else '?'}{extra}"
