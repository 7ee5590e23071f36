"""oms benchmark (run with -m perf): risk checks per second, orders through the engine, kill-switch time to
zero working orders with 1,000 resting orders. Figures with same-run baselines, never thresholds."""

from __future__ import annotations

import pytest

from core.bench.oms import run_oms_bench


@pytest.mark.perf
def test_oms_bench():
    report = run_oms_bench(checks=200_000, orders=20_000, resting=1_000, kill_runs=5)
    print()
    print(report.to_text())
    names = [c.name for c in report.cases]
    for expected in (
        "pre-trade risk checks",
        "pre-trade risk check, per order",
        "new order through the engine",
        "kill switch: command to zero working orders (1,000 resting)",
    ):
        assert any(n.startswith(expected) for n in names), expected
    for case in report.cases:
        key = "p50" if "p50" in case.value else "value"
        assert case.value[key] > 0 and case.baseline[key] > 0, case.name
        assert case.ratio(key) is not None
