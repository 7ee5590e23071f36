"""KeyedTable: a DataTable updated by key with a diff, so a refresh touches only the cells that changed.

    table.sync({"o17": (Cell("17"), Cell("BUY", "green"), ...), ...})

Rows not in the new mapping are removed, new ones added, and only changed cells updated. Each Cell
carries its own sort value, so sorting by a column orders numbers as numbers (and Decimals exactly);
`sort_by(column)` sorts (again on the same column: reverses), and the order is kept as rows change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    style: str = ""
    sort: Any = None  # the sort value; the text when None
    justify: str = "left"

    def render(self) -> SortableText:
        t = SortableText(self.text, style=self.style, justify=self.justify)  # type: ignore[arg-type]
        t.sort_key = self.text if self.sort is None else self.sort
        return t


def num(text: str, value: Any, style: str = "") -> Cell:
    """A right-aligned number that sorts by value."""
    return Cell(text, style, value, "right")


class SortableText(Text):
    sort_key: Any = None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None = None


@dataclass
class SyncStats:
    added: int = 0
    removed: int = 0
    cells: int = 0


class KeyedTable(DataTable):
    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", False)
        super().__init__(**kwargs)
        self.column_defs = list(columns)
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.stats = SyncStats()  # cumulative, for tests and the benchmark

    def on_mount(self) -> None:
        for c in self.column_defs:
            self.add_column(c.label, key=c.key, width=c.width)

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> SyncStats:
        """Make the table show exactly `rows` (key -> cells in column order), touching only what changed."""
        s = SyncStats()
        keys = [c.key for c in self.column_defs]
        sort_index = keys.index(self.sort_column) if self.sort_column in keys else -1
        resort = False
        for key in [k for k in self._rows if k not in rows]:
            self.remove_row(key)
            del self._rows[key]
            s.removed += 1
        for key, cells in rows.items():
            new = tuple(cells)
            old = self._rows.get(key)
            if old is None:
                self.add_row(*(c.render() for c in new), key=key)
                s.added += 1
                resort = True
            elif old != new:
                for i, (a, b) in enumerate(zip(old, new, strict=True)):
                    if a != b:
                        self.update_cell(key, keys[i], b.render())
                        s.cells += 1
                        if i == sort_index and a.sort != b.sort:
                            resort = True
            else:
                continue
            self._rows[key] = new
        if resort and sort_index >= 0:
            self._apply_sort()
        self.stats.added += s.added
        self.stats.removed += s.removed
        self.stats.cells += s.cells
        return s

    def reset(self) -> None:
        """Drop every row (the next sync adds them again, in its order)."""
        self.clear()
        self._rows = {}

    def sort_by(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._apply_sort()

    def sort_by_cursor(self) -> str:
        column = self.column_defs[max(0, min(self.cursor_column, len(self.column_defs) - 1))]
        self.sort_by(column.key)
        return column.label

    def _apply_sort(self) -> None:
        if self.sort_column is not None and self.row_count:
            self.sort(self.sort_column, key=_sort_value, reverse=self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def texts(self) -> dict[str, tuple[str, ...]]:
        """What each row shows, by key (cell texts in column order)."""
        return {k: tuple(c.text for c in cells) for k, cells in self._rows.items()}

    @property
    def row_keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(r.key.value) for r in self.ordered_rows]

    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:
            return None


def _sort_value(cell: Any) -> Any:
    value = getattr(cell, "sort_key", None)
    # Mixed types (e.g. None beside numbers) must still sort: group by type name first.
    return (0, value) if isinstance(value, int | float) or hasattr(value, "as_tuple") else (1, str(value))
