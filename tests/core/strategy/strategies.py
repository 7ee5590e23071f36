"""Strategies used by the tests, importable by path from configs (tests.core.strategy.strategies:Name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.codec.messages import Side
from core.instruments import Instrument
from core.strategy import Strategy


@dataclass(frozen=True)
class RecorderParams:
    instrument: Instrument
    other: Instrument | None = None
    quote_on_book: bool = False  # submit one buy at best bid - 1 tick on the first usable book
    fail_in: str = ""  # the callback that raises ("on_book", "on_start", "__init__", ...)
    size: Decimal = Decimal("0.01")


@dataclass
class Call:
    name: str
    args: tuple[Any, ...] = field(default_factory=tuple)


class Recorder(Strategy):
    """Records every callback; optionally quotes once on the first book and raises where told."""

    Params = RecorderParams
    params: RecorderParams

    def __init__(self, ctx, params) -> None:
        if params.fail_in == "__init__":
            raise RuntimeError("boom in the constructor")
        super().__init__(ctx, params)
        self.calls: list[Call] = []
        self.quoted = None

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append(Call(name, args))
        if self.params.fail_in == name:
            raise RuntimeError(f"boom in {name}")

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def on_start(self) -> None:
        self._record("on_start")

    def on_book(self, market) -> None:
        self._record(
            "on_book", market.instrument_id, market.usable(), market.book.best_bid(), market.book.best_ask()
        )
        if self.params.quote_on_book and self.quoted is None and market.usable():
            inst = self.params.instrument
            self.quoted = self.ctx.submit(
                inst.id,
                Side.Buy,
                inst.qty_mantissa(self.params.size),
                market.book.best_bid()[0] - inst.tick_size,
            )

    def on_trade(self, trade) -> None:
        self._record("on_trade", trade.instrumentId, trade.price, trade.qty, trade.aggressorSide)

    def on_order_update(self, order, report) -> None:
        self._record("on_order_update", order.cl_ord_id, report.execType, order.status)

    def on_position(self, position) -> None:
        self._record("on_position", position.instrument_id, position.net_qty)

    def on_timer(self, tag: str, now_ns: int) -> None:
        self._record("on_timer", tag, now_ns)

    def on_stop(self) -> None:
        self._record("on_stop")


class NoParams(Strategy):
    """A strategy without parameters."""


class NotAStrategy:
    pass


@dataclass(frozen=True)
class StubbornParams:
    instrument: Instrument


class Stubborn(Strategy):
    """Answers every refusal with the same order at once: a feedback loop the desk must catch."""

    Params = StubbornParams
    params: StubbornParams

    def on_start(self) -> None:
        self._send()

    def _send(self) -> None:
        self.ctx.submit(self.params.instrument.id, Side.Buy, 10_000, 5_000_000)

    def on_order_update(self, order, report) -> None:
        if order.status.name == "Rejected":
            self._send()
