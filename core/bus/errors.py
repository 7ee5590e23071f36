"""Errors of the bus layer; each message says what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path


class BusError(Exception):
    pass


class DeskNotRunning(BusError):
    """No media driver serves this desk instance (CLI exit code 3)."""

    def __init__(self, instance: str, dir: Path, detail: str = "") -> None:
        self.instance = instance
        self.dir = dir
        extra = f": {detail}" if detail else ""
        super().__init__(f"desk {instance} is not running (no media driver at {dir}){extra}")


class DriverAlreadyRunning(BusError):
    def __init__(self, instance: str, dir: Path, pid: int | None) -> None:
        self.instance = instance
        self.dir = dir
        self.pid = pid
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"desk {instance} already has a running media driver{who} at {dir}; "
            "stop it first (aerodesk down) or pick another --instance"
        )


class DriverStartError(BusError):
    pass


class InsufficientSharedMemory(DriverStartError):
    def __init__(self, where: Path, needed: int, free: int) -> None:
        self.where = where
        self.needed = needed
        self.free = free
        super().__init__(
            f"not enough free space in {where} to start a media driver: needs {mib(needed)} "
            f"(CnC file, loss report and one publication per configured stream), {mib(free)} free; "
            "free some space, enlarge the tmpfs (e.g. docker --shm-size=256m) or lower term_length "
            "in configs/channels.toml"
        )


def mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"
