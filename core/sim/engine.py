"""The simulated venue's matching engine for one instrument: simulated orders against each other and
against the real market book, in price-time priority. Pure logic: no bus, no threads, no clock; every
call carries the venue time of the event, and returns the reports it caused (in order).

Orders: LIMIT and MARKET; GTC, Day (= GTC: no sessions are modelled), IOC and FOK; post-only (rejected
if it would take); cancel; replace (priority kept on a size-down at the same price, lost on a price
change or a size-up); partial fills; self-trade prevention (see SelfTradePolicy: by default the
resting order of the same owner is canceled and the incoming one keeps matching). A market order never
rests: what the book cannot fill expires. FOK checks the fillable size first (same walk, dry run) and
expires untouched when it is short.

Market side. The engine keeps a view of the real L2 book (MarketView) fed by snapshots, deltas and
trades:

- An incoming marketable order walks the opposite side best price first. At each price the queue is
  the displayed market size and the simulated orders resting there, interleaved by queue position; it
  takes from that queue in order. Market size it takes is *consumed*: removed from the view until the
  feed next updates that level (the real market never saw the trade, so the feed's next number for the
  level is the truth again).
- Queue-position model: an order joining a level is behind all the displayed size there (`ahead`);
  market trades at its price and size decreases at its level advance it, and it fills once nothing is
  ahead and size still trades at its price. Size decreases not explained by trades already seen at
  that price are cancels; they come from the back of the queue by default (our position improves only
  once everything behind us is gone) or pro rata (config `queue_cancels`). Size increases join behind.
  A trade at a price *better* than a resting order's (the market traded through it) fills that order
  with nothing ahead. One market trade fills simulated orders for at most its own size in total.
- When the book moves through a resting order (the opposite best reaches or crosses its price), the
  order fills as maker at its own price against that displayed size, which is then consumed.

Reports carry transact_ts (the event's venue time) and ts = transact_ts + report latency; the arrival
latency of requests is applied by SimVenue, which calls the engine at the arrival time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from decimal import Decimal

from core.book import L2Book
from core.codec.messages import OrdStatus, OrdType, Reason, Side, TimeInForce
from core.instruments import Instrument
from core.marketdata.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FeedStateEvent,
    FeedStatus,
    MarketEvent,
    TradeEvent,
)
from core.sim.config import QueueCancels, SelfTradePolicy, SelfTradeScope, SimVenueConfig
from core.sim.market_view import MarketView
from core.sim.orders import CancelRequest, NewOrderRequest, ReplaceRequest, SimOrder
from core.sim.own_book import BOOKS, OwnBook
from core.sim.reports import (
    CancelRejected,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    RejectCode,
    ReplaceRejected,
    VenueReport,
    reason_of,
)
from core.sim.validation import check_new, check_price, check_qty

BUY, SELL = Side.Buy, Side.Sell
_STP_TEXT = "self-trade prevention"
_FEED_LOST = frozenset({FeedStatus.GAP, FeedStatus.RESYNCING, FeedStatus.STALE})


class IdSource:
    """Venue-wide id counters (shared by every engine of one venue): venue order ids, exec ids and
    trade ids, each unique and increasing from 1."""

    __slots__ = ("exec_id", "order_id", "trade_id")

    def __init__(self) -> None:
        self.exec_id = 0
        self.order_id = 0
        self.trade_id = 0

    def next_exec(self) -> int:
        self.exec_id += 1
        return self.exec_id

    def next_order(self) -> int:
        self.order_id += 1
        return self.order_id

    def next_trade(self) -> int:
        self.trade_id += 1
        return self.trade_id


class MatchingEngine:
    def __init__(
        self,
        instrument: Instrument,
        config: SimVenueConfig | None = None,
        *,
        ids: IdSource | None = None,
        book: str = "fast",
        market_book: L2Book | None = None,
    ) -> None:
        self.instrument = instrument
        self.config = config = config or SimVenueConfig()
        self.ids = ids or IdSource()
        try:
            self.own: OwnBook = BOOKS[book]()
        except KeyError:
            raise ValueError(f"unknown book implementation {book!r} (known: {', '.join(BOOKS)})") from None
        self.market = MarketView(market_book)
        self._live: dict[int, SimOrder] = {}
        self._by_cl: dict[tuple[int, int, int], SimOrder] = {}  # (account, strategy, client id) -> live
        self._done: OrderedDict[int, SimOrder] = OrderedDict()
        self._done_cl: OrderedDict[tuple[int, int, int], SimOrder] = OrderedDict()
        self._memory = config.terminal_memory
        self._seq = 0
        self._ts = 0
        self._out: list[VenueReport] = []
        self._report_latency = config.report_latency_ns
        self._pro_rata = config.queue_cancels == QueueCancels.PRO_RATA
        self._stp = config.self_trade
        self._stp_strategy = config.self_trade_scope == SelfTradeScope.STRATEGY
        self._maker_bps = config.maker_fee_bps
        self._taker_bps = config.taker_fee_bps
        # Linear instruments: fee = price mantissa x qty mantissa x bps x multiplier x 10^(pe + qe - 4),
        # kept as an int product and an exponent so no Decimal context precision can round it.
        scale = instrument.price_exponent + instrument.qty_exponent - 4
        self._fee_factor = {
            liq: _int_and_exponent(bps * instrument.multiplier, scale)
            for liq, bps in ((Liquidity.MAKER, self._maker_bps), (Liquidity.TAKER, self._taker_bps))
        }

    # == requests ===================================================================================
    def on_new(self, req: NewOrderRequest, ts: int) -> list[VenueReport]:
        out = self._begin(ts)
        self._check_instrument(req.instrument_id)
        problem = check_new(req, self.instrument)
        if problem is None and (req.account_id, req.strategy_id, req.cl_ord_id) in self._by_cl:
            problem = RejectCode.DUPLICATE_CL_ORD_ID, f"client order id {req.cl_ord_id} is already working"
        if problem is None and req.post_only and self._would_take(req.side, req.price):  # type: ignore[arg-type]
            problem = RejectCode.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity"
        if problem is not None:
            out.append(
                reject_new(req, problem[0], problem[1], self.ids.next_exec(), ts, self._report_latency)
            )
            return out
        stp_key = (req.account_id, req.strategy_id) if self._stp_strategy else req.account_id
        o = SimOrder(req, self.ids.next_order(), stp_key, ts)
        self._live[o.venue_order_id] = o
        self._by_cl[(o.account_id, o.strategy_id, o.cl_ord_id)] = o
        self._emit(OrderAccepted, o)
        self._execute(o)
        return out

    def on_cancel(self, req: CancelRequest, ts: int) -> list[VenueReport]:
        out = self._begin(ts)
        self._check_instrument(req.instrument_id)
        o = self._find(req)
        if o is None:
            self._refuse(CancelRejected, req, "cancel")
            return out
        o.leaves_qty = 0
        o.status = OrdStatus.Canceled
        o.updated_ts = ts
        self._emit(
            OrderCanceled, o, cl_ord_id=req.cl_ord_id, orig=o.cl_ord_id, correlation=req.correlation_id
        )
        self._retire(o)
        return out

    def on_replace(self, req: ReplaceRequest, ts: int) -> list[VenueReport]:
        out = self._begin(ts)
        self._check_instrument(req.instrument_id)
        o = self._find(req)
        if o is None:
            self._refuse(ReplaceRejected, req, "replace")
            return out
        price = o.price if req.price is None else req.price
        problem = check_price(price, self.instrument) if o.ord_type == OrdType.Limit else None
        problem = problem or check_qty(req.qty, self.instrument)
        if problem is None and req.qty <= o.cum_qty:
            problem = (
                RejectCode.QTY_NOT_ABOVE_FILLED,
                f"new quantity {req.qty} is not above filled {o.cum_qty}",
            )
        new_key = (o.account_id, o.strategy_id, req.cl_ord_id)
        if problem is None and req.cl_ord_id != o.cl_ord_id and new_key in self._by_cl:
            problem = RejectCode.DUPLICATE_CL_ORD_ID, f"client order id {req.cl_ord_id} is already working"
        if problem is None and o.post_only and price != o.price and self._would_take(o.side, price):  # type: ignore[arg-type]
            problem = RejectCode.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity at the new price"
        if problem is not None:
            code, text = problem
            self._emit(
                ReplaceRejected,
                o,
                cl_ord_id=req.cl_ord_id,
                orig=o.cl_ord_id,
                correlation=req.correlation_id,
                reason=reason_of(code),
                code=code,
                text=text,
            )
            return out
        new_leaves = req.qty - o.cum_qty
        keep = price == o.price and new_leaves <= o.leaves_qty
        del self._by_cl[(o.account_id, o.strategy_id, o.cl_ord_id)]
        self._by_cl[new_key] = o
        o.orig_cl_ord_id, o.cl_ord_id = o.cl_ord_id, req.cl_ord_id
        if req.order_id:
            o.order_id = req.order_id
        o.correlation_id = req.correlation_id
        if not keep and o.resting:
            self.own.remove(o)
            o.resting = False
        o.qty = req.qty
        o.leaves_qty = new_leaves
        o.price = price
        o.updated_ts = ts
        self._emit(OrderReplaced, o, orig=o.orig_cl_ord_id, priority_kept=keep)
        if not keep:
            self._execute(o)
        return out

    # == market data ================================================================================
    def on_snapshot(
        self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], ts: int
    ) -> list[VenueReport]:
        """The feed's full book: levels as (price, size), any order."""
        out = self._begin(ts)
        market = self.market
        saved = [
            (side, p, market.effective(side, p), market.take_credit(side, p))
            for side in (BUY, SELL)
            for p in self.own.prices(side)
        ]
        market.apply_snapshot(bids, asks)
        for side, p, old, credit in saved:
            self._requeue(side, p, old, market.displayed(side, p), credit)
        self._book_through()
        return out

    def on_delta(self, levels: Iterable[tuple[Side, int, int]], ts: int) -> list[VenueReport]:
        """Changed levels as (side, price, new size); size 0 deletes the level."""
        out = self._begin(ts)
        market = self.market
        own = self.own
        for side, price, qty in levels:
            if own.has_level(side, price):
                old = market.effective(side, price)
                credit = market.take_credit(side, price)
                market.set_level(side, price, qty)
                self._requeue(side, price, old, qty, credit)
            else:
                market.set_level(side, price, qty)
        self._book_through()
        return out

    def on_trade(self, price: int, qty: int, aggressor: Side, ts: int) -> list[VenueReport]:
        """A market trade: `aggressor` Buy means a buyer lifted the asks at `price`. ValueError (nothing
        changed) for a size or price that is not a positive int."""
        if type(qty) is not int or type(price) is not int or qty <= 0 or price <= 0:
            raise ValueError(f"trade of {qty!r} at {price!r}: size and price must be positive int mantissas")
        out = self._begin(ts)
        side = SELL if aggressor == BUY else BUY  # the resting side that traded
        flow = qty
        own = self.own
        if len(own):
            for p in own.prices(side):
                if flow <= 0 or (p > price if side == SELL else p < price):
                    break
                through = p != price
                orders = own.level(side, p)
                used = 0  # market size ahead of our orders that this trade took
                for r in orders:
                    if flow <= 0:
                        break
                    if not through:
                        gap = r.ahead - used
                        if gap > 0:
                            t = gap if gap < flow else flow
                            used += t
                            flow -= t
                            if flow <= 0:
                                break
                    t = r.leaves_qty if r.leaves_qty < flow else flow
                    flow -= t
                    self._fill(r, p, t, Liquidity.MAKER, self.ids.next_trade(), 0)
                for r in orders:
                    if r.resting:
                        r.ahead = 0 if through else max(0, r.ahead - used)
        self.market.add_trade_credit(side, price, qty)
        return out

    def on_event(self, event: MarketEvent, ts: int) -> list[VenueReport]:
        """A normalized market-data event (core/marketdata/events.py) at venue time `ts`. Top-of-book
        events change nothing (the L2 feed is the book); a feed-state event saying the feed lost the
        book empties the market view until the next snapshot."""
        if isinstance(event, BookDeltaEvent):
            return self.on_delta(event.levels, ts)  # BookSide values are Side's (1 bid/buy, 2 ask/sell)
        if isinstance(event, TradeEvent):
            return self.on_trade(event.price, event.qty, event.aggressor, ts)  # type: ignore[arg-type]
        if isinstance(event, BookSnapshotEvent):
            return self.on_snapshot(event.bids, event.asks, ts)
        if isinstance(event, FeedStateEvent) and event.status in _FEED_LOST:
            # The feed lost the venue's book: offer no market liquidity until the next snapshot rather
            # than trade against a stale book. Resting orders keep their queue positions.
            self.market.apply_snapshot((), ())
        return []

    # == questions ==================================================================================
    def order(self, venue_order_id: int) -> SimOrder | None:
        """A live order, or a finished one still remembered."""
        return self._live.get(venue_order_id) or self._done.get(venue_order_id)

    def live_orders(self) -> list[SimOrder]:
        return list(self._live.values())

    def resting_orders(self) -> list[SimOrder]:
        return self.own.orders()

    # == matching ===================================================================================
    def _execute(self, o: SimOrder) -> None:
        """Match an accepted (or re-priced) order, then rest or expire what is left."""
        if o.tif == TimeInForce.FOK:
            available, _ = self._match(o, dry=True)
            if available < o.leaves_qty:
                self._expire(o, f"fill-or-kill: only {available} of {o.leaves_qty} available")
                return
        _, self_trade = self._match(o, dry=False)
        if o.leaves_qty == 0:
            return
        if self_trade:
            self._cancel_stp(o, "incoming order canceled")
        elif o.ord_type == OrdType.Market:
            self._expire(o, "market order: no more liquidity")
        elif o.tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._expire(o, "immediate-or-cancel remainder")
        else:
            self._rest(o)

    def _match(self, o: SimOrder, dry: bool) -> tuple[int, bool]:
        """Walk the opposite side (simulated orders and market size merged by price). Returns the size
        matched (or, dry, matchable) and whether self-trade prevention stopped the incoming order."""
        buy = o.side == BUY
        opp = SELL if buy else BUY
        limit = o.price if o.ord_type == OrdType.Limit else None
        if limit is not None and not self._crosses(buy, opp, limit):
            return 0, False  # the common passive order: nothing to walk
        rem = o.leaves_qty
        own_prices = self.own.prices(opp) if len(self.own) else []
        n_own = len(own_prices)
        oi = 0
        mkt = self.market.levels(opp)
        m = next(mkt, None)
        matched = 0
        while rem > 0:
            op = own_prices[oi] if oi < n_own else None
            mp = m[0] if m is not None else None
            if op is None:
                if mp is None:
                    break
                p = mp
            elif mp is None:
                p = op
            else:
                p = (op if op < mp else mp) if buy else (op if op > mp else mp)
            if limit is not None and (p > limit if buy else p < limit):
                break
            mkt_qty = 0
            if p == mp:
                mkt_qty = m[1]  # type: ignore[index]
                m = next(mkt, None)
            orders: list[SimOrder] = []
            if p == op:
                orders = self.own.level(opp, p)
                oi += 1
            taken, stop = self._take_level(o, opp, p, orders, mkt_qty, rem, dry)
            rem -= taken
            matched += taken
            if stop:
                return matched, True
        return matched, False

    def _take_level(
        self, o: SimOrder, opp: Side, p: int, orders: list[SimOrder], mkt_qty: int, rem: int, dry: bool
    ) -> tuple[int, bool]:
        """Take up to `rem` at price `p`: market size and simulated orders in queue order."""
        taken = 0
        used = 0  # market size taken at this level
        stop = False
        for r in orders:
            if rem == 0:
                break
            gap = (r.ahead if r.ahead < mkt_qty else mkt_qty) - used
            if gap > 0:
                t = gap if gap < rem else rem
                if not dry:
                    self._fill(o, p, t, Liquidity.TAKER, self.ids.next_trade(), 0)
                used += t
                rem -= t
                taken += t
                if rem == 0:
                    break
            if r.stp_key == o.stp_key:
                if self._stp == SelfTradePolicy.CANCEL_RESTING:
                    if not dry:
                        self._cancel_stp(r, f"resting order canceled by incoming {o.venue_order_id}")
                    continue
                if self._stp == SelfTradePolicy.CANCEL_BOTH and not dry:
                    self._cancel_stp(r, f"resting order canceled by incoming {o.venue_order_id}")
                stop = True
                break
            t = r.leaves_qty if r.leaves_qty < rem else rem
            if not dry:
                trade_id = self.ids.next_trade()
                self._fill(r, p, t, Liquidity.MAKER, trade_id, o.venue_order_id)
                self._fill(o, p, t, Liquidity.TAKER, trade_id, r.venue_order_id)
            rem -= t
            taken += t
        if not stop and rem > 0 and mkt_qty > used:
            t = mkt_qty - used
            if t > rem:
                t = rem
            if not dry:
                self._fill(o, p, t, Liquidity.TAKER, self.ids.next_trade(), 0)
            used += t
            taken += t
        if used and not dry:
            self.market.consume(opp, p, used)
            for r in orders:
                if r.resting:
                    r.ahead = r.ahead - used if r.ahead > used else 0
        return taken, stop

    def _book_through(self) -> None:
        """Fill resting orders the market book has moved through (opposite best at or past their price)."""
        own = self.own
        if not len(own):
            return
        market = self.market
        for side, opp in ((BUY, SELL), (SELL, BUY)):
            while True:
                p = own.best(side)
                if p is None:
                    break
                best = market.best(opp)
                if best is None:
                    break
                mp, mq = best
                if (p < mp) if side == BUY else (p > mp):
                    break
                r = own.first(side, p)
                assert r is not None
                t = r.leaves_qty if r.leaves_qty < mq else mq
                market.consume(opp, mp, t)
                self._fill(r, p, t, Liquidity.MAKER, self.ids.next_trade(), 0)

    def _requeue(self, side: Side, price: int, old: int, new: int, credit: int) -> None:
        """The displayed size at a level with our orders went from `old` to `new`: move them up."""
        dec = old - new
        cancels = 0
        size = old
        if dec > 0:
            from_trades = dec if dec < credit else credit  # already counted when the trades printed
            cancels = dec - from_trades
            size = old - from_trades
        for r in self.own.level(side, price):
            a = r.ahead
            if cancels and a:
                if self._pro_rata:
                    a -= cancels * a // size
                else:
                    behind = size - a
                    if cancels > behind:
                        a -= cancels - behind
            r.ahead = a if a < new else new
            if r.ahead < 0:
                r.ahead = 0

    def _would_take(self, side: Side, price: int) -> bool:
        return self._crosses(side == BUY, SELL if side == BUY else BUY, price)

    def _crosses(self, buy: bool, opp: Side, price: int) -> bool:
        """Whether a limit at `price` reaches the opposite side (simulated orders or market size)."""
        own_best = self.own.best(opp)
        if own_best is not None and (price >= own_best if buy else price <= own_best):
            return True
        best = self.market.best(opp)
        return best is not None and (price >= best[0] if buy else price <= best[0])

    # == order state ================================================================================
    def _rest(self, o: SimOrder) -> None:
        o.ahead = self.market.effective(o.side, o.price)  # type: ignore[arg-type]
        self._seq += 1
        o.seq = self._seq
        self.own.add(o)
        o.resting = True

    def _fill(self, o: SimOrder, px: int, qty: int, liq: Liquidity, trade_id: int, contra: int) -> None:
        o.cum_qty += qty
        o.leaves_qty -= qty
        o.cum_cost += px * qty
        o.updated_ts = self._ts
        o.status = OrdStatus.Filled if o.leaves_qty == 0 else OrdStatus.PartiallyFilled
        inst = self.instrument
        if inst.inverse:
            bps = self._maker_bps if liq == Liquidity.MAKER else self._taker_bps
            fee = (inst.notional(px, qty) * bps).scaleb(-4)
        else:
            m, e = self._fee_factor[liq]
            fee = Decimal(f"{px * qty * m}e{e}")  # exact: the string constructor never rounds
        avg_px = (Decimal(o.cum_cost) / o.cum_qty).scaleb(inst.price_exponent)
        self._emit(
            OrderFilled,
            o,
            last_px=px,
            last_qty=qty,
            avg_px=avg_px,
            fee=fee,
            liquidity=liq,
            trade_id=trade_id,
            contra_venue_order_id=contra,
        )
        if o.leaves_qty == 0:
            self._retire(o)

    def _expire(self, o: SimOrder, text: str) -> None:
        o.leaves_qty = 0
        o.status = OrdStatus.Expired
        o.updated_ts = self._ts
        self._emit(OrderExpired, o, text=text)
        self._retire(o)

    def _cancel_stp(self, o: SimOrder, text: str) -> None:
        o.leaves_qty = 0
        o.status = OrdStatus.Canceled
        o.updated_ts = self._ts
        self._emit(OrderCanceled, o, reason=Reason.Other, text=f"{_STP_TEXT}: {text}")
        self._retire(o)

    def _retire(self, o: SimOrder) -> None:
        if o.resting:
            self.own.remove(o)
            o.resting = False
        del self._live[o.venue_order_id]
        key = (o.account_id, o.strategy_id, o.cl_ord_id)
        if self._by_cl.get(key) is o:
            del self._by_cl[key]
        if self._memory:
            self._done[o.venue_order_id] = o
            self._done_cl[key] = o
            if len(self._done) > self._memory:
                self._done.popitem(last=False)
            if len(self._done_cl) > self._memory:
                self._done_cl.popitem(last=False)

    def _find(self, req: CancelRequest | ReplaceRequest) -> SimOrder | None:
        """The live order a cancel/replace names: by venue order id (it must be the same account's), else
        by client order id, unique per account and strategy."""
        if req.venue_order_id:
            o = self._live.get(req.venue_order_id)
            return o if o is not None and o.account_id == req.account_id else None
        return self._by_cl.get((req.account_id, req.strategy_id, req.orig_cl_ord_id))

    def _find_done(self, req: CancelRequest | ReplaceRequest) -> SimOrder | None:
        if req.venue_order_id:
            o = self._done.get(req.venue_order_id)
            return o if o is not None and o.account_id == req.account_id else None
        return self._done_cl.get((req.account_id, req.strategy_id, req.orig_cl_ord_id))

    def _refuse(self, cls: type[CancelRejected] | type[ReplaceRejected], req, what: str) -> None:
        done = self._find_done(req)
        if done is not None:
            code = RejectCode.TOO_LATE
            text = f"too late to {what}: order {done.venue_order_id} is already {done.status.name}"
            self._emit(
                cls,
                done,
                cl_ord_id=req.cl_ord_id,
                orig=done.cl_ord_id,
                correlation=req.correlation_id,
                reason=reason_of(code),
                code=code,
                text=text,
            )
            return
        code = RejectCode.UNKNOWN_ORDER
        ref = (
            f"venue order id {req.venue_order_id}"
            if req.venue_order_id
            else f"client id {req.orig_cl_ord_id}"
        )
        text = f"cannot {what}: no order with {ref} for account {req.account_id}"
        self._out.append(
            refuse_request(cls, req, code, text, self.ids.next_exec(), self._ts, self._report_latency)
        )

    # == plumbing ===================================================================================
    def _begin(self, ts: int) -> list[VenueReport]:
        self._ts = ts
        self._out = []
        return self._out

    def _check_instrument(self, instrument_id: int) -> None:
        if instrument_id != self.instrument.id:
            raise ValueError(
                f"request for instrument {instrument_id} sent to the engine of {self.instrument.id} "
                f"({self.instrument.symbol}); route by instrument (SimVenue does)"
            )

    def _emit(
        self,
        cls,
        o: SimOrder,
        cl_ord_id: int | None = None,
        orig: int = 0,
        correlation: int | None = None,
        **extra,
    ) -> None:
        """One report about order `o`; cancel/replace responses pass the request's ids."""
        ts = self._ts
        self._out.append(
            cls(
                exec_id=self.ids.next_exec(),
                instrument_id=o.instrument_id,
                venue_order_id=o.venue_order_id,
                cl_ord_id=o.cl_ord_id if cl_ord_id is None else cl_ord_id,
                orig_cl_ord_id=orig,
                order_id=o.order_id,
                account_id=o.account_id,
                strategy_id=o.strategy_id,
                client_id=o.client_id,
                correlation_id=o.correlation_id if correlation is None else correlation,
                side=o.side,
                ord_type=o.ord_type,
                tif=o.tif,
                post_only=o.post_only,
                price=o.price,
                qty=o.qty,
                cum_qty=o.cum_qty,
                leaves_qty=o.leaves_qty,
                ord_status=o.status,
                transact_ts=ts,
                ts=ts + self._report_latency,
                **extra,
            )
        )


