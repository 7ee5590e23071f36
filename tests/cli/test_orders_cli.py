"""`aerodesk order new | cancel | replace`: amounts are converted exactly with the instrument's exponents,
and anything finer than its lot or tick, or otherwise malformed, is a usage error found before
anything is sent (so these need no desk: with none running, a valid order is exit 3)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.e2e.cli import DeskCli


def _cli(tmp_path: Path) -> DeskCli:
    return DeskCli(f"test-o-{uuid.uuid4().hex[:8]}", str(tmp_path))


# the shipped static data (configs/instruments.toml): no desk has run on these instances
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("BTC-USD", "buy", "0.00001", "--price", "60000"), "finer than 1e-4"),
        (("BTC-USD", "buy", "1", "--price", "60000.001"), "finer than 1e-2"),
        (("BTC-PERP", "buy", "1", "--price", "60000.3"), "tick size"),
        (("BTC-USD", "buy", "abc", "--price", "60000"), "not a decimal"),
        (("BTC-USD", "buy", "1", "--price", "NaN"), "not a finite"),
        (("BTC-USD", "buy", "0", "--price", "60000"), "positive"),
        (("BTC-USD", "buy", "1", "--price", "0"), "positive"),
        (("NOPE", "buy", "1", "--price", "1"), "unknown instrument"),
        (("BTC-USD", "buy", "1", "--type", "limit"), "needs --price"),
        (("BTC-USD", "buy", "1", "--type", "market", "--price", "1"), "no --price"),
    ],
)
def test_bad_amounts_are_usage_errors(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    run = _cli(tmp_path)("order", "new", *args)
    assert run.code == 2 and says in run.stderr, run


def test_side_tif_and_type_are_checked_by_the_parser(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    assert cli("order", "new", "BTC-USD", "hold", "1", "--price", "1").code == 2
    assert cli("order", "new", "BTC-USD", "buy", "1", "--price", "1", "--tif", "gtd").code == 2
    assert cli("order", "new", "BTC-USD", "buy", "1", "--type", "stop").code == 2
    assert cli("order", "replace", "7").code == 2  # nothing to change
    assert cli("order", "cancel", "0").code == 2


def test_a_valid_order_without_a_desk_is_exit_3(tmp_path: Path) -> None:
    run = _cli(tmp_path)("order", "new", "BTC-USD", "buy", "0.5", "--price", "60000.25")
    assert run.code == 3 and "is not running" in run.stderr, run
