"""Answers for requests the oms refuses because it could not journal them (its WAL cannot be written).

The engine never sees such a request (acting on an input the WAL does not hold would make a state that
no replay can rebuild), so the daemon answers it itself; the one exception is engaging the kill switch,
which stops trading and so is always allowed (announced as not surviving a restart). Refusals are an
ExecutionReport Rejected / CancelRejected / ReplaceRejected with Reason.Other, and for manual orders
and control commands a ControlAck Refused, all with a text that starts with WAL_REFUSAL (the CLI maps
it to "unhealthy", exit 4). These messages carry execId 0 and seq 0: they are not part of the engine's
sequence. A RiskEvent announces the failure once per episode.
"""

from __future__ import annotations

from core.codec.messages import (
    AckStatus,
    CancelAll,
    CancelOrder,
    ExecType,
    Flatten,
    KillAction,
    KillSwitch,
    NewOrder,
    OrderFlags,
    OrdStatus,
    OrdType,
    Reason,
    ReplaceOrder,
    RiskEventType,
    SetLimit,
    Side,
    TimeInForce,
    decode,
)
from core.control.errors import WAL_REFUSAL
from core.oms import wire
from core.risk.operator import SYSTEM

ZERO = wire.dec64(0)


def refusal_text(error: BaseException) -> str:
    return f"{WAL_REFUSAL}: {error}"


def refusals(payload: bytes, text: str, ts: int) -> list[tuple[str, int, bytes]]:
    """(OmsOutputs method, client id, payload) answering a request that was not journaled."""
    try:
        m = decode(payload)
    except Exception:
        return []
    if isinstance(m, NewOrder):
        out = [("execution_report", 0, _report(m, ExecType.Rejected, text, ts))]
        if int(m.flags or 0) & OrderFlags.manual:
            out.append(("control_ack", m.clientId, _ack(m, text, ts)))
        return out
    if isinstance(m, CancelOrder):
        return [("execution_report", 0, _report(m, ExecType.CancelRejected, text, ts))]
    if isinstance(m, ReplaceOrder):
        return [("execution_report", 0, _report(m, ExecType.ReplaceRejected, text, ts))]
    if isinstance(m, KillSwitch | Flatten | CancelAll | SetLimit):
        return [("control_ack", m.clientId, _ack(m, text, ts))]
    return []


def is_kill_engage(payload: bytes) -> bool:
    try:
        m = decode(payload)
    except Exception:
        return False
    return isinstance(m, KillSwitch) and m.action == KillAction.Engage


def unjournaled_kill_event(text: str, ts: int) -> bytes:
    return wal_failure_event(
        f"kill switch engaged but NOT journaled: it will not survive an oms restart ({text})",
        ts,
        RiskEventType.KillEngaged,
    )


def wal_failure_event(text: str, ts: int, event_type: RiskEventType = RiskEventType.CheckFired) -> bytes:
    return wire.risk_event(
        ts=ts,
        eventType=event_type,
        reason=Reason.Other,
        strategyId=0,
        instrumentId=0,
        clOrdId=0,
        correlationId=0,
        value=ZERO,
        limit=ZERO,
        operator=SYSTEM,
        seq=0,
        text=text,
    )


def _ack(m, text: str, ts: int) -> bytes:
    return wire.control_ack(
        correlationId=m.correlationId,
        clientId=m.clientId,
        status=AckStatus.Refused,
        reason=Reason.Other,
        ts=ts,
        text=text,
    )


def _report(m, exec_type: ExecType, text: str, ts: int) -> bytes:
    new = isinstance(m, NewOrder)
    return wire.execution_report(
        orderId=0 if new else m.orderId,
        clOrdId=m.clOrdId,
        origClOrdId=0 if new else m.origClOrdId,
        strategyId=m.strategyId,
        clientId=m.clientId,
        correlationId=m.correlationId,
        instrumentId=m.instrumentId,
        venueId=m.venueId,
        venueOrderId="",
        execId=0,
        execType=exec_type,
        ordStatus=OrdStatus.Rejected,
        side=_known(m.side, Side.Buy) if new else Side.Buy,
        ordType=_known(m.ordType, OrdType.Limit) if new else OrdType.Limit,
        timeInForce=_known(m.timeInForce, TimeInForce.GTC) if new else TimeInForce.GTC,
        flags=int(m.flags or 0) if new else 0,
        price=m.price if not isinstance(m, CancelOrder) else None,
        qty=m.qty if not isinstance(m, CancelOrder) else 0,
        lastPx=None,
        lastQty=0,
        cumQty=0,
        leavesQty=0,
        avgPx=ZERO,
        fee=ZERO,
        reason=Reason.Other,
        transactTs=0,
        ts=ts,
        seq=0,
        text=text,
    )


def _known(value, default):
    return default if value is None or value.is_unknown else value
