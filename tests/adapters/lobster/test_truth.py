"""Whole-file checks against LOBSTER's own orderbook rows: zero mismatches on the real samples, and the
check must notice a tampered truth row or a lost message (seeding never papers over a wrong book)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.lobster import LobsterDataClient, LobsterDataConfig, check_file
from core.book.truth import TruthCheck

from .conftest import member_lines, write_pair

# Event counts published with the samples (../shared/data/SOURCES.md).
GOOG_MESSAGES = 147_916
AAPL_MESSAGES = 118_497


@pytest.fixture(scope="module")
def goog_client(goog_zip: Path) -> LobsterDataClient:
    """GOOG replayed with the L3 book's internal-consistency check after the first 5000 messages and
    every 7th after that (the check costs more than the replay; every message: the slow test below)."""
    client = LobsterDataClient(LobsterDataConfig(str(goog_zip)))
    for step, _ in client.steps():
        if step.index <= 5000 or step.index % 7 == 0:
            client.replay.book.check_invariants()
    return client


@pytest.fixture(scope="module")
def aapl_client(aapl_zip: Path) -> LobsterDataClient:
    """AAPL replayed with the L3 book's internal-consistency check after every single message."""
    client = LobsterDataClient(LobsterDataConfig(str(aapl_zip)))
    for _ in client.steps():
        client.replay.book.check_invariants()
    return client


def _note(check: TruthCheck, start: str) -> str:
    (note,) = [n for n in check.notes if n.startswith(start)]
    return note


def test_goog_level10_whole_file_has_zero_mismatches(goog_client: LobsterDataClient) -> None:
    goog_check = goog_client.truth_check()
    assert goog_check.messages == GOOG_MESSAGES
    assert goog_check.states_compared == GOOG_MESSAGES  # one orderbook row per message, every one compared
    assert goog_check.levels_mismatched == 0 and goog_check.states_mismatched == 0, (
        goog_check.first_mismatches
    )
    assert goog_check.ok
    slots = 2 * 10 * GOOG_MESSAGES
    # Most slots are compared; the rest were seeded when their level entered the window from outside.
    assert goog_check.levels_compared > 0.95 * slots
    seeded = int(_note(goog_check, "levels seeded").split(": ")[1].split(" ")[0])
    assert goog_check.levels_compared + seeded == slots
    assert goog_check.format == "lobster" and "level 10" in goog_check.truth


def test_aapl_level1_whole_file_has_zero_mismatches(aapl_client: LobsterDataClient) -> None:
    check = aapl_client.truth_check()
    assert check.to_dict() == check_file(str(aapl_client.config.path)).to_dict()
    assert check.messages == AAPL_MESSAGES and check.states_compared == AAPL_MESSAGES
    assert check.levels_mismatched == 0 and check.states_mismatched == 0, check.first_mismatches
    assert check.ok
    c = aapl_client.replay.counts
    assert c.slots_compared + c.slots_seeded == 2 * AAPL_MESSAGES
    assert c.slots_compared > 0.8 * 2 * AAPL_MESSAGES
    # Most compared levels were built from messages alone, without any size learned from the truth.
    assert c.levels_pure > c.levels_with_seed > 0


def test_goog_replay_feed_accounting(goog_client: LobsterDataClient) -> None:
    stats = goog_client.replay.book.stats
    assert stats.unknown_orders > 0  # orders older than the file, or seen only while outside the window
    assert stats.unknown_size_from_unattributed > 0
    assert stats.duplicate_adds == stats.price_conflicts == stats.side_conflicts == stats.oversize == 0
    assert stats.adds == 71_258 and stats.hidden_executions == 3_913  # type 1 and type 5 rows in the file


def _aapl_copy(tmp_path: Path, aapl_zip: Path) -> tuple[Path, list[str], list[str]]:
    msg_name, messages = member_lines(aapl_zip, "message")
    _, rows = member_lines(aapl_zip, "orderbook")
    return tmp_path / msg_name, messages, rows


def test_tampered_truth_row_is_reported_exactly_there(tmp_path: Path, aapl_zip: Path) -> None:
    target, messages, rows = _aapl_copy(tmp_path, aapl_zip)
    # A row whose best bid price is unchanged from the row before: that level is inside the book's
    # horizon, so the book's own size is compared with it.
    k = next(i for i in range(60_000, len(rows)) if rows[i].split(",")[2] == rows[i - 1].split(",")[2])
    cells = rows[k].split(",")
    cells[3] = str(int(cells[3]) + 100)
    rows[k] = ",".join(cells)
    write_pair(tmp_path, target.name, messages, rows)

    check = check_file(str(target))
    assert not check.ok
    # Exactly that one level of that one row: the book was not bent towards the tampered truth.
    assert (check.states_mismatched, check.levels_mismatched) == (1, 1)
    assert check.first_mismatches[0].startswith(f"message {k + 1} ")
    assert "bid 1:" in check.first_mismatches[0]


def test_lost_message_is_reported(tmp_path: Path, aapl_zip: Path) -> None:
    target, messages, rows = _aapl_copy(tmp_path, aapl_zip)
    # Drop a submission that joins the best bid (and its orderbook row), where the next message leaves
    # that bid best: the book misses the order while its level is still in the level-1 window. (Had
    # the level left the window, no later row could reveal the loss: LOBSTER reports nothing there.)
    k = next(
        i
        for i in range(50_000, len(messages))
        if messages[i].split(",")[1] == "1"
        and messages[i].split(",")[5] == "1"
        and rows[i - 1].split(",")[2] == messages[i].split(",")[4] == rows[i + 1].split(",")[2]
    )
    del messages[k]
    del rows[k]
    write_pair(tmp_path, target.name, messages, rows)

    check = check_file(str(target))
    assert not check.ok and check.states_mismatched >= 1
    assert check.first_mismatches[0].startswith(f"message {k + 1} ")


@pytest.mark.slow
def test_goog_replay_keeps_book_invariants_after_every_message(goog_zip: Path) -> None:
    client = LobsterDataClient(LobsterDataConfig(str(goog_zip)))
    for _, mismatches in client.steps():
        assert not mismatches
        client.replay.book.check_invariants()
    assert client.replay.counts.messages == GOOG_MESSAGES
