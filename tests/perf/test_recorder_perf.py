"""Recorder and `log` reading benchmarks (run with -m perf): figures and ratios to same-run baselines,
never thresholds."""

from __future__ import annotations

import pytest

from core.bench.log import run_log_bench
from core.bench.recorder import run_recorder_bench


def _check(report, expected: tuple[str, ...]) -> None:
    print()
    print(report.to_text())
    names = [c.name for c in report.cases]
    for prefix in expected:
        assert any(n.startswith(prefix) for n in names), prefix
    for case in report.cases:
        key = "p50" if "p50" in case.value else "value"
        assert case.value[key] > 0 and case.baseline[key] > 0, case.name
        assert case.ratio(key) is not None
    assert report.to_dict()["cases"]


@pytest.mark.perf
def test_recorder_bench():
    report = run_recorder_bench()
    _check(
        report,
        (
            "messages journaled per second (tethered",
            "messages journaled per second, against the journal writer alone",
            "recorder duty cycle cost per message",
        ),
    )


@pytest.mark.perf
def test_log_bench():
    report = run_log_bench()
    _check(
        report,
        (
            "select: stream + template + time window",
            "decode to rows: Trade fixed blocks",
            "decode to rows: BookDelta with its levels group",
            "export: every type to Parquet",
            "stats:",
            "dump:",
        ),
    )
