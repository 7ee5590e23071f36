"""Codec benchmark (run with -m perf): prints per-op percentiles and ratios to raw struct; no threshold."""

from __future__ import annotations

import pytest

from core.bench.codec import run_codec_bench


@pytest.mark.perf
def test_codec_encode_decode_vs_raw_struct() -> None:
    report = run_codec_bench()
    print()
    print(report.to_text())
    for case in report.cases:
        ratio = case.ratio("p50")
        assert ratio is not None and ratio > 0  # measured and reported, not judged here
