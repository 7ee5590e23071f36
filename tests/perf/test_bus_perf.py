"""Bus benchmark (run with -m perf): cross-process latency and throughput of our wrappers against raw
pyaeron in the same run. Figures are printed; nothing is asserted about speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bench.bus import run_bus_bench

pytestmark = pytest.mark.perf


def _shm_entries() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("aerodesk-bench-*")}


def test_bus_bench_reports_latency_and_throughput_with_raw_baselines(capsys):
    before = _shm_entries()
    report = run_bus_bench()
    with capsys.disabled():
        print("\n" + report.to_text())
    latency, agent_latency, throughput, throughput_decode, floor, *cpu_cases = report.cases
    assert latency.unit == "ns one-way" and "RTT/2" in latency.name
    for case in (latency, agent_latency):
        assert set(case.value) == set(case.baseline) == {"p50", "p99", "p99.9"}
        assert case.value["p50"] <= case.value["p99"] <= case.value["p99.9"]
    for case in (throughput, throughput_decode, floor):
        assert case.unit == "msg/s" and case.value["value"] > 0 and case.baseline["value"] > 0
    # The goals are against a raw consumer doing the same work (dispatch by template id); the floor
    # (a raw handler that reads nothing) is reported beside them without a goal.
    assert all("dispatch by template id" in c.baseline_name for c in (latency, throughput, throughput_decode))
    assert not floor.goal and throughput.value == floor.value and "floor" in floor.baseline_name
    assert len(cpu_cases) == 2
    assert all(c.value["p50"] > 0 and c.baseline["p50"] > 0 for c in cpu_cases)
    assert report.to_dict()["cases"][1]["ratio_p50"] is not None
    assert _shm_entries() == before  # its driver is gone and its directory removed


def test_bus_bench_busy_spin_is_opt_in(capsys):
    report = run_bus_bench(quick=True, busy_spin=True)
    with capsys.disabled():
        print("\n" + report.to_text())
    assert "busy-spin" in report.title
    assert "backoff" in run_bus_bench(quick=True, messages=200, throughput_messages=10_000).title
