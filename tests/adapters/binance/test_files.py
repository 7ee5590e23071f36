"""Recognising recorded files by their content (never their name) and reading them line by line."""

from __future__ import annotations

import gzip
import shutil

import pytest

from adapters.binance.files import BadLine, FileFormatError, RawMessage, read_messages, sniff


def test_real_captures_are_recognised(spot_capture, usdm_capture):
    spot, usdm = sniff(spot_capture), sniff(usdm_capture)
    assert (spot.format, spot.container, spot.compressed) == ("binance-spot", "capture", True)
    assert (usdm.format, usdm.container, usdm.compressed) == ("binance-usdm", "capture", True)
    assert {"depth", "bookTicker", "trade"} <= spot.content
    assert {"depth", "bookTicker", "trade", "snapshot"} <= usdm.content


def test_lasota_csvs_are_recognised(lasota_merged, lasota_spot_depth, lasota_spot_trades):
    merged, depth, trades = sniff(lasota_merged), sniff(lasota_spot_depth), sniff(lasota_spot_trades)
    assert (merged.format, merged.container) == ("binance-usdm", "lasota-csv")
    assert (depth.format, depth.content) == ("binance-spot", frozenset({"depth"}))
    assert (trades.format, trades.content) == ("binance-spot", frozenset({"trade"}))


def test_lobster_zip_is_recognised_for_the_lobster_adapter(shared_data):
    info = sniff(next((shared_data / "lobster").glob("*GOOG*.zip")))
    assert info.format == "lobster" and info.container == "zip"


def test_content_not_the_name_decides(spot_capture, tmp_path):
    disguised = tmp_path / "looks_like.csv"
    shutil.copy(spot_capture, disguised)
    assert sniff(disguised).format == "binance-spot" and sniff(disguised).compressed
    plain = tmp_path / "plain.gz"  # named .gz, but not compressed
    with gzip.open(spot_capture, "rt") as f:
        plain.write_text("".join(next(f) for _ in range(500)))
    info = sniff(plain)
    assert info.format == "binance-spot" and not info.compressed
    assert sum(isinstance(m, RawMessage) for m in read_messages(plain)) == 500


def test_bare_json_lines_without_timestamps(usdm_capture, tmp_path):
    jsonl = tmp_path / "stream.jsonl"
    with gzip.open(usdm_capture, "rt") as f:
        jsonl.write_text("".join(next(f).split(" ", 1)[1] for _ in range(300)))
    info = sniff(jsonl)
    assert (info.format, info.container) == ("binance-usdm", "jsonl")
    messages = list(read_messages(jsonl))
    assert len(messages) == 300 and all(m.receive_ts_ns == 0 for m in messages)


def test_other_venues_and_garbage_are_refused_clearly(shared_data, tmp_path):
    with pytest.raises(FileFormatError, match="no Binance market-data messages"):
        sniff(shared_data / "binance-ws-capture-hftbacktest" / "hyperliquid" / "btcusd_20250126.gz")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage\nmore garbage\n")
    with pytest.raises(FileFormatError, match="not a recognised"):
        sniff(junk)
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(FileFormatError, match="no data lines"):
        sniff(empty)
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(b"1 {}\n" * 1000)[:30])
    with pytest.raises(FileFormatError):
        sniff(truncated)
    with pytest.raises(FileNotFoundError):
        sniff(tmp_path / "missing")


def test_bad_capture_lines_are_reported_not_fatal(spot_capture, tmp_path):
    with gzip.open(spot_capture, "rt") as f:
        lines = [next(f) for _ in range(50)]
    lines[10:10] = ["this is not a capture line\n", "12345\n"]
    path = tmp_path / "dirty.txt"
    path.write_text("".join(lines))
    items = list(read_messages(path))
    bad = [i for i in items if isinstance(i, BadLine)]
    assert [b.line_no for b in bad] == [11, 12]
    assert sum(isinstance(i, RawMessage) for i in items) == 50
