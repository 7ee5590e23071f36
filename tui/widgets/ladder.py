"""The order-book ladder of the selected instrument: asks above, bids below, our working orders marked
at their levels, spread and mid between, the last trades underneath.

Rows are fixed slots keyed by position (a0 = best ask, b0 = best bid) and only changed cells are
rewritten, so a busy book costs a few cell updates per frame. The depth follows the pane's height.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from tui import fmt
from tui.model.view import BookView, LadderLevel
from tui.widgets.context import RenderContext
from tui.widgets.keyed_table import Cell, Column, num
from tui.widgets.text import set_text

COLUMNS = (
    Column("own", "Mine", 7),
    Column("bid", "Bid", 7),
    Column("price", "Price", 9),
    Column("ask", "Ask", 7),
)
_FIXED_ROWS = 3  # title, table header, summary line (self.size excludes the border)


class LadderTable(Widget):
    """The ladder's rows as fixed slots, each painted as one line; a refresh repaints only the lines
    whose cells changed (a DataTable re-renders every visible cell on any change: too dear per frame)."""

    DEFAULT_CSS = """
    LadderTable { height: auto; }
    """

    def __init__(self, columns: tuple[Column, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = columns
        self._keys: list[str] = []
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._strips: dict[int, Strip] = {}
        self._styles: dict[str, Style] = {}
        self.lines_painted = 0  # for tests and the benchmark

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return 1 + len(self._keys)

    def reset(self) -> None:
        self._keys, self._rows, self._strips = [], {}, {}
        self.refresh(layout=True)

    def sync(self, rows: dict[str, tuple[Cell, ...]]) -> int:
        """Show `rows` (key -> cells) in order; returns how many lines changed."""
        keys = list(rows)
        if keys != self._keys:
            self._keys, self._rows, self._strips = keys, dict(rows), {}
            self.refresh(layout=True)
            return len(keys)
        changed = 0
        width = self.size.width
        for y, key in enumerate(keys, start=1):
            cells = rows[key]
            if self._rows.get(key) != cells:
                self._rows[key] = cells
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))
                changed += 1
        return changed

    def texts(self) -> dict[str, tuple[str, ...]]:
        return {k: tuple(c.text for c in cells) for k, cells in self._rows.items()}

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._render(y)
        return strip

    def _render(self, y: int) -> Strip:
        base = self.rich_style
        self.lines_painted += 1
        segments = []
        if y == 0:
            bold = base + self._style("bold")
            for c in self.columns:
                w = c.width or 8
                segments.append(Segment(" " + c.label[:w].ljust(w) + " ", bold))
        elif y - 1 < len(self._keys):
            for c, cell in zip(self.columns, self._rows[self._keys[y - 1]], strict=True):
                w = c.width or 8
                text = cell.text[:w]
                text = text.rjust(w) if cell.justify == "right" else text.ljust(w)
                segments.append(Segment(" " + text + " ", base + self._style(cell.style)))
        return Strip(segments).adjust_cell_length(self.size.width, base)

    def _style(self, spec: str) -> Style:
        style = self._styles.get(spec)
        if style is None:
            style = self._styles[spec] = Style.parse(spec) if spec else Style()
        return style


class LadderPane(Vertical):
    def __init__(self, max_depth: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_depth = max_depth
        self.depth = max_depth
        self._book: BookView | None = None
        self._ctx: RenderContext | None = None
        self._trades_key: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="ladder-title")
        yield LadderTable(COLUMNS, id="ladder-table")
        yield Static("", id="ladder-summary")
        yield Static("", id="ladder-trades")

    @property
    def table(self) -> LadderTable:
        return self.query_one("#ladder-table", LadderTable)

    def on_resize(self) -> None:
        if self._fit() and self._book is not None and self._ctx is not None:
            self.show(self._book, self._ctx, force=True)

    def _fit(self) -> bool:
        """Choose the depth that fits the pane; True if it changed (the slots are rebuilt)."""
        rows = max(3, self.size.height - _FIXED_ROWS - self._trade_lines())
        depth = max(1, min(self.max_depth, (rows - 1) // 2))
        if depth == self.depth:
            return False
        self.depth = depth
        self.table.reset()  # the slots change: rebuild them in ladder order
        return True

    def _trade_lines(self) -> int:
        return 0 if self.has_class("-compact") else max(0, min(8, self.size.height // 5))

    def show(self, book: BookView | None, ctx: RenderContext, force: bool = False) -> None:
        force = self._fit() or force
        if book is self._book and ctx is self._ctx and not force:
            return
        self._book, self._ctx = book, ctx
        inst = ctx.catalog.get(ctx.instrument_id)
        title = self.query_one("#ladder-title", Static)
        if book is None:
            name = inst.symbol if inst is not None else "no instrument"
            set_text(title, f"[b]{name}[/b]  [dim]no market data yet[/dim]")
            self.table.sync({})
            set_text(self.query_one("#ladder-summary", Static), "")
            set_text(self.query_one("#ladder-trades", Static), "")
            return
        stale = book.stale_reason or ("desk not live" if ctx.stale else "")
        self.set_class(bool(stale), "-stale")
        if stale:
            set_text(title, f"[b]{book.symbol}[/b]  [reverse red] STALE [/] [red]{escape(stale)}[/red]")
        else:
            set_text(title, f"[b]{book.symbol}[/b]  [green]live[/green]")
        self.table.sync(self._rows(book, ctx))
        self._summary(book, ctx)

    def _rows(self, book: BookView, ctx: RenderContext) -> dict[str, tuple[Cell, ...]]:
        inst = ctx.catalog.get(book.instrument_id)
        rows: dict[str, tuple[Cell, ...]] = {}
        for i in reversed(range(self.depth)):
            level = book.asks[i] if i < len(book.asks) else None
            rows[f"a{i}"] = _level_cells(level, inst, ask=True)
        spread = "-" if book.spread is None else fmt.price(inst, book.spread)
        rows["mid"] = (
            Cell(""),
            Cell("spread", "dim", justify="right"),
            Cell(fmt.half_price(inst, book.mid_x2), "bold", justify="right"),
            Cell(spread, "dim", justify="right"),
        )
        for i in range(self.depth):
            level = book.bids[i] if i < len(book.bids) else None
            rows[f"b{i}"] = _level_cells(level, inst, ask=False)
        return rows

    def _summary(self, book: BookView, ctx: RenderContext) -> None:
        inst = ctx.catalog.get(book.instrument_id)
        parts = []
        if book.trades:
            ts, px, q, side = book.trades[0]
            colour = "green" if side == 1 else "red"
            parts.append(f"last [{colour}]{fmt.price(inst, px)}[/] x {fmt.qty(inst, q)}")
        if book.own_outside:
            parts.append(f"[yellow]{book.own_outside} own orders beyond the shown depth[/yellow]")
        if book.gaps:
            parts.append(f"[dim]gaps {book.gaps}[/dim]")
        set_text(self.query_one("#ladder-summary", Static), "  ".join(parts))
        lines = self._trade_lines()
        key = (book.trades[:lines], lines)
        if key != self._trades_key:
            self._trades_key = key
            text = []
            for ts, px, q, side in book.trades[:lines]:
                colour = "green" if side == 1 else "red"
                arrow = "▲" if side == 1 else "▼"
                trade = f"[{colour}]{arrow} {fmt.price(inst, px)}[/] {fmt.qty(inst, q)}"
                text.append(f"[dim]{fmt.clock(ts)}[/dim] {trade}")
            set_text(self.query_one("#ladder-trades", Static), "\n".join(text))


def _level_cells(level: LadderLevel | None, inst: Any, *, ask: bool) -> tuple[Cell, ...]:
    if level is None:
        return (Cell(""), Cell(""), Cell(""), Cell(""))
    size = fmt.qty(inst, level.qty)
    own = Cell(f"◆{fmt.qty(inst, level.own)}", "bold yellow", justify="right") if level.own else Cell("")
    px = num(fmt.price(inst, level.price), level.price, "red" if ask else "green")
    if ask:
        return (own, Cell(""), px, num(size, level.qty))
    return (own, num(size, level.qty), px, Cell(""))
