"""The manual order ticket: instrument, side, type, quantity, price, time in force. Checked exactly with
the instrument's exponents before it is sent; a bad field gets its error beside it and nothing is sent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from core.instruments import InstrumentCatalog
from tui.commands import NewOrder
from tui.ticket import TIFS, TicketError, TicketInput, parse_ticket

FIELDS = ("instrument", "side", "type", "qty", "price", "tif")


class OrderTicketScreen(ModalScreen[NewOrder | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="ticket.cancel"),
        Binding("ctrl+s", "submit", "Send", id="ticket.send"),
    ]

    def __init__(self, catalog: InstrumentCatalog, instrument_id: int, symbols: list[str]) -> None:
        super().__init__()
        self.catalog = catalog
        inst = catalog.get(instrument_id)
        self.symbols = symbols
        self.default_symbol = inst.symbol if inst is not None else (symbols[0] if symbols else "")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Manual order (goes through the oms and its risk checks)", id="dialog-title")
            with Grid(id="ticket-grid"):
                yield Label("Instrument")
                yield Select(
                    [(s, s) for s in self.symbols],
                    value=self.default_symbol,
                    allow_blank=False,
                    id="instrument",
                    compact=True,
                )
                yield Label("Side")
                yield Select(
                    [("Buy", "buy"), ("Sell", "sell")],
                    value="buy",
                    allow_blank=False,
                    id="side",
                    compact=True,
                )
                yield Label("Type")
                yield Select(
                    [("Limit", "limit"), ("Market", "market")],
                    value="limit",
                    allow_blank=False,
                    id="type",
                    compact=True,
                )
                yield Label("Quantity")
                yield Input(placeholder="e.g. 0.05", id="qty", compact=True)
                yield Label("Price")
                yield Input(placeholder="e.g. 60000.50 (empty for market)", id="price", compact=True)
                yield Label("Time in force")
                yield Select([(t, t) for t in TIFS], value="GTC", allow_blank=False, id="tif", compact=True)
            yield Static("", id="ticket-error", classes="field-error")
            with Horizontal(id="dialog-buttons"):
                yield Button("Send [ctrl+s]", id="send", variant="primary")
                yield Button("Cancel [esc]", id="cancel")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = not getattr(self.app, "frozen", False)
        self.query_one("#qty", Input).focus()

    def ticket_input(self) -> TicketInput:
        def sel(name: str) -> str:
            v = self.query_one(f"#{name}", Select).value
            return str(v) if v is not Select.BLANK else ""

        return TicketInput(
            instrument=sel("instrument"),
            side=sel("side"),
            qty=self.query_one("#qty", Input).value,
            price=self.query_one("#price", Input).value,
            ord_type=sel("type"),
            tif=sel("tif"),
        )

    def action_submit(self) -> None:
        for name in FIELDS:
            self.query_one(f"#{name}").remove_class("-invalid")
        try:
            order = parse_ticket(self.catalog, self.ticket_input())
        except TicketError as e:
            self.query_one("#ticket-error", Static).update(f"{e.field}: {e.message}")
            widget = self.query_one(f"#{e.field}")
            widget.add_class("-invalid")
            widget.focus()
            return
        self.dismiss(order)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_submit()
        else:
            self.dismiss(None)
