"""A seeded synthetic market for one instrument: the demo's default feed, and a test and benchmark driver.

Model (event driven, in simulated time; nothing reads a clock):

- A latent *fair price* follows a mean-reverting (Ornstein-Uhlenbeck) process in log space around the
  start price, with the exact OU transition between events. Its volatility depends on a two-state
  *regime* (calm / volatile) that switches after exponentially distributed durations.
- Book events arrive as a Poisson process (`event_rate_hz`). Each is a limit-order arrival, a cancel
  or a market order (`trade_fraction`, `cancel_fraction`). Prices sit on a grid of
  `level_spacing_ticks` ticks: arrivals land a geometric number of grid steps behind the fair price on
  their side, so the book follows the fair price; an arrival that crosses the opposite best executes
  against it (trades) and rests its remainder. Market orders lean towards the fair price. Each side is
  refilled to `levels` levels (the first empty grid prices from the touch outwards) and trimmed
  beyond three times that.
- Output: one BookSnapshotEvent first (and every `snapshot_interval_s` if set), then per book event
  the TradeEvents it caused followed by one BookDeltaEvent with every level it changed. Update ids
  chain (`prev_venue_seq`), exchange timestamps are the simulated time in epoch ns.

Guarantees (tested): the same instrument, params, seed and start time give the same event stream,
value for value; prices are on tick, sizes on lot, the book is never crossed and never empty on a side.
Determinism holds for one Python version and platform: the model uses IEEE floats (exp, log, sqrt)
for its random process; every emitted price and size is an exact int.
"""

from __future__ import annotations

import math
import random
from enum import IntEnum

from core.book import BookSide, FastL2Book
from core.instruments import Instrument
from core.market.params import SyntheticParams
from core.marketdata.events import Aggressor, BookDeltaEvent, BookSnapshotEvent, MarketEvent, TradeEvent

DEFAULT_START_TS_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
_NS = 1_000_000_000
BID, ASK = BookSide.BID, BookSide.ASK


class Regime(IntEnum):
    CALM = 0
    VOLATILE = 1


