"""The recorder's config table (strict), gap markers on the wire, and command-line times."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bus.config import STREAM_NAMES
from core.codec.messages import FeedState, FeedStatus
from core.config import ConfigError, Table
from core.journal import FsyncMode
from core.recorder.config import parse_recorder_config
from core.recorder.markers import GapMarker, GapReason, decode_marker
from core.recorder.timespec import format_time, parse_time


def _table(data: dict) -> Table:
    return Table(data, Path("profile.toml"), "daemon[0].config")


def test_defaults_record_everything_tethered_with_batched_fsync():
    config = parse_recorder_config(_table({}))
    assert config.streams == STREAM_NAMES and config.tether is True
    assert config.fsync.mode is FsyncMode.BATCH and config.fsync.interval_ns == 1_000_000_000
    assert config.flush_interval_ms == 100 and config.data_dir is None


def test_every_key_is_read():
    config = parse_recorder_config(
        _table(
            {
                "streams": ["market_data", "state"],
                "tether": False,
                "fsync": "every-record",
                "flush_interval_ms": 5,
                "segment_mb": 8,
                "fragment_limit": 10,
                "drain_timeout_ms": 0,
                "retry_interval_ms": 50,
                "data_dir": "/var/lib/aerodesk",
            }
        )
    )
    assert config.streams == ("market_data", "state") and not config.tether
    assert config.fsync.mode is FsyncMode.EVERY_RECORD and config.segment_bytes == 8 << 20
    assert (config.flush_interval_ms, config.fragment_limit, config.drain_timeout_ms) == (5, 10, 0)
    assert config.retry_interval_ms == 50 and config.data_dir == Path("/var/lib/aerodesk")


@pytest.mark.parametrize(
    ("data", "key", "reason"),
    [
        ({"streams": ["market_data", "bogus"]}, "streams", "unknown stream 'bogus'"),
        ({"streams": []}, "streams", "non-empty list"),
        ({"streams": ["state", "state"]}, "streams", "listed twice"),
        ({"fsync": "sometimes"}, "fsync", "unknown fsync policy"),
        ({"flush_interval_ms": 0}, "flush_interval_ms", "must be from 1"),
        ({"tether": "yes"}, "tether", "expected bool"),
        ({"tehter": True}, "tehter", "unknown key"),
    ],
)
def test_bad_config_names_the_key(data, key, reason):
    with pytest.raises(ConfigError) as e:
        parse_recorder_config(_table(data))
    assert e.value.key == f"daemon[0].config.{key}" and reason in e.value.reason


def test_a_gap_marker_is_a_feed_state_message_and_reads_back():
    marker = GapMarker(GapReason.POSITION_JUMP, 20, "market_data", 1234, 99, 4096, 8192, 2)
    payload = marker.encode()
    message = FeedState.decode(payload)
    assert message.status is FeedStatus.Gap and message.instrumentId == 20
    assert (message.expectedSeq, message.receivedSeq, message.gapCount) == (4096, 8192, 2)
    assert decode_marker(payload, 1234) == marker and marker.bytes_lost == 4096
    lost = GapMarker(GapReason.UNJOURNALED, 60, "state", 0, 5, gap_count=1, messages=17)
    assert decode_marker(lost.encode()) == lost
    # an md daemon's own FeedState is not a marker
    feed = FeedState.encode_bytes(
        instrumentId=1, ts=1, status=FeedStatus.Gap, expectedSeq=5, receivedSeq=9, gapCount=1, text="seq gap"
    )
    assert decode_marker(feed) is None


def test_times_absolute_relative_and_iso():
    assert parse_time("1795369890739934123") == 1795369890739934123
    assert parse_time("2026-11-22T17:51:30.739934123Z") == 1795369890739934123
    assert parse_time("2026-11-22T17:51:30.5") == 1795369890500000000  # no zone: UTC
    assert parse_time("2026-11-22T18:51:30.5+01:00") == 1795369890500000000
    assert parse_time("+1.5s", 10) == 1_500_000_010 and parse_time("+200ms", 0) == 200_000_000
    assert format_time(1795369890739934123) == "2026-11-22T17:51:30.739934123Z"
    for bad in ("yesterday", "+1.5", "12345", "2026-11-22T17:51:30.1234567891Z"):
        with pytest.raises(ValueError):
            parse_time(bad, 0)
    with pytest.raises(ValueError, match="needs a journal"):
        parse_time("+1s", None)


def test_the_demo_profile_records_everything_tethered():
    from core.daemons.profile import load_profile

    profile = load_profile("demo")
    assert profile.daemons[0].kind == "recorder"  # first to start, last to stop
    config = parse_recorder_config(profile.daemon("recorder").config)
    assert config.streams == STREAM_NAMES and config.tether
