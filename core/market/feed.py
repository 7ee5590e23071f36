"""Several instruments' synthetic markets merged into one time-ordered feed (the demo's md source)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from core.instruments import Instrument
from core.market.factor import FactorParams, synthetic_markets
from core.market.params import SyntheticParams
from core.market.synthetic import DEFAULT_START_TS_NS, SyntheticMarket
from core.marketdata.events import BookSnapshotEvent, MarketEvent


class SyntheticFeed:
    """Events of every market in exchange-time order; ties keep instrument order (as given), and a
    step's own events (trades, then their delta) stay together and in order."""

    def __init__(self, markets: Iterable[SyntheticMarket]) -> None:
        self.markets = list(markets)
        ids = [m.instrument.id for m in self.markets]
        if len(ids) != len(set(ids)):
            raise ValueError(f"instrument given twice: {ids}")
        self._by_id = {m.instrument.id: m for m in self.markets}

    @classmethod
    def for_instruments(
        cls,
        instruments: Iterable[Instrument],
        params: Mapping[str, SyntheticParams] | None = None,
        *,
        seed: int = 0,
        start_ts_ns: int = DEFAULT_START_TS_NS,
        factor: FactorParams | None = None,
    ) -> SyntheticFeed:
        """One market per instrument, with `params[symbol]` or the instrument's defaults; with a
        `factor`, the instruments it loads are correlated through it (core/market/factor.py)."""
        return cls(synthetic_markets(instruments, params, seed=seed, start_ts_ns=start_ts_ns, factor=factor))

    def events_until(self, ts_ns: int) -> list[MarketEvent]:
        # most polls find nothing due, or one market's step: merge only when two markets have events
        batches = [b for b in (m.events_until(ts_ns) for m in self.markets) if b]
        if len(batches) <= 1:
            return batches[0] if batches else []
        return list(heapq.merge(*batches, key=lambda e: e.exchange_ts_ns))

    def snapshot(self, instrument_id: int) -> BookSnapshotEvent:
        """The current book of one instrument (for a subscriber joining late)."""
        try:
            return self._by_id[instrument_id].snapshot_event()
        except KeyError:
            raise KeyError(f"no synthetic market for instrument {instrument_id}") from None

    def market(self, instrument_id: int) -> SyntheticMarket:
        return self._by_id[instrument_id]
