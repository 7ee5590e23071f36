"""The oms daemon's [daemon.config] table (strict: unknown keys are errors naming the file and key).

[daemon.config]
risk = "risk.toml"              # optional, relative to the profile; default configs/risk.toml
instruments = "instruments.toml"  # optional static data file; default configs/instruments.toml
venues = "venues.toml"          # optional (fees, venue ids); default configs/venues.toml
fsync = "every-record"          # the WAL: every-record (default: on disk before the input acts),
                                # group:interval_ms=T (written to the OS before the input acts, fsynced
                                # by a background thread within T ms: an OS crash loses at most T ms),
                                # batch:records=N,interval_ms=T (buffered: a crash loses the batch) | none
wal_dir = ""                    # "": <data>/<instance>/wal (<data>: $AERODESK_DATA)
segment_mb = 64                 # WAL segment size
reconcile_timeout_ms = 5000     # how long new orders wait for the venues' reconciliation answers
fragment_limit = 64             # messages per stream per duty cycle
snapshot_every = 50000          # journaled records between engine snapshots while running (0: only at a
                                # clean stop); a crash replays at most about this many at the next start
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import Table
from core.daemons.oms.store import ConfigFiles
from core.journal import FsyncPolicy


@dataclass(frozen=True)
class OmsDaemonConfig:
    files: ConfigFiles
    fsync: FsyncPolicy
    wal_dir: Path | None
    segment_bytes: int
    reconcile_timeout_ms: int
    connect_wait_ms: int
    fragment_limit: int
    snapshot_every: int = 50_000


def parse_oms_config(t: Table) -> OmsDaemonConfig:
    shipped = ConfigFiles.shipped()
    files = ConfigFiles(
        _path(t, "risk", shipped.risk),
        _path(t, "instruments", shipped.instruments),
        _path(t, "venues", shipped.venues),
    )
    text = t.get("fsync", str, "every-record")
    try:
        fsync = FsyncPolicy.parse(text)
    except ValueError as e:
        raise t.error("fsync", str(e)) from None
    wal = t.get("wal_dir", str, "")
    segment_mb = _bounded(t, "segment_mb", 64, 1, 4095)
    reconcile = _bounded(t, "reconcile_timeout_ms", 5_000, 10, 600_000)
    connect_wait = _bounded(t, "connect_wait_ms", 10_000, 0, 600_000)
    fragments = _bounded(t, "fragment_limit", 64, 1, 1 << 16)
    snapshot_every = _bounded(t, "snapshot_every", 50_000, 0, 1 << 40)
    t.reject_unknown()
    return OmsDaemonConfig(
        files=files,
        fsync=fsync,
        wal_dir=_relative(t, wal) if wal else None,
        segment_bytes=segment_mb << 20,
        reconcile_timeout_ms=reconcile,
        connect_wait_ms=connect_wait,
        fragment_limit=fragments,
        snapshot_every=snapshot_every,
    )


def _path(t: Table, key: str, default: Path) -> Path:
    if key not in t:
        t.get(key, str, "")  # known key
        return default
    path = _relative(t, t.get(key, str))
    if not path.is_file():
        raise t.error(key, f"no such file: {path}")
    return path


def _relative(t: Table, raw: str) -> Path:
    p = Path(raw).expanduser()
    return p if p.is_absolute() else Path(t.file).resolve().parent / p


def _bounded(t: Table, key: str, default: int, low: int, high: int) -> int:
    value = t.get(key, int, default)
    if not low <= value <= high:
        raise t.error(key, f"must be from {low} to {high}, got {value}")
    return value
