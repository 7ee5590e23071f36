"""LOBSTER samples from ../shared/data/lobster, and helpers that read them without the adapter."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

GOOG = "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
AAPL = "LOBSTER_SampleFile_AAPL_2012-06-21_1.zip"
# 2012-06-21 is in US daylight saving time: New York is UTC-4. Midnight there in epoch seconds:
MIDNIGHT_2012_06_21_NY = 1340251200


@pytest.fixture(scope="session")
def goog_zip(shared_data: Path) -> Path:
    return shared_data / "lobster" / GOOG


@pytest.fixture(scope="session")
def aapl_zip(shared_data: Path) -> Path:
    return shared_data / "lobster" / AAPL


def member_lines(archive: Path, kind: str) -> tuple[str, list[str]]:
    """(member name, lines) of the archive's message or orderbook CSV, read with plain zipfile."""
    with zipfile.ZipFile(archive) as zf:
        (name,) = [n for n in zf.namelist() if f"_{kind}_" in n]
        return name, zf.read(name).decode("ascii").splitlines()


def epoch_ns(seconds_text: str, midnight_epoch_s: int = MIDNIGHT_2012_06_21_NY) -> int:
    return midnight_epoch_s * 1_000_000_000 + int(Decimal(seconds_text) * 1_000_000_000)


def write_pair(directory: Path, name: str, messages: list[str], orderbook: list[str]) -> Path:
    """Write a message/orderbook CSV pair (`name` is the message file's); returns the message path."""
    msg = directory / name
    msg.write_text("\n".join(messages) + "\n")
    (directory / name.replace("_message_", "_orderbook_")).write_text("\n".join(orderbook) + "\n")
    return msg
