"""Where journals live: `<data>/<instance>/wal/` for the oms WAL, `<data>/<instance>/<start>/` per recording.

`<start>` is the recording's start in UTC, `YYYYmmddTHHMMSS.ffffffZ`, so names sort by time. The data
directory is $AERODESK_DATA, else ~/.local/share/aerodesk; callers may pass their own.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.journal.format import INSTANCE_MAX_BYTES

DATA_ENV = "AERODESK_DATA"
WAL_DIR_NAME = "wal"
_START = re.compile(r"^(\d{8}T\d{6})\.(\d{6})Z$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def default_data_dir() -> Path:
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".local" / "share" / "aerodesk"


def check_instance(instance: str) -> str:
    """The instance name, if it can be a directory name and fit a segment header; else ValueError."""
    raw = instance.encode("utf-8")
    if (
        not raw
        or len(raw) > INSTANCE_MAX_BYTES
        or instance in (".", "..")
        or "/" in instance
        or "\0" in instance
    ):
        raise ValueError(
            f"instance name {instance!r} cannot name a journal directory: "
            f"use 1..{INSTANCE_MAX_BYTES} bytes, no '/', not '.' or '..'"
        )
    return instance


def format_recording_start(start_ns: int) -> str:
    if start_ns < 0:
        raise ValueError(f"recording start must be epoch ns >= 0, got {start_ns}")
    seconds, ns = divmod(start_ns, 1_000_000_000)
    stamp = _EPOCH + timedelta(seconds=seconds, microseconds=ns // 1000)  # exact: integer parts
    return stamp.strftime("%Y%m%dT%H%M%S.%fZ")


def parse_recording_start(name: str) -> int:
    """Epoch ns (to the microsecond) of a recording directory name; ValueError if it is not one."""
    m = _START.match(name)
    if not m:
        raise ValueError(f"{name!r} is not a recording directory name (YYYYmmddTHHMMSS.ffffffZ)")
    stamp = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    delta = stamp - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + int(m.group(2)) * 1000


def recording_dir(instance: str, start_ns: int, data_dir: Path | None = None) -> Path:
    return (data_dir or default_data_dir()) / check_instance(instance) / format_recording_start(start_ns)


def wal_dir(instance: str, data_dir: Path | None = None) -> Path:
    return (data_dir or default_data_dir()) / check_instance(instance) / WAL_DIR_NAME


def find_journals(data_dir: Path | None = None, instance: str | None = None) -> list[Path]:
    """Journal directories (WALs and recordings) by instance, then by name (recordings in time order)."""
    root = data_dir or default_data_dir()
    instances = [root / check_instance(instance)] if instance else sorted(p for p in _dirs(root))
    found = []
    for inst in instances:
        found.extend(p for p in sorted(_dirs(inst)) if p.name == WAL_DIR_NAME or _START.match(p.name))
    return found


def _dirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except FileNotFoundError:
        return []
