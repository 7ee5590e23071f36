"""The codec benchmark runs and reports a same-run baseline and a ratio per case (no speed asserted)."""

from __future__ import annotations

import pytest

from core.bench.codec import _check_same_bytes, _new_order_pair, _Pair, run_codec_bench


def test_codec_bench_reports_three_cases_with_baselines_and_ratios() -> None:
    report = run_codec_bench(iterations=40, batch=10)
    assert [c.name for c in report.cases] == [
        "NewOrder encode+decode",
        "ExecutionReport encode+decode",
        "BookSnapshot20 encode+decode",
    ]
    for case in report.cases:
        assert case.value["count"] == case.baseline["count"] == 4
        assert case.value["p50"] > 0 and case.baseline["p50"] > 0
        assert case.ratio("p50") == pytest.approx(case.value["p50"] / case.baseline["p50"])
        assert case.goal == "<= 1.5x"
    assert "fallbacks during the run: {'encode_fallbacks': 0, 'decode_fallbacks': 0}" in "\n".join(
        report.notes
    )
    same = next(n for n in report.notes if n.startswith("same-inputs baseline"))
    for name in ("NewOrder", "ExecutionReport", "BookSnapshot20"):
        assert f"{name} p50=" in same
    text = report.to_text()
    assert "ratio" in text and "BookSnapshot20" in text
    assert report.to_dict()["cases"][0]["ratio_p50"] is not None


def test_codec_bench_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        run_codec_bench(iterations=0)
    with pytest.raises(ValueError, match="clock"):
        run_codec_bench(iterations=10, clock="sundial")


def test_quick_run_is_a_smoke_run() -> None:
    report = run_codec_bench(quick=True, batch=1_000)
    assert all(c.value["count"] == 10 for c in report.cases)


def test_a_baseline_writing_other_bytes_is_refused() -> None:
    buf = bytearray(4096)
    good = _new_order_pair(buf)

    def off_by_one_price() -> object:
        good.baseline()
        buf[8 + 42] ^= 1  # NewOrder.price starts 42 bytes into the block
        return None

    _check_same_bytes(good, buf)  # the real pair writes identical bytes on every side
    bad = _Pair(good.name, good.ours, off_by_one_price, good.baseline_name, good.same_inputs)
    with pytest.raises(RuntimeError, match="baseline writes other bytes"):
        _check_same_bytes(bad, buf)
