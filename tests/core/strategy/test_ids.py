"""Client order ids: unique and increasing per strategy, and still unique after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.strategy.ids import BLOCK, ClOrdIdError, ClOrdIdSource

T0 = 1_700_000_000_000_000_000


def test_ids_start_at_the_start_time_in_microseconds_and_count_up() -> None:
    ids = ClOrdIdSource(1, T0)
    got = [ids.next() for _ in range(1000)]
    assert got[0] == T0 // 1000
    assert got == list(range(got[0], got[0] + 1000))


def test_a_later_restart_continues_above_the_previous_session() -> None:
    first = ClOrdIdSource(1, T0)
    used = [first.next() for _ in range(500)]
    # the next session starts 1 ms later: 1000 us, more than the 500 ids handed out
    second = ClOrdIdSource(1, T0 + 1_000_000)
    assert second.next() > max(used)


def test_persisted_marks_keep_ids_unique_when_the_clock_goes_back(tmp_path: Path) -> None:
    first = ClOrdIdSource(7, T0, tmp_path)
    used = [first.next() for _ in range(BLOCK + 10)]  # crosses a block: the mark is raised
    mark = int((tmp_path / "strategy-7.clordid").read_text())
    assert mark > max(used)  # written before any id beyond the old mark was handed out
    second = ClOrdIdSource(7, T0 - 10**12, tmp_path)  # clock set back by 1000 s
    assert second.next() >= mark > max(used)
    other = ClOrdIdSource(8, T0, tmp_path)  # marks are per strategy
    assert other.next() == T0 // 1000


def test_a_corrupt_mark_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "strategy-3.clordid").write_text("not a number\n")
    with pytest.raises(ClOrdIdError, match="corrupt"):
        ClOrdIdSource(3, T0, tmp_path)


def test_ids_stay_below_the_oms_system_bit() -> None:
    ids = ClOrdIdSource(1, 0)
    ids._next = (1 << 63) - 1
    assert ids.next() == (1 << 63) - 1
    with pytest.raises(ClOrdIdError, match="exhausted"):
        ids.next()