class SyntheticMarket:
    def __init__(
        self,
        instrument: Instrument,
        params: SyntheticParams | None = None,
        *,
        seed: int = 0,
        start_ts_ns: int = DEFAULT_START_TS_NS,
    ) -> None:
        self.instrument = instrument
        self.params = p = params or SyntheticParams.for_instrument(instrument)
        self.seed = seed
        # Seeded from (seed, instrument id) so instruments sharing a seed still move independently.
        self._rng = random.Random(seed * 1_000_003 + instrument.id)
        self._grid = p.level_spacing_ticks * instrument.tick_size
        self._lot = instrument.lot_size
        self._mean = float(p.start_price)
        self._theta = math.log(2.0) / p.half_life_s
        self._sigma = (p.calm_vol_bps * 1e-4, p.volatile_vol_bps * 1e-4)
        self._x = 0.0  # log(fair / start price)
        self.book = FastL2Book(instrument.id)  # the generator's own book (read it, do not write it)
        self.now_ns = start_ts_ns
        self._last_ts = start_ts_ns  # time the fair price was last evolved to
        self.regime = Regime.CALM
        self.regime_changes: list[tuple[int, Regime]] = [(start_ts_ns, Regime.CALM)]
        self._next_switch = start_ts_ns + self._duration(Regime.CALM)
        self._snapshot_every = int(p.snapshot_interval_s * _NS)
        self._next_snapshot = 0
        self._seq = 0
        self._trade_id = 0
        self._started = False
        self._next_ts = start_ts_ns  # time of the next step, drawn one step ahead

    # -- public ----------------------------------------------------------------------------------
    @property
    def fair_price(self) -> float:
        """The latent fair price in price-mantissa units (a model quantity, not a tradable price)."""
        return self._mean * math.exp(self._x)

    @property
    def next_event_ts(self) -> int:
        """When the next step happens (the opening snapshot's time before the first one)."""
        return self._next_ts if self._started else self.now_ns

    def next_events(self) -> list[MarketEvent]:
        """The events of the next step: the opening snapshot, then one book event's trades and delta.

        The time of the following step is drawn here, ahead of it, so a caller can wait for it without
        the book already showing that step (see `events_until`)."""
        if not self._started:
            self._started = True
            self._seed_book()
            self._next_snapshot = self.now_ns + self._snapshot_every if self._snapshot_every else 0
            self._next_ts = self.now_ns + self._interarrival()
            return [self.snapshot_event()]
        self.now_ns = self._next_ts
        self._next_ts = self.now_ns + self._interarrival()
        self._evolve_fair()
        if self._next_snapshot and self.now_ns >= self._next_snapshot:
            self._next_snapshot += self._snapshot_every
            return [self.snapshot_event()]
        return self._book_event()

    def events_until(self, ts_ns: int) -> list[MarketEvent]:
        """Every event stamped at or before `ts_ns` not yet returned (for a live feed polled by a clock).
        Nothing beyond `ts_ns` is generated, so `book` and `snapshot_event()` show the state as of the
        last event returned."""
        out: list[MarketEvent] = []
        while self.next_event_ts <= ts_ns:
            out.extend(self.next_events())
        return out

    def take(self, n: int) -> list[MarketEvent]:
        """At least `n` events (whole steps)."""
        out: list[MarketEvent] = []
        while len(out) < n:
            out.extend(self.next_events())
        return out

    def snapshot_event(self) -> BookSnapshotEvent:
        """The current book at the current update id (also what a late subscriber is sent first); it
        does not change the stream."""
        return BookSnapshotEvent(
            self.instrument.id,
            self._seq,
            self.now_ns,
            self.now_ns,
            tuple(self.book.depth(BID)),
            tuple(self.book.depth(ASK)),
        )

    # -- model -----------------------------------------------------------------------------------
    def _duration(self, regime: Regime) -> int:
        p = self.params
        mean = p.calm_duration_s if regime == Regime.CALM else p.volatile_duration_s
        return int(self._rng.expovariate(1.0 / mean) * _NS) + 1

    def _interarrival(self) -> int:
        return int(self._rng.expovariate(self.params.event_rate_hz) * _NS) + 1

    def _evolve_fair(self) -> None:
        while self.now_ns >= self._next_switch:
            self.regime = Regime.VOLATILE if self.regime == Regime.CALM else Regime.CALM
            self.regime_changes.append((self._next_switch, self.regime))
            self._next_switch += self._duration(self.regime)
        dt = (self.now_ns - self._last_ts) / _NS
        self._last_ts = self.now_ns
        decay = math.exp(-self._theta * dt)
        sd = self._sigma[self.regime] * math.sqrt((1.0 - decay * decay) / (2.0 * self._theta))
        self._x = self._x * decay + sd * self._rng.gauss(0.0, 1.0)

    def _anchor(self, side: BookSide) -> int:
        """The grid price nearest the fair price on `side`: best bid below it, best ask above it."""
        g = self._grid
        below = int(self.fair_price // g) * g
        return below if side == BID else below + g

    def _size(self) -> int:
        return (int(self._rng.expovariate(1.0 / self.params.mean_size_lots)) + 1) * self._lot

    def _seed_book(self) -> None:
        g = self._grid
        bid, ask = self._anchor(BID), self._anchor(ASK)
        bids = [(bid - k * g, self._size()) for k in range(self.params.levels) if bid - k * g > 0]
        asks = [(ask + k * g, self._size()) for k in range(self.params.levels)]
        self.book.apply_snapshot(bids, asks)
        self._seq = 1

    def _book_event(self) -> list[MarketEvent]:
        rng = self._rng
        p = self.params
        changes: dict[tuple[BookSide, int], int] = {}
        trades: list[MarketEvent] = []
        while not changes:  # a draw that changes nothing (a cancel on a one-level side): draw again
            u = rng.random()
            if u < p.trade_fraction:
                self._market_order(changes, trades)
            elif u < p.trade_fraction + p.cancel_fraction:
                self._cancel(changes)
            else:
                self._limit_arrival(changes, trades)
            self._maintain(changes)
        prev = self._seq
        self._seq += 1
        levels = tuple((side, price, qty) for (side, price), qty in changes.items())
        trades.append(
            BookDeltaEvent(self.instrument.id, self._seq, self.now_ns, self.now_ns, levels, prev, prev + 1)
        )
        return trades

    def _set(self, changes: dict[tuple[BookSide, int], int], side: BookSide, price: int, qty: int) -> None:
        self.book.apply_delta(side, price, qty)
        changes[(side, price)] = qty

    def _limit_arrival(self, changes: dict, trades: list) -> None:
        rng = self._rng
        side = BID if rng.random() < 0.5 else ASK
        k = 0
        while rng.random() < 0.6 and k < 4 * self.params.levels:  # geometric distance behind the anchor
            k += 1
        price = self._anchor(side) - k * self._grid if side == BID else self._anchor(side) + k * self._grid
        if price <= 0:
            return
        qty = self._size()
        qty = self._execute(side, price, qty, changes, trades)  # crossing part trades first
        if qty:
            self._set(changes, side, price, self.book.qty_at(side, price) + qty)

    def _market_order(self, changes: dict, trades: list) -> None:
        book = self.book
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return
        # Lean towards the fair price: buy more often when the book's mid is below it.
        lean = (self.fair_price - (bid[0] + ask[0]) / 2.0) / self._grid
        p_buy = min(0.9, max(0.1, 0.5 + 0.2 * lean))
        side = BID if self._rng.random() < p_buy else ASK  # the aggressor's side
        far = 10**30 if side == BID else 0
        self._execute(side, far, self._size(), changes, trades, keep_one_level=True)

    def _execute(
        self, side: BookSide, limit: int, qty: int, changes: dict, trades: list, keep_one_level: bool = False
    ) -> int:
        """An aggressor on `side` takes the opposite levels priced within `limit`; returns the rest."""
        book = self.book
        opp = ASK if side == BID else BID
        while qty > 0:
            best = book.best_ask() if opp == ASK else book.best_bid()
            if best is None:
                break
            price, size = best
            if (price > limit) if side == BID else (price < limit):
                break
            if keep_one_level and book.level_count(opp) <= 1:
                break
            t = min(qty, size)
            qty -= t
            self._trade_id += 1
            aggressor = Aggressor.BUY if side == BID else Aggressor.SELL
            trades.append(
                TradeEvent(self.instrument.id, self._trade_id, self.now_ns, self.now_ns, price, t, aggressor)
            )
            self._set(changes, opp, price, size - t)
        return 0 if keep_one_level else qty

    def _cancel(self, changes: dict) -> None:
        rng = self._rng
        side = BID if rng.random() < 0.5 else ASK
        levels = self.book.depth(side)
        if len(levels) <= 1:
            return
        # Quotes at the touch are the most often updated; deeper ones are picked uniformly.
        price, size = levels[0] if rng.random() < 0.3 else levels[int(rng.random() * len(levels))]
        lots = size // self._lot
        if lots <= self.params.mean_size_lots or rng.random() < 0.3:
            self._set(changes, side, price, 0)
        else:
            self._set(changes, side, price, size - (1 + int(rng.random() * (lots - 1))) * self._lot)

    def _maintain(self, changes: dict) -> None:
        """Keep `levels` levels on each side, filling the first empty grid prices from the touch
        outwards (never crossing the other side), and at most three times that many."""
        book = self.book
        g = self._grid
        n = self.params.levels
        for side in (BID, ASK):
            count = book.level_count(side)
            if count < n:
                other = book.best_ask() if side == BID else book.best_bid()
                price = self._anchor(side)
                if other is not None:
                    price = min(price, other[0] - g) if side == BID else max(price, other[0] + g)
                step = -g if side == BID else g
                while count < n and price > 0:
                    if not book.qty_at(side, price):
                        self._set(changes, side, price, self._size())
                        count += 1
                    price += step
            while count > 3 * n:
                worst = book.depth(side)[-1][0]
                self._set(changes, side, worst, 0)
                count -= 1
