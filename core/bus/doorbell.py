"""The desk's doorbell: a futex word in shared memory that lets idle daemons sleep until a message comes.

Aeron has no blocking receive: a subscriber finds out about a message only by polling. In Python each
poll is a whole duty cycle (tens of microseconds of CPU), so a daemon that polls often enough for low
latency burns a large share of a core while the desk is quiet. The doorbell keeps the data on Aeron
and adds only a wake-up hint beside it:

- a process that sent messages in a duty cycle rings once at the end of the cycle: it bumps the
  word's sequence and wakes, with FUTEX_WAKE_BITSET, the waiters interested in those streams (one bit
  per stream, `stream_bit`);
- an idle process waits with FUTEX_WAIT_BITSET on the sequence it read *before* its last poll, for
  the streams it subscribes to, at most `max_wait` (its timers still run). Anything sent after that
  read changed the sequence, so the wait returns at once: a wake-up is not lost between the poll
  and the wait.

The sequence is bumped with a plain load and store (Python has no atomics). Two processes ringing at
the same instant may write the same value; that cannot hide a message from a waiter that read the
sequence before both rang (the value still differs), and the rare case that remains costs at most one
`max_wait` of latency, never a message: the data is on Aeron either way.

The word lives in `<desk dir>/aerodesk-doorbell` (the media driver's directory, /dev/shm), so it comes
and goes with the desk. Linux only (futex); elsewhere `Doorbell.open` raises DoorbellUnavailable and
callers fall back to timed sleeping.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.bus.client import BusClient

DOORBELL_FILE = "aerodesk-doorbell"
_SIZE = 64  # one cache line: the sequence word, the rest reserved
_FUTEX_WAIT_BITSET = 9
_FUTEX_WAKE_BITSET = 10
_WAKE_ALL = 0x7FFFFFFF
_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}
ALL_STREAMS = 0xFFFFFFFF


class DoorbellUnavailable(OSError):
    """The doorbell cannot be used here (not Linux, no futex syscall number, or the file is unusable)."""


def stream_bit(stream_id: int) -> int:
    """The wake-up bit of a stream: streams whose ids are equal mod 32 share one (a spurious wake-up
    costs one duty cycle, nothing else)."""
    return 1 << (stream_id % 32)


_u32 = ctypes.c_uint32  # variadic syscall(): ints must be passed with their C width


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


def _futex_call() -> tuple[object, int]:
    if not sys.platform.startswith("linux"):
        raise DoorbellUnavailable(f"the doorbell needs Linux futexes, not {sys.platform}")
    number = _SYS_FUTEX.get(os.uname().machine)
    if number is None:
        raise DoorbellUnavailable(f"no futex syscall number known for {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    return syscall, number


class Doorbell:
    """One process's mapping of a desk's doorbell word."""

    def __init__(self, path: Path, fd: int, region: mmap.mmap) -> None:
        self.path = path
        self._fd = fd
        self._map = region
        self._word = ctypes.c_uint32.from_buffer(region, 0)
        self._addr = ctypes.c_void_p(ctypes.addressof(self._word))
        self._syscall, self._number = _futex_call()
        self._deadline = _Timespec()
        self._deadline_ref = ctypes.byref(self._deadline)
        self.rings = 0
        self.waits = 0
        self.timeouts = 0
        self.errors = 0

    @classmethod
    def open(cls, desk_dir: Path | str) -> Doorbell:
        """Map the doorbell of the desk whose driver directory is `desk_dir`, creating it if needed."""
        _futex_call()
        path = Path(desk_dir) / DOORBELL_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise DoorbellUnavailable(f"cannot open {path}: {e.strerror}") from e
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)  # zero-filled; a concurrent creator does the same
            region = mmap.mmap(fd, _SIZE)
        except (OSError, ValueError) as e:
            os.close(fd)
            raise DoorbellUnavailable(f"cannot map {path}: {e}") from e
        return cls(path, fd, region)

    @property
    def sequence(self) -> int:
        return self._word.value

    def ring(self, bits: int = ALL_STREAMS) -> int:
        """Bump the sequence and wake the waiters interested in `bits`; returns the sequence it read."""
        word = self._word
        seen = word.value
        word.value = (seen + 1) & 0xFFFFFFFF
        self.rings += 1
        if self._syscall(self._number, self._addr, _FUTEX_WAKE_BITSET, _WAKE_ALL, None, None, _u32(bits)) < 0:
            self.errors += 1
        return seen

    def wait(self, sequence: int, timeout_ns: int, bits: int = ALL_STREAMS) -> bool:
        """Sleep until a ring for `bits` after `sequence` was read, or `timeout_ns` passes.

        True when rung (or the sequence had already moved on, or a signal came), False on timeout;
        either way the caller polls next, and spurious wake-ups are allowed."""
        deadline = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + timeout_ns
        ts = self._deadline
        ts.tv_sec, ts.tv_nsec = divmod(deadline, 1_000_000_000)
        self.waits += 1
        result = self._syscall(
            self._number,
            self._addr,
            _FUTEX_WAIT_BITSET,
            _u32(sequence),
            self._deadline_ref,
            None,
            _u32(bits or 1),
        )
        if result < 0 and ctypes.get_errno() == errno.ETIMEDOUT:
            self.timeouts += 1
            return False
        return True

    def close(self) -> None:
        word, self._word = self._word, None
        del word  # the ctypes view pins the mapping: drop it first
        with contextlib.suppress(BufferError, ValueError):
            self._map.close()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class DoorbellSignal:
    """The doorbell side of one BusClient, in two roles:

    - a WakeSignal for core.agent.idle.WakeIdle: waits for the streams the client subscribes to;
    - an agent, last in the duty cycle: rings once for every stream the client's publishers sent on
      during the cycle (BusClient.unrung), so a burst of sends costs one ring.

    Without a doorbell (disconnected, not Linux) waits are plain sleeps and rings are skipped.
    """

    role_name = "doorbell"

    def __init__(self, client: BusClient) -> None:
        self.client = client
        self._armed = 0

    # -- WakeSignal --------------------------------------------------------------------------------

    def arm(self) -> None:
        doorbell = self.client.doorbell
        if doorbell is not None:
            self._armed = doorbell.sequence

    def wait(self, timeout_ns: int) -> None:
        doorbell = self.client.doorbell
        if doorbell is None:
            time.sleep(timeout_ns / 1e9)
            return
        doorbell.wait(self._armed, timeout_ns, self.client.wake_bits)

    # -- Agent -------------------------------------------------------------------------------------

    def on_start(self) -> None:
        pass

    def do_work(self) -> int:
        self.client.ring()
        return 0  # ringing is not work: it must not keep the process from waiting

    def on_close(self) -> None:
        self.client.ring()
