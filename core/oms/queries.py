"""Query answers and the periodic status, both built from the engine's state.

Queries (Orders, Positions, Risk, Status) are read-only: answering one changes nothing, so they are
not journaled, and their replies go to the asking client only (OmsOutputs.query_reply(clientId, ..)).

A Status query is answered with a ControlAck (Done, counters in its text), also to the client only.

Pagination ("more" convention): a reply is a run of snapshot messages with the query's
correlationId. Every page but the last carries exactly PAGE_SIZE entries; the last carries fewer,
possibly none. A client collects pages until one has fewer than PAGE_SIZE entries.

The periodic status (every status_interval_ms, a deadline on the engine's clock) publishes
AccountState per account, KillSwitchState, and a PositionUpdate for every position whose PnL moved
since it was last published.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from core.codec.messages import AckStatus, QueryType, Reason
from core.oms import wire
from core.oms.flatten import Flattening
from core.oms.ledger import ACCOUNT
from core.oms.order_flow import NO_REASON
from core.risk.exposure import EXPOSURE_SCALE
from core.risk.limits import DESK

PAGE_SIZE = 100


def pages(rows: list, size: int = PAGE_SIZE) -> list[list]:
    """Rows cut into pages by the convention above (a final short page, empty if need be)."""
    out = [rows[i : i + size] for i in range(0, len(rows), size)]
    if not out or len(out[-1]) == size:
        out.append([])
    return out


class Queries(Flattening):
    def answer_query(self, m, ts: int) -> None:
        qt = m.queryType
        when = max(ts, self.now)
        if qt == QueryType.Orders:
            for page in pages(self._order_rows()):
                self.out.query_reply(
                    m.clientId,
                    wire.orders_snapshot(
                        correlationId=m.correlationId, clientId=m.clientId, ts=when, orders=page
                    ),
                )
        elif qt == QueryType.Positions:
            for page in pages(self._position_rows()):
                self.out.query_reply(
                    m.clientId,
                    wire.positions_snapshot(
                        correlationId=m.correlationId, clientId=m.clientId, ts=when, positions=page
                    ),
                )
        elif qt == QueryType.Risk:
            daily = self.day.daily(self.ledger.desk_total)
            for page in pages(self._limit_rows()):
                self.out.query_reply(
                    m.clientId,
                    wire.risk_snapshot(
                        correlationId=m.correlationId,
                        clientId=m.clientId,
                        ts=when,
                        killEngaged=self.kill.engaged,
                        dailyPnl=wire.dec64(daily),
                        limits=page,
                        killReason=self.kill.reason,
                    ),
                )
        elif qt == QueryType.Status:
            self.out.query_reply(
                m.clientId,
                wire.control_ack(
                    correlationId=m.correlationId,
                    clientId=m.clientId,
                    status=AckStatus.Done,
                    reason=NO_REASON,
                    ts=when,
                    text=self._status_text(),
                ),
            )
        else:
            self.out.query_reply(
                m.clientId,
                wire.control_ack(
                    correlationId=m.correlationId,
                    clientId=m.clientId,
                    status=AckStatus.Refused,
                    reason=Reason.InvalidOrder,
                    ts=when,
                    text="unknown query type",
                ),
            )

    def _status_text(self) -> str:
        open_positions = sum(1 for p in self.ledger.positions.values() if p.net)
        counters = " ".join(f"{k}={v}" for k, v in sorted(self.counters.items()))
        kill = "engaged" if self.kill.engaged else "released"
        return (
            f"working={self.working_count} open_positions={open_positions} kill={kill} "
            f"flatten_jobs={len(self.flatten_jobs)} {counters}"
        )

    def _order_rows(self) -> list[dict]:
        rows = []
        for o in sorted(self._working_orders(), key=lambda o: o.order_id):
            rows.append(
                dict(
                    orderId=o.order_id,
                    clOrdId=o.cl_ord_id,
                    strategyId=o.strategy_id,
                    instrumentId=o.instrument_id,
                    venueId=o.venue_id,
                    side=o.side,
                    ordType=o.ord_type,
                    timeInForce=o.tif,
                    ordStatus=o.status,
                    price=o.price,
                    qty=o.qty,
                    cumQty=o.cum_qty,
                    leavesQty=o.leaves,
                    createdTs=o.created_ts,
                    updatedTs=o.updated_ts,
                )
            )
        return rows

    def _position_rows(self) -> list[dict]:
        rows = []
        for key, p in sorted(self.ledger.positions.items()):
            kind, owner, inst_id = key
            avg = p.avg_price()
            unit = Fraction(10) ** p.instrument.price_exponent
            rows.append(
                dict(
                    accountId=owner if kind == ACCOUNT else self.config.account_of(owner),
                    strategyId=0 if kind == ACCOUNT else owner,
                    instrumentId=inst_id,
                    netQty=p.net,
                    avgPx=wire.dec64(0 if avg is None else avg * unit),
                    realizedPnl=wire.dec64(p.realized),
                    unrealizedPnl=wire.dec64(p.unrealized()),
                    fees=wire.dec64(p.fees),
                    markPx=None if p.mark is None else round(p.mark),
                )
            )
        return rows

    def _limit_rows(self) -> list[dict]:
        """Every limit that is set, with its current use where the oms measures one: first the limits in
        force for each strategy and instrument in play (effective values, inherited or not), then every
        other configured value at its own scope (use 0: nothing measured there)."""
        rows = []
        emitted: set[tuple[str, int, int]] = set()

        def row(name: str, sid: int, iid: int, value: Decimal | None, used) -> None:
            if value is not None and (name, sid, iid) not in emitted:
                emitted.add((name, sid, iid))
                rows.append(
                    dict(
                        name=name,
                        strategyId=sid,
                        instrumentId=iid,
                        value=wire.dec64(value),
                        used=wire.dec64(used),
                    )
                )

        g = self.limits.get
        daily = self.day.daily(self.ledger.desk_total)
        row(
            "max_gross_exposure",
            DESK,
            DESK,
            g("max_gross_exposure"),
            Fraction(self.exposure.gross, EXPOSURE_SCALE),
        )
        row("daily_loss", DESK, DESK, g("daily_loss"), max(-daily, Fraction(0)))
        strategies = sorted(
            set(self.config.strategies)
            | set(self.risk.open_orders)
            | {s for (s, _i) in self.exposure.strategy}
        )
        for sid in strategies:
            row("max_open_orders", sid, DESK, g("max_open_orders", sid), self.risk.open_orders.get(sid, 0))
            row("order_rate", sid, DESK, g("order_rate", sid), self.risk.rate_used(sid, self.now))
            if sid != DESK:  # strategy 0 (a manual book) has no loss limit of its own: (0, 0) is the desk's
                total = self.ledger.totals.get(("s", sid), Fraction(0))
                row(
                    "daily_loss",
                    sid,
                    DESK,
                    self.limits.at("daily_loss", sid),
                    max(-self.day.owner_daily(("s", sid), total), 0),
                )
            last = self.last_seen.get(sid)
            row(
                "deadman_ms",
                sid,
                DESK,
                g("deadman_ms", sid),
                0 if last is None else (self.now - last) // 1_000_000,
            )
        for (sid, iid), (net, wb, ws) in sorted(self.exposure.strategy.items()):
            inst = self.catalog.by_id(iid)
            row(
                "max_position",
                sid,
                iid,
                g("max_position", sid, iid),
                inst.qty(max(abs(net + wb), abs(net - ws))),
            )
            row("max_order_qty", sid, iid, g("max_order_qty", sid, iid), 0)
            row("max_order_notional", sid, iid, g("max_order_notional", sid, iid), 0)
            row("price_band_bps", sid, iid, g("price_band_bps", sid, iid), 0)
        for iid, window in sorted(self.risk.vol.items()):
            vol = window.realized_bps(self.now, self.risk.resolved(DESK, iid).vol_window_ns)
            row("vol_threshold_bps", DESK, iid, g("vol_threshold_bps", DESK, iid), vol)
        for (name, sid, iid), value in self.limits.items():
            row(name, sid, iid, value, 0)
        return rows

    # -- periodic status ---------------------------------------------------------------------------
    def _status(self) -> None:
        accounts = sorted(
            {owner for (kind, owner, _i) in self.ledger.positions if kind == ACCOUNT}
            | {self.config.account_id}
        )
        for account in accounts:
            self._account_state(account)
        self._kill_state()
        for key in sorted(self.ledger.dirty):
            self._position_update(key)
        # next one after the time being advanced to: a long quiet gap publishes once, not once per interval
        next_ts = max(self.now, self.advancing_to) + self.config.status_interval_ms * 1_000_000
        self.timers.schedule(("status",), next_ts)

    def _account_state(self, account: int) -> None:
        ledger = self.ledger
        gross = net_exposure = 0
        for (a, iid), row in self.exposure.account.items():
            if a != account or not row[0]:
                continue
            mark2 = self.exposure.mark2.get(iid, 0)
            units = self.exposure.values[iid].units(row[0], mark2)
            gross += units
            net_exposure += units if row[0] > 0 else -units
        total = ledger.totals.get((ACCOUNT, account), Fraction(0))
        self.out.account_state(
            wire.account_state(
                accountId=account,
                ts=self.now,
                realizedPnl=wire.dec64(ledger.realized_desk(ACCOUNT, account)),
                unrealizedPnl=wire.dec64(ledger.unrealized_desk(ACCOUNT, account)),
                dailyPnl=wire.dec64(self.day.owner_daily((ACCOUNT, account), total)),
                grossExposure=wire.dec64(Fraction(gross, EXPOSURE_SCALE)),
                netExposure=wire.dec64(Fraction(net_exposure, EXPOSURE_SCALE)),
                openOrders=sum(1 for o in self.working.values() if o.account_id == account),
                killEngaged=self.kill.engaged,
                seq=self._seq(),
            )
        )
