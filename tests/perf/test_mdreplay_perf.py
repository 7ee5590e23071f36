"""Binance capture replay into the bus (run with -m perf): the md daemon of a real desk at speed "max"
against raw pyaeron process to process with the same messages, same run. Figures are printed; nothing
is asserted about speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.bench.mdreplay import CAPTURE, run_mdreplay_bench

pytestmark = pytest.mark.perf


def _shm_entries() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("aerodesk-bench-*")}


def test_md_replay_rate_into_the_bus_with_a_raw_pyaeron_baseline(shared_data: Path, capsys) -> None:
    before = _shm_entries()
    report = run_mdreplay_bench(data=str(shared_data / CAPTURE))
    with capsys.disabled():
        print("\n" + report.to_text())
    replay, feed_alone = report.cases
    assert replay.unit == "msg/s" and replay.value["value"] > 0 and replay.baseline["value"] > 0
    assert replay.ratio("value") is not None
    assert feed_alone.value["value"] > 0
    assert any(n.startswith("CPU during the replay") for n in report.notes)
    assert _shm_entries() == before  # the desk's and the baseline's drivers are gone
