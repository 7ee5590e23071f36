"""Binance (spot and USD-M futures) market data: the venue's message formats and book-sync rules.

Files (the same in every venue folder): config (settings), data (the market-data client: raw JSON in,
normalized events out), sync (the venue's book-sync state machine), providers (instrument static data
or inferred exponents), files (recorded-file readers, recognised by content), execution (live order
entry: not built). replay and truth replay recorded files and check the book against the venue's own
truth; `check_file` and `book_at` have the same shape as adapters.lobster's.
"""

from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.data import BadMessageError, BinanceDataClient
from adapters.binance.execution import BinanceExecutionClient, LiveOrderEntryNotBuiltError
from adapters.binance.files import FileFormatError, FileInfo, sniff
from adapters.binance.providers import BinanceInstrumentProvider
from adapters.binance.replay import NotSynchronisedError, Replay, book_at, check_file, replay_file
from adapters.binance.sync import BookSync, DepthDiff, DepthSnapshot, SyncRules

__all__ = [
    "BadMessageError",
    "BinanceDataClient",
    "BinanceDataClientConfig",
    "BinanceExecutionClient",
    "BinanceInstrumentProvider",
    "BinanceMarket",
    "BookSync",
    "DepthDiff",
    "DepthSnapshot",
    "FileFormatError",
    "FileInfo",
    "LiveOrderEntryNotBuiltError",
    "NotSynchronisedError",
    "Replay",
    "SyncRules",
    "book_at",
    "check_file",
    "replay_file",
    "sniff",
]
