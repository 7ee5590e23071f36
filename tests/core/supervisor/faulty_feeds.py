"""md feeds that misbehave on purpose, for supervisor tests (loaded by a test profile's
`feed = "tests.core.supervisor.faulty_feeds:<factory>"`; the daemon runs from the repository root)."""

from __future__ import annotations

import time

from core.config import Table
from core.instruments import InstrumentCatalog
from core.marketdata.events import MarketEvent


class CrashingFeed:
    """Raises when the md agent starts it: the daemon exits 1 at once, every time."""

    name = "crashing"
    finished = False

    def start(self, now_ns: int) -> None:
        raise RuntimeError("this feed crashes on purpose (supervisor test)")

    def poll(self, now_ns: int, limit: int) -> list[MarketEvent]:
        return []

    def counters(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        pass


class StuckFeed(CrashingFeed):
    """Never returns from start: the daemon never sends a heartbeat (and ignores SIGTERM meanwhile)."""

    name = "stuck"

    def start(self, now_ns: int) -> None:
        time.sleep(3600)


def crashing(t: Table, catalog: InstrumentCatalog) -> CrashingFeed:
    return CrashingFeed()


def stuck(t: Table, catalog: InstrumentCatalog) -> StuckFeed:
    return StuckFeed()
