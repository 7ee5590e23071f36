"""Binance order entry: NOT BUILT.

aerodesk routes orders to the simulated venue ("sim"); the Binance adapter only parses and
synchronises recorded or streamed market data. Nothing here pretends to send an order.
"""

from __future__ import annotations

from typing import Any, NoReturn

NOT_BUILT = (
    "live Binance order entry is not built: the Binance adapter handles market data only "
    "(orders go to the simulated venue 'sim')"
)


class LiveOrderEntryNotBuiltError(NotImplementedError):
    """Raised by every attempt to create a Binance execution client."""

    def __init__(self) -> None:
        super().__init__(NOT_BUILT)


class BinanceExecutionClient:
    """Placeholder that refuses to exist: constructing it raises LiveOrderEntryNotBuiltError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise LiveOrderEntryNotBuiltError()


def create_execution_client(*args: Any, **kwargs: Any) -> NoReturn:
    raise LiveOrderEntryNotBuiltError()
