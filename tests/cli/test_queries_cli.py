"""`aerodesk orders | positions | risk` when there is nothing to ask: no media driver at all, or a driver
with no oms behind it. Both are "desk not running" (exit 3), each said in its own words."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.bus import instance_dir, spawn_driver
from tests.e2e.cli import DeskCli


def _instance() -> str:
    return f"test-q-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("command", ["orders", "positions", "risk"])
def test_queries_exit_3_when_no_desk_runs(command: str, tmp_path: Path) -> None:
    instance = _instance()
    run = DeskCli(instance, str(tmp_path))(command, "--json")
    assert run.code == 3, run
    assert f"desk {instance} is not running" in run.stderr and "no media driver" in run.stderr
    assert run.stdout == ""  # nothing on stdout for a script to misread


@pytest.fixture
def driver_only(tmp_path: Path) -> Iterator[str]:
    instance = _instance()
    driver = spawn_driver(instance, log_path=tmp_path / "driver.log")
    try:
        yield instance
    finally:
        driver.stop()
        shutil.rmtree(instance_dir(instance), ignore_errors=True)


def test_queries_exit_3_when_the_driver_runs_but_no_oms(driver_only: str, tmp_path: Path) -> None:
    cli = DeskCli(driver_only, str(tmp_path))
    for command in ("orders", "positions", "risk"):
        run = cli(command, "--timeout", "0.5")
        assert run.code == 3, run
        assert "no oms answers" in run.stderr and "control stream" in run.stderr, run


def test_a_bad_instance_name_is_a_usage_error(tmp_path: Path) -> None:
    run = DeskCli("default", str(tmp_path))("orders", "--instance", "../etc")
    assert run.code == 2 and "invalid desk instance name" in run.stderr
