"""TUI benchmark (run with -m perf): the highest market-data rate the TUI keeps rendering at >= 10 Hz,
its CPU use and event-to-screen delay, against a raw subscriber at the same rate. Figures are printed;
nothing is asserted about speed (the shared host's load decides them), only that they were measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.bench import RENDER_GOAL_HZ, run_tui_bench

pytestmark = pytest.mark.perf


def _shm_entries() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("aerodesk-bench-tui-*")}


def test_tui_bench_measures_rate_render_cpu_and_delay(capsys) -> None:
    before = _shm_entries()
    report = run_tui_bench(quick=True)
    with capsys.disabled():
        print("\n" + report.to_text())
    rate, render, cpu, delay = report.cases
    assert rate.unit == "msg/s" and rate.value["value"] > 0 and rate.baseline["value"] > 0
    assert render.unit == "Hz" and render.baseline["value"] == RENDER_GOAL_HZ and render.value["value"] > 0
    assert cpu.value["value"] > 0 and cpu.baseline["value"] > 0
    assert set(delay.value) == {"p50", "p99"} and 0 < delay.value["p50"] <= delay.value["p99"]
    assert any("kept up" in n for n in report.notes)  # every step is described
    assert _shm_entries() == before  # its driver is gone and its directory removed
