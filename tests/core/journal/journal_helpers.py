"""SBE-shaped payloads built with struct (the codec is not a dependency) and journal builders."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.journal import FsyncPolicy, JournalWriter

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_ID = 7001
SCHEMA_VERSION = 1
INSTANCE = "test"

TRADE_TEMPLATE = 3
TRADE_BLOCK = struct.Struct("<Iqqbq")  # instrumentId, price, qty, side, tradeTime
TRADE_DTYPE = np.dtype(
    [("instrument_id", "<u4"), ("price", "<i8"), ("qty", "<i8"), ("side", "u1"), ("trade_time_ns", "<i8")]
)
QUOTE_TEMPLATE = 5
QUOTE_BLOCK = struct.Struct("<Iqq")  # instrumentId, bid, ask
SBE_HEADER = struct.Struct("<HHHH")

assert TRADE_DTYPE.itemsize == TRADE_BLOCK.size


def trade_payload(i: int, *, var_data: bytes = b"", version: int = SCHEMA_VERSION) -> bytes:
    block = TRADE_BLOCK.pack(i % 11, 50_000_00 + i, 1 + i % 97, 1 + i % 2, 1_700_000_000_000_000_000 + i)
    tail = struct.pack("<H", len(var_data)) + var_data if var_data else b""
    return SBE_HEADER.pack(TRADE_BLOCK.size, TRADE_TEMPLATE, SCHEMA_ID, version) + block + tail


def quote_payload(i: int) -> bytes:
    return SBE_HEADER.pack(QUOTE_BLOCK.size, QUOTE_TEMPLATE, SCHEMA_ID, SCHEMA_VERSION) + QUOTE_BLOCK.pack(
        i % 11, 100 + i, 101 + i
    )


def decode_trade(payload: bytes) -> tuple:
    _, template_id, _, _ = SBE_HEADER.unpack_from(payload)
    assert template_id == TRADE_TEMPLATE
    return TRADE_BLOCK.unpack_from(payload, SBE_HEADER.size)


@dataclass(frozen=True)
class Appended:
    sequence: int
    receive_time_ns: int
    stream_id: int
    session_id: int
    position: int
    template_id: int
    payload: bytes


def make_records(n: int, seed: int = 1, start_ns: int = 1_000_000) -> list[Appended]:
    """A mixed stream: trades (some with var data), quotes; three streams; rising receive times."""
    rng = random.Random(seed)
    out = []
    t = start_ns
    for i in range(n):
        t += rng.randint(0, 1000)
        if rng.random() < 0.6:
            payload = trade_payload(i, var_data=bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))))
            template = TRADE_TEMPLATE
        else:
            payload = quote_payload(i)
            template = QUOTE_TEMPLATE
        out.append(Appended(i, t, rng.choice((20, 30, 60)), rng.randint(-5, 5), i * 64, template, payload))
    return out


def write_records(
    path: Path,
    records: list[Appended],
    *,
    max_segment_bytes: int = 16 * 1024,
    fsync: FsyncPolicy | None = None,
    close: bool = True,
) -> JournalWriter:
    writer = JournalWriter(
        path,
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        instance=INSTANCE,
        fsync=fsync or FsyncPolicy.never(),
        max_segment_bytes=max_segment_bytes,
    )
    for r in records:
        seq = writer.append(
            r.payload,
            stream_id=r.stream_id,
            receive_time_ns=r.receive_time_ns,
            session_id=r.session_id,
            position=r.position,
        )
        assert seq == r.sequence
    if close:
        writer.close()
    return writer


def as_tuples(records) -> list[tuple]:
    return [
        (
            r.sequence,
            r.receive_time_ns,
            r.stream_id,
            r.session_id,
            r.position,
            r.template_id,
            bytes(r.payload),
        )
        for r in records
    ]


def run_child(scenario: str, *args: object, timeout: float = 60) -> dict:
    """Run tests/core/journal/journal_child.py in a fresh process; returns its JSON result line."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.core.journal.journal_child", scenario, *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    if proc.returncode != 0:
        raise AssertionError(f"child {scenario} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def crash_write(path: Path, n: int, *, max_segment_bytes: int = 16 * 1024, seed: int = 1) -> dict:
    """Write make_records(n, seed) in a child process that syncs then dies without closing (a crash)."""
    return run_child("crash", path, n, max_segment_bytes, seed)
