"""LOBSTER: NASDAQ order-by-order history (message + orderbook files), replayed through the L3 book.

Public API used by `aerodesk data`:
- `check_file(path) -> TruthCheck`: replay and compare with LOBSTER's orderbook row after every message.
- `book_at(path, at_ns, depth) -> BookView`: the reconstructed book at a moment (None = end of file).
"""

from adapters.lobster.config import LobsterDataConfig
from adapters.lobster.data import LobsterDataClient, book_at, check_file
from adapters.lobster.execution import LobsterExecutionClient, OrderEntryUnavailable
from adapters.lobster.files import LobsterFileSet, LobsterFormatError, discover
from adapters.lobster.providers import LobsterInstrumentProvider

__all__ = [
    "LobsterDataClient",
    "LobsterDataConfig",
    "LobsterExecutionClient",
    "LobsterFileSet",
    "LobsterFormatError",
    "LobsterInstrumentProvider",
    "OrderEntryUnavailable",
    "book_at",
    "check_file",
    "discover",
]
