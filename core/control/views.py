"""The oms's query replies as plain data: the stable JSON shapes of `aerodesk orders | positions | risk
--json` (docs/cli-json.md) and the rows their tables print.

Quantities, prices and money are decimal strings, exact (mantissas scaled by the instrument's
exponents; Decimal64 values as sent); instruments are named by symbol; ids and timestamps are integers.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from core.codec.messages import OrdStatus
from core.control.operator import describe
from core.daemons.oms.store import OmsConfig

_KEBAB = re.compile(r"(?<!^)(?=[A-Z])")


def kebab(name: str) -> str:
    """PendingNew -> pending-new."""
    return _KEBAB.sub("-", name).lower()


ORDER_STATUSES = tuple(kebab(s.name) for s in OrdStatus)


def _d64(value: Any) -> Decimal:
    m, e = value.mantissa, value.exponent
    return Decimal(m).scaleb(e)


def dec_text(value: Decimal) -> str:
    """A decimal string without exponent notation and without trailing zeros past the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _enum(value: Any) -> str:
    return str(int(value)) if value.is_unknown else value.name.lower()


class Views:
    """Converts reply pages with the configuration the oms runs with (instruments, accounts, venues)."""

    def __init__(self, config: OmsConfig) -> None:
        self.config = config
        self.catalog = config.catalog

    def symbol(self, instrument_id: int) -> str:
        inst = self.catalog.get(instrument_id)
        return inst.symbol if inst is not None else str(instrument_id)

    def _qty(self, instrument_id: int, mantissa: int) -> str:
        inst = self.catalog.get(instrument_id)
        return dec_text(inst.qty(mantissa)) if inst is not None else str(mantissa)

    def _price(self, instrument_id: int, mantissa: int | None) -> str | None:
        if mantissa is None:
            return None
        inst = self.catalog.get(instrument_id)
        return dec_text(inst.price(mantissa)) if inst is not None else str(mantissa)

    # -- orders -----------------------------------------------------------------------------------
    def orders(self, pages: list[Any]) -> list[dict[str, Any]]:
        out = []
        for page in pages:
            for o in page.orders:
                iid = o.instrumentId
                out.append(
                    {
                        "order_id": o.orderId,
                        "cl_ord_id": o.clOrdId,
                        "strategy": o.strategyId,
                        "account": self.config.risk.account_of(o.strategyId),
                        "instrument": self.symbol(iid),
                        "venue": self.config.venue_name(o.venueId),
                        "side": _enum(o.side),
                        "type": _enum(o.ordType),
                        "tif": _enum(o.timeInForce),
                        "price": self._price(iid, o.price),
                        "qty": self._qty(iid, o.qty),
                        "filled_qty": self._qty(iid, o.cumQty),
                        "leaves_qty": self._qty(iid, o.leavesQty),
                        "status": kebab(o.ordStatus.name) if not o.ordStatus.is_unknown else "unknown",
                        "created_ts": o.createdTs,
                        "updated_ts": o.updatedTs,
                    }
                )
        return out

    # -- positions --------------------------------------------------------------------------------
    def positions(self, pages: list[Any]) -> dict[str, list[dict[str, Any]]]:
        """Account rows and strategy rows.

        The reply lists every account position first (strategyId 0), then every strategy position,
        each sorted by owner then instrument (core.oms.queries). Strategy ids are non-zero unless the
        manual book is strategy 0 (risk.toml [desk] manual_strategy_id = 0): then its rows also carry
        strategyId 0, and the first row whose (account, instrument) repeats one already seen is where
        they start (every strategy position has its account position)."""
        rows = [p for page in pages for p in page.positions]
        accounts, strategies = [], []
        seen: set[tuple[int, int]] = set()
        in_strategies = False
        for p in rows:
            key = (p.accountId, p.instrumentId)
            if not in_strategies and (p.strategyId != 0 or key in seen):
                in_strategies = True
            seen.add(key)
            row = self._position(p)
            if in_strategies:
                strategies.append({"strategy": p.strategyId, **row})
            else:
                accounts.append(row)
        return {"accounts": accounts, "strategies": strategies}

    def _position(self, p: Any) -> dict[str, Any]:
        iid = p.instrumentId
        flat = p.netQty == 0
        return {
            "account": p.accountId,
            "instrument": self.symbol(iid),
            "qty": self._qty(iid, p.netQty),
            "avg_price": None if flat else dec_text(_d64(p.avgPx)),
            "realized_pnl": dec_text(_d64(p.realizedPnl)),
            "unrealized_pnl": dec_text(_d64(p.unrealizedPnl)),
            "fees": dec_text(_d64(p.fees)),
            "mark_price": self._price(iid, p.markPx),
        }

    # -- risk -------------------------------------------------------------------------------------
    def risk(self, pages: list[Any], kill_state: Any | None, events: list[Any]) -> dict[str, Any]:
        first = pages[0]
        engaged = bool(int(first.killEngaged))
        kill: dict[str, Any] = {
            "engaged": engaged,
            "reason": first.killReason or None,
            "by": None,
            "since": None,
        }
        if kill_state is not None and bool(int(kill_state.engaged)) == engaged:
            kill["by"] = describe(kill_state.operator)
            kill["since"] = kill_state.changedTs or None
        limits = [
            {
                "name": row.name,
                "strategy": row.strategyId,
                "instrument": self.symbol(row.instrumentId) if row.instrumentId else None,
                "value": dec_text(_d64(row.value)),
                "used": dec_text(_d64(row.used)),
            }
            for page in pages
            for row in page.limits
        ]
        return {
            "kill_switch": kill,
            "daily_pnl": dec_text(_d64(first.dailyPnl)),
            "limits": limits,
            "events": [self.event(e) for e in events],
        }

    def event(self, e: Any) -> dict[str, Any]:
        return {
            "ts": e.ts,
            "seq": e.seq,
            "type": kebab(e.eventType.name) if not e.eventType.is_unknown else str(int(e.eventType)),
            "reason": e.reason.name if not e.reason.is_unknown else str(int(e.reason)),
            "strategy": e.strategyId,
            "instrument": self.symbol(e.instrumentId) if e.instrumentId else None,
            "value": dec_text(_d64(e.value)),
            "limit": dec_text(_d64(e.limit)),
            "by": describe(e.operator),
            "text": e.text or "",
        }
