"""Strategy host benchmark (run with -m perf): md messages through the host to the market maker, per
message and per second, each with its same-run baseline. Figures are printed; nothing here is a pass/fail
threshold."""

from __future__ import annotations

import pytest

from core.bench.strategy import run_strategy_bench


@pytest.mark.perf
def test_strategy_bench() -> None:
    report = run_strategy_bench()
    print("\n" + report.to_text())
    assert [c.unit for c in report.cases] == ["ns/op", "ns/op", "msg/s"]
    for case in report.cases:
        assert case.value and case.baseline, case.name
        assert all(v > 0 for v in case.value.values()), case.name
        assert case.ratio("p50") or case.ratio("value"), case.name
    assert "replaces" in report.notes[0]


@pytest.mark.perf
def test_strategy_bench_is_json_ready() -> None:
    d = run_strategy_bench(quick=True).to_dict()
    assert d["title"].startswith("strategy host") and len(d["cases"]) == 3
    assert all(c["ratio_p50"] for c in d["cases"])
