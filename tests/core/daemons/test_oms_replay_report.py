"""The oms says how long replaying its WAL took (and whether it resumed from an engine snapshot), and
warns when the replay took more than a third of the start-up budget: the WAL outlives `down` / `up`,
and a long replay makes a slow start."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.daemons.oms import _report_replay_time
from core.oms.snapshot import Resumed


def _host(startup_timeout_ms: int) -> SimpleNamespace:
    return SimpleNamespace(instance="unit", profile=SimpleNamespace(startup_timeout_ms=startup_timeout_ms))


@pytest.mark.parametrize(("seconds", "warned"), [(2.0, False), (9.9, False), (10.1, True), (45.0, True)])
def test_a_replay_longer_than_a_third_of_the_start_up_budget_is_warned_about(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, seconds: float, warned: bool
) -> None:
    store = SimpleNamespace(wal_dir=tmp_path / "wal")
    with caplog.at_level(logging.INFO, logger="aerodesk.oms"):
        resumed = Resumed(engine=None, records=123_456, replayed=456, last="", snapshot="used")  # type: ignore[arg-type]
        _report_replay_time(_host(30_000), store, resumed, seconds)  # type: ignore[arg-type]
    assert (
        f"WAL replayed in {seconds:.1f} s (456 of its 123456 records; engine snapshot: used)" in caplog.text
    )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert bool(warnings) is warned
    if warned:
        text = warnings[0].getMessage()
        assert "the start-up budget is 30 s" in text and str(tmp_path / "wal") in text
