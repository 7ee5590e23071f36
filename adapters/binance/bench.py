"""The real-data source for core.bench.book: the Binance USD-M capture, parsed once for the book
benchmarks, and replayable for the parse+sync rate (core cannot import adapters, so it is built here)."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.binance.config import BinanceDataClientConfig, BinanceMarket
from adapters.binance.data import BinanceDataClient
from adapters.binance.files import RawMessage, read_messages, sniff
from adapters.binance.providers import BinanceInstrumentProvider
from core.bench.book import BookBenchSource
from core.config.base import configs_dir
from core.marketdata.events import BookDeltaEvent, BookSnapshotEvent

DEFAULT_CAPTURE = "binance-ws-capture-hftbacktest/usdm/btcusdt_20240808.gz"


def default_capture() -> Path:
    """../shared/data relative to the project root (the product never needs it; benchmarks do)."""
    return configs_dir().parent.parent / "shared" / "data" / DEFAULT_CAPTURE


def binance_bench_source(quick: bool = False, capture: str | Path | None = None) -> BookBenchSource:
    path = Path(capture) if capture is not None else default_capture()
    if not path.is_file():
        raise FileNotFoundError(f"Binance capture not found at {path} (see ../shared/data/SOURCES.md)")
    info = sniff(path)
    market = BinanceMarket.from_format(info.format or "binance-usdm")
    messages = [m for m in read_messages(path, info) if isinstance(m, RawMessage)]
    if quick:
        messages = messages[:20_000]
    texts = [m.payload for m in messages if isinstance(m.payload, str)]
    provider = BinanceInstrumentProvider(market)

    def replay() -> tuple[int, list]:
        client = BinanceDataClient(BinanceDataClientConfig(market=market), provider)
        events: list = []
        for m in messages:
            events.extend(client.handle(m.payload, m.receive_ts_ns, time_unit_ns=m.time_unit_ns))
        return len(messages), events

    def decode_only() -> int:
        loads = json.loads
        for text in texts:
            loads(text)
        return len(texts)

    _, events = replay()
    book_events = [e for e in events if isinstance(e, BookSnapshotEvent | BookDeltaEvent)]
    return BookBenchSource(
        name=f"{market.venue} capture {path.name} ({len(messages)} messages)",
        events=book_events,
        messages=len(messages),
        parse_and_sync=lambda: replay()[0],
        decode_only=decode_only,
    )
