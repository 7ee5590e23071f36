"""Desk instances: names, their media driver directory, and what is (or was) running there.

Every desk instance has one media driver whose directory is /dev/shm/aerodesk-<instance> (mode 0700).
The name comes from `--instance`, else env AERODESK_INSTANCE, else `default`; it becomes part of a
path, so only safe characters are accepted.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pyaeron

from core.bus.doorbell import DOORBELL_FILE
from core.bus.errors import BusError

INSTANCE_ENV = "AERODESK_INSTANCE"
SHM_ROOT_ENV = "AERODESK_SHM_ROOT"  # for hosts without /dev/shm; tests keep the default
DEFAULT_INSTANCE = "default"
DEFAULT_SHM_ROOT = Path("/dev/shm")
DIR_PREFIX = "aerodesk-"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# The CnC file starts with its metadata (aeron_cnc_metadata_t, CnC version 0.2.x): six int32 buffer
# lengths, the client liveness timeout and start time (int64), then the driver's pid (int64) at byte 40.
# Read only to say which process owns a directory.
CNC_FILE = "cnc.dat"
_CNC_PID = struct.Struct("<q")
_CNC_PID_OFFSET = 40
_CNC_VERSION = struct.Struct("<i")
_CNC_MAJOR_VERSION = 0

# What a desk's driver directory contains (Aeron's files and the desk's doorbell, core/bus/doorbell.py);
# anything else means it is not ours to delete.
AERON_DIR_ENTRIES = frozenset({"cnc.dat", "loss-report.dat", "images", "publications", DOORBELL_FILE})


class InstanceNameError(BusError, ValueError):
    pass


def validate_instance(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InstanceNameError(
            f"invalid desk instance name {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def resolve_instance(name: str | None = None) -> str:
    """The instance from the argument, else env AERODESK_INSTANCE, else `default`; validated."""
    if name is None or name == "":
        name = os.environ.get(INSTANCE_ENV) or DEFAULT_INSTANCE
    return validate_instance(name)


def shm_root() -> Path:
    return Path(os.environ.get(SHM_ROOT_ENV) or DEFAULT_SHM_ROOT)


def instance_dir(instance: str | None = None) -> Path:
    """/dev/shm/aerodesk-<instance>: the media driver directory of a desk instance."""
    return shm_root() / f"{DIR_PREFIX}{resolve_instance(instance)}"


@dataclass(frozen=True)
class DriverProbe:
    """What is in a driver directory: nothing, a live driver, or files left by a dead one."""

    dir: Path
    exists: bool
    active: bool  # the driver heartbeat in cnc.dat is younger than the timeout
    pid: int | None  # pid recorded in cnc.dat, if readable
    pid_alive: bool | None  # None when there is no pid to check

    @property
    def stale(self) -> bool:
        return self.exists and not self.active

    @property
    def recently_dead(self) -> bool:
        """Heartbeat still fresh but the recorded process is gone (a kill -9 less than a timeout ago)."""
        return self.active and self.pid_alive is False


def probe_driver(dir: Path, timeout_ms: int) -> DriverProbe:
    if not dir.exists():
        return DriverProbe(dir, False, False, None, None)
    cnc = dir / CNC_FILE
    active = cnc.exists() and pyaeron.is_driver_active(str(dir), timeout_ms)
    pid = read_driver_pid(cnc)
    return DriverProbe(dir, True, active, pid, None if pid is None else pid_alive(pid))


def read_driver_pid(cnc: Path) -> int | None:
    try:
        with cnc.open("rb") as f:
            head = f.read(_CNC_PID_OFFSET + _CNC_PID.size)
    except OSError:
        return None
    if len(head) < _CNC_PID_OFFSET + _CNC_PID.size:
        return None
    (version,) = _CNC_VERSION.unpack_from(head, 0)
    if version >> 16 != _CNC_MAJOR_VERSION:
        return None
    (pid,) = _CNC_PID.unpack_from(head, _CNC_PID_OFFSET)
    return pid if pid > 0 else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
