"""Journal directory naming for the recorder and the WAL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.journal import default_data_dir, find_journals, parse_recording_start, recording_dir, wal_dir
from tests.core.journal.journal_helpers import make_records, write_records

# 2024-08-08T23:54:13.123456789Z
START_NS = int(datetime(2024, 8, 8, 23, 54, 13, tzinfo=UTC).timestamp()) * 1_000_000_000 + 123_456_789


def test_data_dir_comes_from_the_environment_or_the_user_share(monkeypatch, tmp_path):
    monkeypatch.setenv("AERODESK_DATA", str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    monkeypatch.setenv("AERODESK_DATA", "~/elsewhere")
    assert default_data_dir() == Path.home() / "elsewhere"
    monkeypatch.delenv("AERODESK_DATA")
    assert default_data_dir() == Path.home() / ".local" / "share" / "aerodesk"


def test_recording_dir_is_named_by_utc_start_to_the_microsecond(tmp_path):
    path = recording_dir("desk1", START_NS, tmp_path)
    assert path == tmp_path / "desk1" / "20240808T235413.123456Z"
    assert parse_recording_start(path.name) == START_NS - 789  # microsecond precision
    assert recording_dir("desk1", 0, tmp_path).name == "19700101T000000.000000Z"


def test_wal_dir(tmp_path):
    assert wal_dir("desk1", tmp_path) == tmp_path / "desk1" / "wal"


def test_recording_names_sort_in_time_order(tmp_path):
    starts = [START_NS + d for d in (5, 3_000_000_000, 86_400_000_000_000 * 400, 999_000)]
    names = [recording_dir("d", s, tmp_path).name for s in starts]
    assert sorted(names) == [recording_dir("d", s, tmp_path).name for s in sorted(starts)]


@pytest.mark.parametrize("instance", ["", ".", "..", "a/b", "x" * 65])
def test_instance_names_that_cannot_be_directories_are_refused(instance, tmp_path):
    with pytest.raises(ValueError, match="instance name"):
        wal_dir(instance, tmp_path)


@pytest.mark.parametrize(
    "name", ["wal", "20240808T235413Z", "20240808T235413.12345Z", "x20240808T235413.123456Z"]
)
def test_parse_refuses_other_names(name):
    with pytest.raises(ValueError, match="not a recording directory name"):
        parse_recording_start(name)


def test_negative_start_is_refused(tmp_path):
    with pytest.raises(ValueError, match="epoch ns >= 0"):
        recording_dir("d", -1, tmp_path)


def test_find_journals_lists_wals_and_recordings(tmp_path):
    later = recording_dir("a", START_NS + 10**9, tmp_path)
    earlier = recording_dir("a", START_NS, tmp_path)
    for path in (later, earlier, wal_dir("a", tmp_path), wal_dir("b", tmp_path)):
        write_records(path, make_records(3))
    (tmp_path / "a" / "notes").mkdir()  # not a journal name
    assert find_journals(tmp_path) == [earlier, later, wal_dir("a", tmp_path), wal_dir("b", tmp_path)]
    assert find_journals(tmp_path, "b") == [wal_dir("b", tmp_path)]
    assert find_journals(tmp_path / "missing") == []
