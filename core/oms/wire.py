"""Encoding the oms's outputs with the generated codecs: one function per message, keyword fields with the
schema's names. Operator identities are converted (and truncated to the wire's lengths) once per Operator,
text to the var-data limit.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from core.codec.messages import (
    AccountState,
    BookSnapshot,
    CancelOrder,
    ControlAck,
    Decimal64,
    ExecutionReport,
    Heartbeat,
    KillSwitchState,
    NewOrder,
    OperatorIdentity,
    OrdersSnapshot,
    PositionsSnapshot,
    PositionUpdate,
    Query,
    ReplaceOrder,
    RiskEvent,
    RiskSnapshot,
)
from core.oms.money import decimal64
from core.risk.operator import Operator

MAX_TEXT = 4096
_BUF = bytearray(1 << 16)  # one scratch buffer: the engine is single-threaded, every payload is copied out
_VIEW = memoryview(_BUF)


def _encode(cls, fields: dict) -> bytes:
    """The generated codec's fast path (one pack_into) into the scratch buffer, copied out as bytes."""
    n = cls.encode(_BUF, 0, **fields)
    return bytes(_VIEW[:n])


def dec64(value: Fraction | Decimal | int) -> Decimal64:
    return Decimal64(*decimal64(value))


@lru_cache(maxsize=1024)
def operator_identity(op: Operator) -> OperatorIdentity:
    return OperatorIdentity(
        user=_ascii(op.user, 16), host=_ascii(op.host, 32), pid=op.pid & 0xFFFF_FFFF, tool=_ascii(op.tool, 16)
    )


def _ascii(text: str, n: int) -> bytes:
    return text.encode("ascii", "replace")[:n]


def _text(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) <= MAX_TEXT:
        return raw
    return raw[:MAX_TEXT].decode("utf-8", "ignore").encode("utf-8")


def _fix(fields: dict) -> dict:
    op = fields.get("operator")
    if isinstance(op, Operator):
        fields["operator"] = operator_identity(op)
    for key in ("text", "reason", "killReason"):
        v = fields.get(key)
        if isinstance(v, str):
            fields[key] = _text(v)
    return fields


def execution_report(**f) -> bytes:
    return _encode(ExecutionReport, _fix(f))


def new_order(**f) -> bytes:
    return _encode(NewOrder, _fix(f))


def cancel_order(**f) -> bytes:
    return _encode(CancelOrder, _fix(f))


def replace_order(**f) -> bytes:
    return _encode(ReplaceOrder, _fix(f))


def risk_event(**f) -> bytes:
    return _encode(RiskEvent, _fix(f))


def control_ack(**f) -> bytes:
    return _encode(ControlAck, _fix(f))


def kill_switch_state(**f) -> bytes:
    f["engaged"] = int(f["engaged"])
    return _encode(KillSwitchState, _fix(f))


def position_update(**f) -> bytes:
    return _encode(PositionUpdate, f)


def account_state(**f) -> bytes:
    f["killEngaged"] = int(f["killEngaged"])
    return _encode(AccountState, f)


def orders_snapshot(**f) -> bytes:
    return _encode(OrdersSnapshot, f)


def positions_snapshot(**f) -> bytes:
    return _encode(PositionsSnapshot, f)


def risk_snapshot(**f) -> bytes:
    f["killEngaged"] = int(f["killEngaged"])
    f["limits"] = [dict(r, name=_ascii(r["name"], 32)) for r in f["limits"]]
    return _encode(RiskSnapshot, _fix(f))


def query(**f) -> bytes:
    return _encode(Query, _fix(f))


def heartbeat(**f) -> bytes:
    return _encode(Heartbeat, f)


def book_snapshot(**f) -> bytes:
    return _encode(BookSnapshot, f)
