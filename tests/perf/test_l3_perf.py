"""L3 book benchmarks (run with -m perf): ops/s and per-op latency on a synthetic stream and on the real
GOOG message file, and the whole-file LOBSTER replay with a per-message truth check. Figures are
printed with their same-run baselines; nothing here is a pass/fail threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.lobster.bench import replay_bench_case
from adapters.lobster.data import l3_ops
from core.bench.l3 import run_l3_bench

GOOG = "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"


def _print_and_check_shape(report) -> None:
    print("\n" + report.to_text())
    for case in report.cases:
        assert case.value and case.baseline, case.name
        assert all(v > 0 for v in case.value.values()), case.name


@pytest.mark.perf
def test_l3_bench_synthetic() -> None:
    report = run_l3_bench()
    _print_and_check_shape(report)
    assert [c.unit for c in report.cases] == ["ops/s", "ns/op"]


@pytest.mark.perf
def test_l3_bench_goog_messages_and_replay(shared_data: Path) -> None:
    path = shared_data / "lobster" / GOOG
    ops = l3_ops(path)
    assert len(ops) == 147_916  # no halts in the sample: every message is an op
    report = run_l3_bench(ops=ops, source=f"GOOG {GOOG}")
    report.cases.append(replay_bench_case(path))
    _print_and_check_shape(report)
