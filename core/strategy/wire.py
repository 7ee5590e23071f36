"""Encoding the strategy host's requests with the generated codecs: NewOrder, CancelOrder, ReplaceOrder
and Heartbeat, each one complete SBE message (header included), ready to offer on the bus."""

from __future__ import annotations

from core.codec.messages import (
    CancelOrder,
    DaemonState,
    Heartbeat,
    NewOrder,
    OperatorIdentity,
    OrdType,
    ReplaceOrder,
    Side,
    TimeInForce,
)

_BUF_SIZE = 4096


class RequestEncoder:
    """Encodes into one reusable buffer and returns an immutable copy of the bytes written."""

    def __init__(self) -> None:
        self._buf = bytearray(_BUF_SIZE)

    def new_order(
        self,
        correlation_id: int,
        client_id: int,
        strategy_id: int,
        cl_ord_id: int,
        instrument_id: int,
        venue_id: int,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        flags: int,
        price: int | None,
        qty: int,
        send_ts: int,
        trigger_ts: int,
        operator: OperatorIdentity,
    ) -> bytes:
        n = NewOrder.encode(
            self._buf,
            0,
            correlation_id,
            client_id,
            strategy_id,
            cl_ord_id,
            0,  # orderId: set by the oms
            instrument_id,
            venue_id,
            side,
            ord_type,
            tif,
            flags,
            price,
            qty,
            send_ts,
            trigger_ts,
            operator,
        )
        return bytes(self._buf[:n])

    def cancel_order(
        self,
        correlation_id: int,
        client_id: int,
        strategy_id: int,
        cl_ord_id: int,
        orig_cl_ord_id: int,
        order_id: int,
        instrument_id: int,
        venue_id: int,
        send_ts: int,
        operator: OperatorIdentity,
    ) -> bytes:
        n = CancelOrder.encode(
            self._buf,
            0,
            correlation_id,
            client_id,
            strategy_id,
            cl_ord_id,
            orig_cl_ord_id,
            order_id,
            instrument_id,
            venue_id,
            send_ts,
            operator,
        )
        return bytes(self._buf[:n])

    def replace_order(
        self,
        correlation_id: int,
        client_id: int,
        strategy_id: int,
        cl_ord_id: int,
        orig_cl_ord_id: int,
        order_id: int,
        instrument_id: int,
        venue_id: int,
        price: int | None,
        qty: int,
        send_ts: int,
        operator: OperatorIdentity,
    ) -> bytes:
        n = ReplaceOrder.encode(
            self._buf,
            0,
            correlation_id,
            client_id,
            strategy_id,
            cl_ord_id,
            orig_cl_ord_id,
            order_id,
            instrument_id,
            venue_id,
            price,
            qty,
            send_ts,
            operator,
        )
        return bytes(self._buf[:n])

    def heartbeat(
        self,
        ts: int,
        role: str,
        pid: int,
        state: DaemonState,
        seq: int,
        started_ts: int,
        strategy_id: int,
        counters: list[tuple[str, int]],
        instance: str,
    ) -> bytes:
        n = Heartbeat.encode(
            self._buf,
            0,
            ts,
            _ascii(role, 32),
            pid & 0xFFFF_FFFF,
            state,
            seq,
            started_ts,
            strategy_id,
            [(_ascii(name, 32), value) for name, value in counters],
            instance.encode("utf-8")[:256],
        )
        return bytes(self._buf[:n])


def operator_identity(user: str, host: str, pid: int, tool: str) -> OperatorIdentity:
    return OperatorIdentity(
        user=_ascii(user, 16), host=_ascii(host, 32), pid=pid & 0xFFFF_FFFF, tool=_ascii(tool, 16)
    )


def _ascii(text: str, n: int) -> bytes:
    return text.encode("ascii", "replace")[:n]
