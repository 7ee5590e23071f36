"""`aerodesk kill | release | flatten | cancel-all | limits` without a desk: what is refused before
anything is sent (usage, exit 2), and what a missing desk looks like (exit 3)."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.e2e.cli import DeskCli


def _cli(tmp_path: Path) -> DeskCli:
    return DeskCli(f"test-c-{uuid.uuid4().hex[:8]}", str(tmp_path))


def test_release_without_a_reason_is_a_usage_error(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    missing = cli("release")
    assert missing.code == 2 and "--reason" in missing.stderr
    blank = cli("release", "--reason", " ")
    assert blank.code == 2 and "why" in blank.stderr


def test_flatten_needs_instruments_or_all_but_not_both(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    assert cli("flatten").code == 2
    both = cli("flatten", "BTC-USD", "--all")
    assert both.code == 2 and "--all" in both.stderr
    unknown = cli("flatten", "NOPE")
    assert unknown.code == 2 and "unknown instrument" in unknown.stderr


def test_limits_set_checks_name_value_and_instrument_before_sending(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    name = cli("limits", "set", "max_order_qtty", "5")
    assert name.code == 2 and "unknown limit" in name.stderr and "max_order_qty" in name.stderr
    value = cli("limits", "set", "max_order_qty", "five")
    assert value.code == 2 and "not a decimal" in value.stderr
    symbol = cli("limits", "set", "max_order_qty", "5", "--symbol", "NOPE")
    assert symbol.code == 2 and "unknown instrument" in symbol.stderr


def test_commands_exit_3_when_no_desk_runs(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    for args in (
        ("kill",),
        ("release", "--reason", "r"),
        ("flatten", "--all"),
        ("cancel-all",),
        ("limits", "ls"),
    ):
        run = cli(*args)
        assert run.code == 3 and "is not running" in run.stderr, run