def _int_and_exponent(value: Decimal, scale: int) -> tuple[int, int]:
    """value x 10^scale as (integer, exponent), exactly."""
    sign, digits, exponent = value.as_tuple()
    m = int("".join(map(str, digits)) or "0")
    return (-m if sign else m), int(exponent) + scale


def reject_new(
    req: NewOrderRequest, code: RejectCode, text: str, exec_id: int, ts: int, report_latency: int
) -> OrderRejected:
    """The report for a new order the venue refuses (it never gets a venue order id)."""
    return OrderRejected(
        exec_id=exec_id,
        instrument_id=req.instrument_id,
        venue_order_id=0,
        cl_ord_id=req.cl_ord_id,
        orig_cl_ord_id=0,
        order_id=req.order_id,
        account_id=req.account_id,
        strategy_id=req.strategy_id,
        client_id=req.client_id,
        correlation_id=req.correlation_id,
        side=req.side,
        ord_type=req.ord_type,
        tif=req.tif,
        post_only=req.post_only,
        price=req.price,
        qty=req.qty,
        cum_qty=0,
        leaves_qty=0,
        ord_status=OrdStatus.Rejected,
        transact_ts=ts,
        ts=ts + report_latency,
        reason=reason_of(code),
        code=code,
        text=text,
    )


def refuse_request(
    cls: type[CancelRejected] | type[ReplaceRejected],
    req: CancelRequest | ReplaceRequest,
    code: RejectCode,
    text: str,
    exec_id: int,
    ts: int,
    report_latency: int,
) -> CancelRejected | ReplaceRejected:
    """The report refusing a cancel or replace of an order the venue does not know."""
    return cls(
        exec_id=exec_id,
        instrument_id=req.instrument_id,
        venue_order_id=req.venue_order_id,
        cl_ord_id=req.cl_ord_id,
        orig_cl_ord_id=req.orig_cl_ord_id,
        order_id=req.order_id,
        account_id=req.account_id,
        strategy_id=req.strategy_id,
        client_id=req.client_id,
        correlation_id=req.correlation_id,
        side=None,
        ord_type=None,
        tif=None,
        post_only=False,
        price=req.price if isinstance(req, ReplaceRequest) else None,
        qty=req.qty if isinstance(req, ReplaceRequest) else 0,
        cum_qty=0,
        leaves_qty=0,
        ord_status=OrdStatus.Rejected,
        transact_ts=ts,
        ts=ts + report_latency,
        reason=reason_of(code),
        code=code,
        text=text,
    )
