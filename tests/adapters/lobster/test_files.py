"""Recognising LOBSTER files by content, names per LOBSTER's convention, timestamps, and clear errors."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from adapters.lobster import LobsterFormatError, check_file, discover
from adapters.lobster.replay import iter_steps

from .conftest import MIDNIGHT_2012_06_21_NY, epoch_ns, member_lines, write_pair

GOOG_MSG = "GOOG_2012-06-21_34200000_57600000_message_10.csv"


@pytest.fixture(scope="module")
def goog_head(goog_zip: Path) -> tuple[list[str], list[str]]:
    """The first 300 real message and orderbook rows of GOOG."""
    return member_lines(goog_zip, "message")[1][:300], member_lines(goog_zip, "orderbook")[1][:300]


def test_zip_as_shipped(goog_zip: Path) -> None:
    files = discover(goog_zip)
    assert (files.symbol, files.date, files.level) == ("GOOG", date(2012, 6, 21), 10)
    assert (files.name.start_ms, files.name.end_ms) == (34_200_000, 57_600_000)
    assert files.archive == goog_zip
    assert files.message_file == GOOG_MSG


def test_plain_csv_pair_from_either_file(tmp_path: Path, goog_head) -> None:
    msg = write_pair(tmp_path, GOOG_MSG, *goog_head)
    for given in (msg, tmp_path / GOOG_MSG.replace("_message_", "_orderbook_")):
        files = discover(given)
        assert files.archive is None and files.level == 10
        assert Path(files.message_file) == msg
    check = check_file(str(msg))
    assert check.ok and check.messages == check.states_compared == 300


def test_content_decides_not_the_extension(tmp_path: Path, goog_head) -> None:
    # A zip with other names around the pair, and no .zip suffix: still recognised by content.
    archive = tmp_path / "download.bin"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("README.txt", "not data\n")
        zf.writestr(f"data/{GOOG_MSG}", "\n".join(goog_head[0]) + "\n")
        zf.writestr("data/" + GOOG_MSG.replace("_message_", "_orderbook_"), "\n".join(goog_head[1]) + "\n")
    files = discover(archive)
    assert files.message_file == f"data/{GOOG_MSG}"
    assert check_file(str(archive)).ok


def test_timestamps_are_exact_epoch_ns_in_new_york_time(tmp_path: Path, goog_head) -> None:
    messages, rows = goog_head
    steps = list(iter_steps(discover(write_pair(tmp_path, GOOG_MSG, messages, rows))))
    assert steps[0].ts_ns == MIDNIGHT_2012_06_21_NY * 10**9 + 34_200_015_105_074  # "34200.015105074"
    assert [s.ts_ns for s in steps] == [epoch_ns(m.split(",")[0]) for m in messages]
    # In January New York is on UTC-5: the same clock time is one hour later in epoch terms.
    winter = tmp_path / "winter"
    winter.mkdir()
    w = list(iter_steps(discover(write_pair(winter, GOOG_MSG.replace("06-21", "01-10"), messages, rows))))
    midnight_jan10_ny = 1326171600  # 2012-01-10T05:00:00Z
    assert w[0].ts_ns == midnight_jan10_ny * 10**9 + 34_200_015_105_074


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def test_bad_inputs_give_clear_errors(tmp_path: Path, goog_head) -> None:
    messages, rows = goog_head
    msg_text, book_text = "\n".join(messages) + "\n", "\n".join(rows) + "\n"
    book_name = GOOG_MSG.replace("_message_", "_orderbook_")
    cases: list[tuple[Path, str]] = [
        (tmp_path / "missing.zip", "no such file"),
        (tmp_path, "is a directory"),
        (_write(tmp_path / "notes.csv", "hello,world\n"), "not a LOBSTER file"),
        (_zip(tmp_path / "only_messages.zip", {GOOG_MSG: msg_text}), "holds no LOBSTER orderbook file"),
        (
            _zip(tmp_path / "renamed.zip", {"messages.csv": msg_text, "book.csv": book_text}),
            "cannot read symbol, date and level from the name",
        ),
        (
            _zip(
                tmp_path / "level5.zip",
                {GOOG_MSG.replace("_10", "_5"): msg_text, book_name.replace("_10", "_5"): book_text},
            ),
            "40 columns, but level 5 in the name means 20",
        ),
        (
            _zip(
                tmp_path / "two_days.zip",
                {GOOG_MSG: msg_text, book_name: book_text, GOOG_MSG.replace("06-21", "06-22"): msg_text},
            ),
            "several message files",
        ),
        (
            _zip(tmp_path / "mixed.zip", {GOOG_MSG: msg_text, book_name.replace("GOOG", "AAPL"): book_text}),
            "name different datasets",
        ),
    ]
    alone = tmp_path / "alone"
    alone.mkdir()
    cases.append((_write(alone / GOOG_MSG, msg_text), "is not beside it"))
    for path, expected in cases:
        with pytest.raises(LobsterFormatError, match=expected):
            discover(path)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bad_rows_name_the_file_and_row(tmp_path: Path, goog_head) -> None:
    messages, rows = list(goog_head[0]), list(goog_head[1])
    bad_time = list(messages)
    bad_time[2] = "34200.1234567890," + bad_time[2].split(",", 1)[1]  # 10 decimals
    with pytest.raises(LobsterFormatError, match=r"message_10\.csv: row 3: time '34200\.1234567890'"):
        check_file(str(write_pair(_dir(tmp_path, "a"), GOOG_MSG, bad_time, rows)))
    with pytest.raises(LobsterFormatError, match=r"orderbook_10\.csv ends at row 299"):
        check_file(str(write_pair(_dir(tmp_path, "b"), GOOG_MSG, messages, rows[:299])))
    with pytest.raises(LobsterFormatError, match="more rows than the message file"):
        check_file(str(write_pair(_dir(tmp_path, "c"), GOOG_MSG, messages[:299], rows)))
    empty = list(messages)
    empty[11] = empty[11].rsplit(",", 1)[0] + ","  # direction left blank
    with pytest.raises(LobsterFormatError, match=r"message_10\.csv: row 12, column 6: empty cell"):
        check_file(str(write_pair(_dir(tmp_path, "e"), GOOG_MSG, empty, rows)))
    bad_int = list(rows)
    bad_int[7] = bad_int[7].replace(",", ",x", 1)
    with pytest.raises(
        LobsterFormatError, match=r"orderbook_10\.csv: row 8, column 2: 'x\d+' is not an integer"
    ):
        check_file(str(write_pair(_dir(tmp_path, "d"), GOOG_MSG, messages, bad_int)))


def _dir(base: Path, name: str) -> Path:
    d = base / name
    d.mkdir()
    return d


def test_malformed_messages_are_counted_not_fatal(tmp_path: Path, goog_head) -> None:
    messages, rows = list(goog_head[0]), list(goog_head[1])
    # Row 4 is a hidden execution (no book change): make it an unknown type, row 5 likewise a bad direction.
    assert messages[3].split(",")[1] == "5" and messages[4].split(",")[1] == "5"
    messages[3] = ",".join([*messages[3].split(",")[:1], "9", *messages[3].split(",")[2:]])
    messages[4] = ",".join([*messages[4].split(",")[:5], "0"])
    check = check_file(str(write_pair(tmp_path, GOOG_MSG, messages, rows)))
    assert check.ok and check.messages == 300
    note = next(n for n in check.notes if n.startswith("malformed messages skipped: 2"))
    assert "row 4: unknown event type 9" in note and "row 5: direction 0" in note
