"""Journal benchmark (run with -m perf): figures and ratios to same-run baselines, never thresholds."""

from __future__ import annotations

import pytest

from core.bench.journal import run_journal_bench


@pytest.mark.perf
def test_journal_bench(tmp_path):
    report = run_journal_bench(records=1_000_000, directory=tmp_path)
    print()
    print(report.to_text())
    names = [c.name for c in report.cases]
    for expected in (
        "append, fsync none",
        "scan+filter, verified",
        "scan+filter, sealed index trusted",
        "decode to rows: blocks()",
        "records() iteration",
        "scan, unsealed",
        "append, fsync every record",
    ):
        assert any(n.startswith(expected) for n in names), expected
    for case in report.cases:
        key = "p50" if "p50" in case.value else "value"
        assert case.value[key] > 0 and case.baseline[key] > 0, case.name
        assert case.ratio(key) is not None
    assert report.to_dict()["cases"]
