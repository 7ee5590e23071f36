"""L2 book benchmarks on the real Binance USD-M capture (run with -m perf). Figures are printed with
same-run baselines; nothing is asserted about speed."""

from __future__ import annotations

import pytest

from adapters.binance.bench import binance_bench_source
from core.bench.book import run_book_bench, synthetic_source

pytestmark = pytest.mark.perf


@pytest.fixture(scope="module")
def source(shared_data):
    return binance_bench_source(
        capture=shared_data / "binance-ws-capture-hftbacktest/usdm/btcusdt_20240808.gz"
    )


def test_book_bench_on_real_binance_deltas(source, capsys):
    report = run_book_bench(source=source)
    with capsys.disabled():
        print("\n" + report.to_text())
    names = [c.name for c in report.cases]
    assert "parse + sync + normalize (market-data client)" in names
    assert all(v > 0 for c in report.cases for v in c.value.values())
    assert report.to_dict()["cases"][0]["ratio_p50"] is not None


def test_book_bench_without_a_recording_says_so():
    report = run_book_bench(quick=True, source=synthetic_source(seed=1, deltas=200))
    assert "synthetic" in report.title
    assert any("parse+sync rate not measured" in n for n in report.notes)
