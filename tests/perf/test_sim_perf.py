"""Simulated venue benchmarks (run with -m perf): matching-engine per-request latency and orders/s,
market events/s through the engine, synthetic market events/s, each with its same-run baseline.
Figures are printed; nothing here is a pass/fail threshold."""

from __future__ import annotations

import pytest

from core.bench.sim import run_sim_bench


@pytest.mark.perf
def test_sim_bench() -> None:
    report = run_sim_bench()
    print("\n" + report.to_text())
    units = [c.unit for c in report.cases]
    assert units.count("ns/op") == 3 and "orders/s" in units and units.count("events/s") == 2
    for case in report.cases:
        assert case.value and case.baseline, case.name
        assert all(v > 0 for v in case.value.values()), case.name
        assert case.ratio("p50") or case.ratio("value"), case.name


@pytest.mark.perf
def test_sim_bench_is_json_ready() -> None:
    d = run_sim_bench(quick=True).to_dict()
    assert d["title"].startswith("sim") and len(d["cases"]) == 6
    assert all(c["ratio_p50"] for c in d["cases"])
