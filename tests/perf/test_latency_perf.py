"""Tick-to-order latency of real desks (run with -m perf): the default profile, and the low-latency one
(busy-spin, opt-in), against raw pyaeron and ZeroMQ relays measured in the same run, with the CPU of
every process. Figures are printed; nothing is asserted about speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bench.latency import run_latency_bench
from core.bench.report import BenchReport

pytestmark = pytest.mark.perf


def _shm_entries() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("aerodesk-bench-*")}


def _check(report: BenchReport, profiles: list[str]) -> None:
    names = [c.name for c in report.cases]
    for label in profiles:
        ours = [c for c in report.cases if c.name.startswith(f"{label} profile") and c.unit == "ns"]
        assert len(ours) == 2, names  # against raw pyaeron and against ZeroMQ
        for case in ours:
            v, b = case.value, case.baseline
            assert set(v) == set(b) == {"p50", "p99", "p99.9", "max"}
            assert 0 < v["p50"] <= v["p99"] <= v["p99.9"] <= v["max"]
            assert 0 < b["p50"] <= b["p99"] <= b["p99.9"] <= b["max"]
            assert case.ratio("p50") is not None
        cpu = next(c for c in report.cases if c.name.startswith(f"CPU of the {label} desk"))
        assert cpu.value["value"] > 0 and cpu.baseline["value"] > 0
    quiet = report.cases[-1]
    assert quiet.name.startswith("CPU of a quiet demo desk") and quiet.value["value"] > 0


def test_tick_to_order_default_profile_against_raw_and_zeromq_relays(capsys) -> None:
    before = _shm_entries()
    report = run_latency_bench()
    with capsys.disabled():
        print("\n" + report.to_text())
    _check(report, ["default"])
    assert _shm_entries() == before  # every desk and driver stopped, its directory removed


def test_tick_to_order_low_latency_profile_is_opt_in(capsys) -> None:
    report = run_latency_bench(quick=True, busy_spin=True)
    with capsys.disabled():
        print("\n" + report.to_text())
    _check(report, ["default", "low-latency"])
