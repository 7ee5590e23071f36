"""Real Binance recordings, each replayed once per test session."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.binance.replay import Replay, replay_file

CAPTURES = "binance-ws-capture-hftbacktest"
LASOTA = "binance-csv-lasota"


@pytest.fixture(scope="session")
def spot_capture(shared_data: Path) -> Path:
    return shared_data / CAPTURES / "spot" / "btcusdt_20240808.gz"


@pytest.fixture(scope="session")
def usdm_capture(shared_data: Path) -> Path:
    return shared_data / CAPTURES / "usdm" / "btcusdt_20240808.gz"


@pytest.fixture(scope="session")
def lasota_dir(shared_data: Path) -> Path:
    return shared_data / LASOTA


@pytest.fixture(scope="session")
def lasota_merged(lasota_dir: Path) -> Path:
    return next(lasota_dir.glob("merged_*usd_m_futures_trxusdt*.csv"))


@pytest.fixture(scope="session")
def lasota_spot_depth(lasota_dir: Path) -> Path:
    return next(lasota_dir.glob("*difference_depth_stream_spot_trxusdt*.csv"))


@pytest.fixture(scope="session")
def lasota_spot_trades(lasota_dir: Path) -> Path:
    return next(lasota_dir.glob("*trade_stream_spot_trxusdt*.csv"))


@pytest.fixture(scope="session")
def spot_replay(spot_capture: Path) -> Replay:
    return replay_file(spot_capture, keep_events=True)


@pytest.fixture(scope="session")
def usdm_replay(usdm_capture: Path) -> Replay:
    return replay_file(usdm_capture, keep_events=True)


@pytest.fixture(scope="session")
def spot_lines(spot_capture: Path) -> list[str]:
    with gzip.open(spot_capture, "rt") as f:
        return f.readlines()


@pytest.fixture(scope="session")
def usdm_lines(usdm_capture: Path) -> list[str]:
    with gzip.open(usdm_capture, "rt") as f:
        return f.readlines()


@dataclass
class RawCapture:
    """The capture read with nothing but json: an oracle independent of the adapter."""

    snapshot_id: int = 0
    snapshot_line: int = -1
    diffs: list[dict] = field(default_factory=list)  # depthUpdate payloads in file order
    diff_lines: list[int] = field(default_factory=list)  # 0-based line index of each diff
    tickers: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)


def read_raw(lines: list[str]) -> RawCapture:
    raw = RawCapture()
    for i, line in enumerate(lines):
        msg = json.loads(line.split(" ", 1)[1])
        data = msg.get("data", msg)
        stream = msg.get("stream", "")
        if "lastUpdateId" in data:
            raw.snapshot_id, raw.snapshot_line = data["lastUpdateId"], i
        elif "@depth" in stream:
            raw.diffs.append(data)
            raw.diff_lines.append(i)
        elif stream.endswith("@bookTicker"):
            raw.tickers.append(data)
        elif stream.endswith("@trade"):
            raw.trades.append(data)
    return raw


def book_state_ids(raw: RawCapture, usdm: bool) -> list[int]:
    """Update ids the book rests at when the venue's rules are followed on an unbroken capture."""
    L = raw.snapshot_id
    ids = [L]
    for d in raw.diffs:
        if (d["u"] < L) if usdm else (d["u"] <= L):
            continue
        ids.append(d["u"])
    return ids


@pytest.fixture(scope="session")
def spot_raw(spot_lines: list[str]) -> RawCapture:
    return read_raw(spot_lines)


@pytest.fixture(scope="session")
def usdm_raw(usdm_lines: list[str]) -> RawCapture:
    return read_raw(usdm_lines)
