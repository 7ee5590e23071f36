"""`aerodesk data book|check` on the real recordings, and its refusals of bad input."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.data import app, parse_at

runner = CliRunner()
DECIMAL = re.compile(r"^\d+\.\d+$")
CAPTURES = "binance-ws-capture-hftbacktest"


@pytest.fixture(scope="module")
def usdm(shared_data: Path) -> Path:
    return shared_data / CAPTURES / "usdm" / "btcusdt_20240808.gz"


@pytest.fixture(scope="module")
def spot(shared_data: Path) -> Path:
    return shared_data / CAPTURES / "spot" / "btcusdt_20240808.gz"


@pytest.fixture(scope="module")
def usdm_prefix(usdm: Path, tmp_path_factory) -> Path:
    """The first 6000 lines of the USD-M capture (plain text): quick to replay."""
    path = tmp_path_factory.mktemp("cli") / "usdm_prefix.txt"
    with gzip.open(usdm, "rt") as f:
        path.write_text("".join(next(f) for _ in range(6000)))
    return path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_book_json_is_one_document_with_exact_decimal_strings(usdm_prefix):
    result = invoke("book", usdm_prefix, "--depth", "5", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1  # exactly one JSON document
    doc = json.loads(result.stdout)
    assert doc["format"] == "binance-usdm" and doc["symbol"] == "BTCUSDT-PERP"
    bids, asks = doc["bids"], doc["asks"]
    assert len(bids) == len(asks) == 5
    for price, qty in bids + asks:
        assert isinstance(price, str) and DECIMAL.match(price) and DECIMAL.match(qty)
    from decimal import Decimal

    bid_prices = [Decimal(p) for p, _ in bids]
    ask_prices = [Decimal(p) for p, _ in asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
    assert bid_prices[0] < ask_prices[0] and not doc["crossed"]
    assert Decimal(doc["mid"]) == (bid_prices[0] + ask_prices[0]) / 2
    assert Decimal(doc["spread"]) == ask_prices[0] - bid_prices[0]


def test_book_at_accepts_ns_ms_and_iso_for_the_same_instant(usdm_prefix):
    # 2024-08-08T23:54:30Z lies inside the first 6000 lines of the capture
    docs = []
    for at in (
        "1723161270000000000",
        "1723161270000",
        "2024-08-08T23:54:30Z",
        "2024-08-08T23:54:30.000000000",
    ):
        result = invoke("book", usdm_prefix, "--at", at, "--json", "--depth", "3")
        assert result.exit_code == 0, result.stderr
        docs.append(json.loads(result.stdout))
    assert all(d == docs[0] for d in docs)
    assert docs[0]["ts_ns"] <= 1723161270000000000
    later = json.loads(invoke("book", usdm_prefix, "--json").stdout)
    assert later["update_id"] > docs[0]["update_id"]


def test_book_before_the_first_snapshot_is_refused_clearly(usdm_prefix):
    result = invoke("book", usdm_prefix, "--at", "2024-08-08T23:54:00Z")  # before the capture starts
    assert result.exit_code == 1
    assert "not synchronised yet" in result.stderr


def test_book_text_shows_a_ladder(usdm_prefix):
    result = invoke("book", usdm_prefix, "-n", "3")
    assert result.exit_code == 0
    assert "BTCUSDT-PERP" in result.stdout and "mid" in result.stdout
    assert len([line for line in result.stdout.splitlines() if "|" in line]) == 4  # header + 3 levels


@pytest.mark.parametrize("capture", ["spot", "usdm_prefix"])
def test_check_on_the_real_captures_passes(capture, request):
    result = invoke("check", request.getfixturevalue(capture), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["states_compared"] > 0 and report["states_mismatched"] == 0 and report["ok"]
    assert report["format"] == f"binance-{capture.split('_')[0]}"
    text = invoke("check", request.getfixturevalue(capture)) if capture == "usdm_prefix" else None
    if text is not None:
        assert text.exit_code == 0 and ": OK" in text.stdout.splitlines()[0]


def test_check_on_a_file_without_truth_exits_1_and_says_so(shared_data):
    trades = next((shared_data / "binance-csv-lasota").glob("*trade_stream_spot*"))
    result = invoke("check", trades)
    assert result.exit_code == 1
    assert "no truth to compare" in result.stderr
    assert "NO TRUTH" in result.stdout


def test_check_counts_garbage_lines_and_still_checks(usdm_prefix, tmp_path):
    lines = usdm_prefix.read_text().splitlines(keepends=True)
    lines[100:100] = ["garbage\n", "1723161255088169167 {not json}\n", "1723161255088169167 [1]\n"]
    dirty = tmp_path / "dirty.txt"
    dirty.write_text("".join(lines))
    result = invoke("check", dirty, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert any(n == "bad lines: 3 skipped" for n in report["notes"])
    assert report["states_compared"] > 0 and report["states_mismatched"] == 0


def test_truncated_gzip_keeps_what_was_read_and_warns(usdm, tmp_path):
    cut = tmp_path / "cut.gz"
    cut.write_bytes(usdm.read_bytes()[:300_000])
    result = invoke("check", cut, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["states_compared"] > 0 and report["states_mismatched"] == 0
    assert any("cannot be read past this point" in n for n in report["notes"])
    assert "warning: bad lines: 1 skipped" in result.stderr


def test_a_mismatch_exits_1(usdm_prefix, tmp_path):
    """Tamper with one bookTicker that is comparable: the check must catch it."""
    lines = usdm_prefix.read_text().splitlines(keepends=True)
    depth_u = {json.loads(line.split(" ", 1)[1])["data"]["u"] for line in lines if "@depth" in line}
    for i, line in enumerate(lines):
        if "@bookTicker" in line:
            ts, text = line.split(" ", 1)
            msg = json.loads(text)
            if msg["data"]["u"] in depth_u:
                msg["data"]["B"] = "999.999"
                lines[i] = f"{ts} {json.dumps(msg)}\n"
                break
    else:
        pytest.fail("no comparable bookTicker in the prefix")
    tampered = tmp_path / "tampered.txt"
    tampered.write_text("".join(lines))
    result = invoke("check", tampered)
    assert result.exit_code == 1
    assert "1 of" in result.stderr and "mismatch" in result.stdout.lower()


@pytest.mark.parametrize(
    "args",
    [
        ["book", "FILE", "--format", "binance-coinm"],
        ["book", "FILE", "--depth", "0"],
        ["book", "FILE", "--at", "yesterday"],
        ["book", "FILE", "--at", "172316127000000"],  # 15 digits: neither ms nor ns
        ["check"],
        ["nonsense"],
    ],
)
def test_bad_arguments_exit_2(args, usdm_prefix):
    result = invoke(*[str(usdm_prefix) if a == "FILE" else a for a in args])
    assert result.exit_code == 2


def test_missing_file_exits_1_with_a_clear_message(tmp_path):
    for command in ("book", "check"):
        result = invoke(command, tmp_path / "nope.gz")
        assert result.exit_code == 1
        assert "no such file" in result.stderr
        assert "Traceback" not in result.output


def test_unrecognised_content_exits_1_without_a_traceback(tmp_path, shared_data):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b,c\n1,2,3\n")
    hyperliquid = shared_data / CAPTURES / "hyperliquid" / "btcusd_20250126.gz"
    for path in (junk, hyperliquid, tmp_path):
        result = invoke("check", path)
        assert result.exit_code == 1 and result.stderr.startswith("error: ")
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_format_that_contradicts_the_content_is_refused(usdm_prefix):
    result = invoke("book", usdm_prefix, "--format", "binance-spot")
    assert result.exit_code == 1
    assert "binance-usdm data, not binance-spot" in result.stderr


def test_book_on_a_diffs_only_file_explains_why_there_is_no_book(shared_data):
    diffs = next((shared_data / "binance-csv-lasota").glob("*difference_depth_stream_spot*"))
    result = invoke("book", diffs)
    assert result.exit_code == 1
    assert "cannot be synchronised from diffs alone" in result.stderr


def test_lobster_check_runs_the_real_adapter_on_the_whole_file(shared_data):
    aapl = next((shared_data / "lobster").glob("*AAPL*.zip"))
    result = invoke("check", aapl, "--json")  # format recognised from the zip's content
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["format"] == "lobster"
    assert report["states_compared"] > 100_000
    assert report["levels_mismatched"] == 0


def test_lobster_book_at_a_time_equals_the_orderbook_row(shared_data):
    import zipfile

    goog = next((shared_data / "lobster").glob("*GOOG*.zip"))
    with zipfile.ZipFile(goog) as z:
        msg_name = next(n for n in z.namelist() if "message" in n)
        book_name = next(n for n in z.namelist() if "orderbook" in n)
        messages = z.read(msg_name).decode().splitlines()
        rows = z.read(book_name).decode().splitlines()
    # The book after message 2000 (the last one at its timestamp), read straight from the file.
    i = 2000
    t = messages[i].split(",")[0]
    while messages[i + 1].split(",")[0] == t:
        i += 1
    row = [int(x) for x in rows[i].split(",")]
    seconds, _, frac = t.partition(".")
    # 2012-06-21 is in US Eastern daylight time: UTC-4.
    at_ns = (1340236800 + 4 * 3600 + int(seconds)) * 10**9 + int((frac + "000000000")[:9])
    result = invoke("book", goog, "--at", str(at_ns), "--depth", "3", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    expected_asks = [[f"{row[4 * k] / 10000:.4f}", str(row[4 * k + 1])] for k in range(3)]
    expected_bids = [[f"{row[4 * k + 2] / 10000:.4f}", str(row[4 * k + 3])] for k in range(3)]
    assert doc["asks"] == expected_asks
    assert doc["bids"] == expected_bids


def test_parse_at_units():
    assert parse_at("1723161270000") == 1723161270000 * 10**6
    assert parse_at("1723161270123456789") == 1723161270123456789
    assert parse_at("2024-08-08T23:54:30.123456789Z") == 1723161270123456789
    assert parse_at("2024-08-08T23:54:30+00:00") == parse_at("2024-08-08 23:54:30")
    assert parse_at("2024-08-09T01:54:30+02:00") == 1723161270 * 10**9
