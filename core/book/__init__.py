"""Order books: the L2 price-level book interface and its two implementations.

`L2Book` (core/book/interface.py) is the interface every consumer uses (matching engine, strategy
host, TUI, market-data adapters); `FastL2Book` is the one to use, `ReferenceL2Book` the simple
oracle it is tested against. core/book/truth.py holds the result types of checks against a venue's
own truth.
"""

from core.book.fast import FastL2Book
from core.book.interface import (
    BookInvariantError,
    BookSide,
    L2Book,
    Level,
    LevelUpdate,
    SequenceGapError,
)
from core.book.reference import ReferenceL2Book

__all__ = [
    "BookInvariantError",
    "BookSide",
    "FastL2Book",
    "L2Book",
    "Level",
    "LevelUpdate",
    "ReferenceL2Book",
    "SequenceGapError",
]
