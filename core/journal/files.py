"""Small POSIX file helpers for the writer: whole writes at offsets, data syncs, directory syncs."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


def pwrite_all(fd: int, data: bytes | bytearray, offset: int, start: int = 0) -> None:
    """Write data[start:] at file offset `offset`, through partial writes; no buffer export outlives it."""
    with memoryview(data) as whole:
        pos = start
        while pos < len(whole):
            with whole[pos:] as part:
                pos += os.pwrite(fd, part, offset + pos - start)


def fdatasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new segment file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_tail(source: Path, target: Path, offset: int) -> None:
    """Copy source[offset:] to a new file, durably (kept before the source is truncated)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        src.seek(offset)
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())


def unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
