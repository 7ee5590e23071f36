"""The desk screen: status bar and banner, the ladder, and the panes (positions, orders, fills, risk,
health, messages). Wide terminals show every pane at once; at 80x24 the ladder sits beside one pane at
a time, chosen with the pane keys (1-6). Every action is a footer binding and a command-palette entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui import commands as cmd
from tui import fmt
from tui.config import ACTIONS, BINDINGS
from tui.model.view import DeskView
from tui.screens.confirm import ConfirmScreen, ReasonScreen
from tui.screens.picker import InstrumentPickerScreen
from tui.screens.ticket import OrderTicketScreen
from tui.widgets.blotter import FillsPane, OrdersPane
from tui.widgets.context import RenderContext
from tui.widgets.health import HealthPane
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.ladder import LadderPane
from tui.widgets.notices import NoticesPane
from tui.widgets.positions import PositionsPane
from tui.widgets.risk import RiskPane
from tui.widgets.status import Banner, StatusBar
from tui.widgets.text import set_text

if TYPE_CHECKING:
    from tui.app import AerodeskApp

PANES = ("positions", "orders", "fills", "risk", "health", "log")
PANE_LABELS = {
    "positions": "Pos",
    "orders": "Orders",
    "fills": "Fills",
    "risk": "Risk",
    "health": "Health",
    "log": "Log",
}

# Binding id -> action string (parameters included); keys come from the keymap (configs/tui.toml).
_ACTION_OF = {
    "kill": "kill",
    "release": "release",
    "flatten": "flatten",
    "flatten_all": "flatten_all",
    "cancel_order": "cancel_order",
    "cancel_all": "cancel_all",
    "order_ticket": "order_ticket",
    "pick_instrument": "pick_instrument",
    "next_instrument": "cycle_instrument(1)",
    "prev_instrument": "cycle_instrument(-1)",
    "pane_positions": "pane('positions')",
    "pane_orders": "pane('orders')",
    "pane_fills": "pane('fills')",
    "pane_risk": "pane('risk')",
    "pane_health": "pane('health')",
    "pane_log": "pane('log')",
    "sort": "sort",
    "toggle_theme": "app.toggle_theme",
    "quit": "app.quit",
}
_SHOWN = {
    "kill",
    "release",
    "flatten",
    "flatten_all",
    "cancel_order",
    "cancel_all",
    "order_ticket",
    "pick_instrument",
    "sort",
    "quit",
}


def desk_bindings() -> list[Binding]:
    out = []
    for binding_id, (key, label, _acts) in BINDINGS.items():
        out.append(Binding(key, _ACTION_OF[binding_id], label, show=binding_id in _SHOWN, id=binding_id))
    return out


class DeskScreen(Screen):
    BINDINGS = desk_bindings()
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    def __init__(self, ctx: RenderContext, max_depth: int, read_only: bool) -> None:
        super().__init__()
        self.ctx = ctx
        self.max_depth = max_depth
        self.read_only = read_only
        self.current_pane = "positions"
        self.view: DeskView | None = None
        self.screen_stale = ""
        self.ready = False  # composed and mounted: views can be shown

    @property
    def desk_app(self) -> AerodeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar("", id="status")
        yield Banner(id="banner")
        with Horizontal(id="body"):
            yield LadderPane(self.max_depth, id="ladder", classes="pane-box")
            with Container(id="side"):
                yield Static("", id="pane-tabs")
                with Container(id="panes"):
                    # Compose order is the wide grid's order: positions | risk, orders, fills | health.
                    yield PositionsPane(id="positions", classes="pane pane-box")
                    yield RiskPane(id="risk", classes="pane pane-box")
                    yield OrdersPane(id="orders", classes="pane pane-box")
                    yield FillsPane(id="fills", classes="pane pane-box")
                    yield HealthPane(id="health", classes="pane pane-box")
                    yield NoticesPane(id="log", classes="pane pane-box")
        yield Static("", id="outcome")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ladder").border_title = "Book"
        self._select_pane(self.current_pane, focus=False)
        self.ready = True
        app = self.desk_app
        self.show_view(app.last_view, app.screen_stale_reason(), app.wall_clock())

    # -- rendering -------------------------------------------------------------------------------
    def show_view(self, view: DeskView | None, screen_stale: str, wall_ns: int) -> None:
        self.screen_stale = screen_stale
        if view is not None:
            self.view = view
        view = self.view
        ctx = self.ctx
        ctx.stale = bool(screen_stale) or (view is not None and view.link.status.value in ("DOWN", "STALE"))
        self.query_one(StatusBar).show(
            view, read_only=self.read_only, screen_stale=screen_stale, wall_ns=wall_ns
        )
        self.query_one(Banner).show(view, screen_stale)
        self.set_class(ctx.stale, "-stale")
        if view is None:
            return
        if ctx.instrument_id == 0 and view.instruments:
            ctx.instrument_id = view.instruments[0]
        ladder = self.query_one(LadderPane)
        ladder.set_class(self.has_class("-narrow") or self.has_class("-short"), "-compact")
        ladder.show(view.books.get(ctx.instrument_id), ctx)
        wide = self._wide()
        for name in PANES:
            if not self._visible(name, wide):
                continue  # hidden panes are brought up to date when shown
            self._show_pane(name, view)

    def _visible(self, name: str, wide: bool) -> bool:
        if not wide:
            return name == self.current_pane
        if name in ("health", "log"):
            return (name == "log") == self.has_class("-show-log")
        return True

    def _show_pane(self, name: str, view: DeskView) -> None:
        pane = self.query_one(f"#{name}")
        if name == "log":
            merged = sorted((*view.link.notices, *self.desk_app.local_notices), key=lambda n: -n.wall_ns)
            pane.show(tuple(merged))  # type: ignore[attr-defined]
        else:
            pane.show(view, self.ctx)  # type: ignore[attr-defined]

    def _wide(self) -> bool:
        return self.has_class("-wide") and self.has_class("-tall")

    def show_outcome(self, outcome: cmd.ActionOutcome) -> None:
        line = self.query_one("#outcome", Static)
        style = (
            "bold red"
            if outcome.outcome.severity == "error"
            else "green"
            if outcome.outcome.final
            else "yellow"
        )
        set_text(line, f"[{style}]{escape(outcome.describe())}[/]")

    # -- panes -------------------------------------------------------------------------------------
    def _select_pane(self, name: str, focus: bool = True) -> None:
        self.current_pane = name
        if name in ("health", "log"):  # wide layout: the messages share the health pane's place
            self.set_class(name == "log", "-show-log")
        for pane in PANES:
            self.query_one(f"#{pane}").set_class(pane == name, "-current")
        tabs = []
        for i, pane in enumerate(PANES, 1):
            label = f"{i}{PANE_LABELS[pane]}"
            tabs.append(f"[reverse b]{label}[/]" if pane == name else label)
        set_text(self.query_one("#pane-tabs", Static), " ".join(tabs))
        if self.view is not None:
            self._show_pane(name, self.view)
        if focus:
            tables = self.query_one(f"#{name}").query(KeyedTable)
            if tables:
                tables.first().focus()

    def action_pane(self, name: str) -> None:
        self._select_pane(name)

    def action_sort(self) -> None:
        focused = self.focused
        if isinstance(focused, KeyedTable):
            label = focused.sort_by_cursor()
            order = "descending" if focused.sort_reverse else "ascending"
            self.notify(f"sorted by {label}, {order}", timeout=2)
        else:
            self.notify("focus a table first (pane keys 1-6), then sort by the cursor's column", timeout=3)

    # -- instruments -------------------------------------------------------------------------------
    def _instrument_ids(self) -> list[int]:
        with_data = list(self.view.instruments) if self.view is not None else []
        rest = sorted(i.id for i in self.ctx.catalog if i.id not in with_data)
        return with_data + rest

    def action_cycle_instrument(self, step: int) -> None:
        ids = list(self.view.instruments) if self.view is not None and self.view.instruments else []
        if not ids:
            self.notify("no instrument has market data yet", severity="warning", timeout=3)
            return
        cur = self.ctx.instrument_id
        i = ids.index(cur) if cur in ids else -1
        self.set_instrument(ids[(i + step) % len(ids)])

    def action_pick_instrument(self) -> None:
        with_data = set(self.view.instruments) if self.view is not None else set()
        choices = []
        for iid in self._instrument_ids():
            inst = self.ctx.catalog.get(iid)
            name = f"{inst.symbol}@{inst.venue}" if inst is not None else f"#{iid}"
            choices.append((iid, name + ("" if iid in with_data else "  (no market data)")))

        def chosen(iid: int | None) -> None:
            if iid:
                self.set_instrument(iid)

        self.app.push_screen(InstrumentPickerScreen(choices, self.ctx.instrument_id), chosen)

    def set_instrument(self, instrument_id: int) -> None:
        self.ctx.instrument_id = instrument_id
        self.show_view(None, self.screen_stale, self.desk_app.wall_clock())

    # -- desk actions (each goes to the oms as a control message) ----------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: desk actions are hidden from the footer, and their keys do nothing.
        return not (self.read_only and action in ACTIONS)

    def _submit(self, command: cmd.Command) -> None:
        self.desk_app.submit(command)

    def _refuse_if_read_only(self, label: str) -> bool:
        if self.read_only:
            self.desk_app.refuse_read_only(label)
            return True
        return False

    def _selected_symbol(self) -> str:
        return fmt.symbol(self.ctx.catalog, self.ctx.instrument_id)

    def action_kill(self) -> None:
        if self._refuse_if_read_only("engage kill switch"):
            return

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._submit(cmd.EngageKill(reason or "kill switch engaged from the TUI"))

        self.app.push_screen(
            ReasonScreen(
                "ENGAGE THE KILL SWITCH?",
                "Every new non-reducing order is refused and every working order is cancelled, until "
                "released. Enter engages, Esc cancels.",
                default="kill switch engaged from the TUI",
            ),
            confirmed,
        )

    def action_release(self) -> None:
        if self._refuse_if_read_only("release kill switch"):
            return

        def reasoned(reason: str | None) -> None:
            if not reason:
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._submit(cmd.ReleaseKill(reason))

            self.app.push_screen(
                ConfirmScreen("Release the kill switch?", f"Trading resumes. Reason: {reason}"), confirmed
            )

        self.app.push_screen(
            ReasonScreen(
                "Release the kill switch",
                "Why is it safe to trade again? (required; it is recorded with your identity)",
                required=True,
            ),
            reasoned,
        )

    def action_flatten(self) -> None:
        if self._refuse_if_read_only("flatten"):
            return
        iid = self.ctx.instrument_id
        if not iid:
            self.notify("choose an instrument first", severity="warning")
            return
        symbol = self._selected_symbol()
        self._confirm_then(
            f"Flatten {symbol}?",
            f"Cancels working orders in {symbol}, then works reducing orders until it is flat.",
            cmd.Flatten(iid, reason=f"flatten {symbol} from the TUI", label=f"flatten {symbol}"),
        )

    def action_flatten_all(self) -> None:
        if self._refuse_if_read_only("flatten all"):
            return
        self._confirm_then(
            "Flatten EVERY instrument?",
            "Cancels every working order, then works reducing orders until every position is flat.",
            cmd.Flatten(0, reason="flatten all from the TUI", label="flatten all"),
        )

    def action_cancel_all(self) -> None:
        if self._refuse_if_read_only("cancel all"):
            return
        self._confirm_then(
            "Cancel every working order?",
            "Every working order of every strategy is cancelled.",
            cmd.CancelAll(0, reason="cancel all from the TUI"),
        )

    def action_cancel_order(self) -> None:
        if self._refuse_if_read_only("cancel order"):
            return
        orders = self.query_one(OrdersPane)
        order_id = orders.selected_order_id()
        if order_id is None or self.view is None:
            self.notify("select a working order in the orders pane (2) first", severity="warning")
            if self.current_pane != "orders":
                self._select_pane("orders")
            return
        row = next((o for o in self.view.orders if o.order_id == order_id), None)
        iid = row.instrument_id if row is not None else 0
        sid = row.strategy_id if row is not None else 0
        self._submit(cmd.CancelOrder(order_id, iid, sid, label=f"cancel order {order_id}"))

    def action_order_ticket(self) -> None:
        if self._refuse_if_read_only("new order"):
            return
        symbols = [self.ctx.catalog.get(i).symbol for i in self._instrument_ids() if self.ctx.catalog.get(i)]

        def sent(order: cmd.NewOrder | None) -> None:
            if order is not None:
                inst = self.ctx.catalog.get(order.instrument_id)
                side = fmt.SIDE_NAMES.get(int(order.side), "?")
                label = f"{side.lower()} {fmt.qty(inst, order.qty)} {inst.symbol if inst else ''} @ " + (
                    fmt.price(inst, order.price)
                )
                self._submit(
                    cmd.NewOrder(
                        order.instrument_id,
                        order.side,
                        order.qty,
                        order.price,
                        order.ord_type,
                        order.tif,
                        label=label,
                    )
                )

        self.app.push_screen(OrderTicketScreen(self.ctx.catalog, self.ctx.instrument_id, symbols), sent)

    def _confirm_then(self, title: str, body: str, command: cmd.Command) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self._submit(command)

        self.app.push_screen(ConfirmScreen(title, body), confirmed)

    def on_key(self, event: Any) -> None:
        # Read-only: the action keys are unbound (check_action), so say why nothing happens.
        if self.read_only:
            for binding_id in ACTIONS:
                if event.key in self.desk_app.keys_of(binding_id):
                    self.desk_app.refuse_read_only(BINDINGS[binding_id][1].lower())
                    event.stop()
                    return
