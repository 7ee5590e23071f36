"""The oms write-ahead log: every state-changing input, journaled (raw SBE bytes, receive time) before it
takes effect; replaying it through a fresh engine rebuilds the identical state and outputs.

What is journaled (is_journaled):
- order requests: NewOrder, CancelOrder, ReplaceOrder;
- venue reports: ExecutionReport (acks, fills, cancels, restatements ...);
- control: KillSwitch, Flatten, CancelAll, SetLimit;
- reference prices: every BookSnapshot the engine is given (its best bid and ask make the mid that
  the price band, notional of market orders, volatility throttle, exposure marks and unrealized
  PnL use). The host feeds the engine top-of-book snapshots when the mid changes, so each one
  journaled is one the engine used;
- strategy heartbeats (dead-man) and the oms's own clock ticks (a Heartbeat with role
  "oms.clock", see clock_tick): time passing is an input, so deadlines (dead-man, flatten,
  cancel retries, the daily roll, the periodic status) fire at the same inputs in replay;
- the oms's start, when a dead-man is armed (a Heartbeat with role "oms.start", see start_marker):
  the grace it gives the strategies is given again in replay;
- the venues' ControlAck that ends a reconciliation.
Not journaled: Query (read-only: answering changes nothing) and heartbeats of other daemons.

The configuration (instruments.toml, risk.toml and fees) is not in the WAL: replay must be given the
configuration the log was written with. Limit changes at run time are SetLimit inputs, so they are in
it. The daemon keeps a copy of the risk.toml it started with beside its WAL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from core.codec.messages import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    BookSnapshot,
    CancelAll,
    CancelOrder,
    ControlAck,
    ExecutionReport,
    Flatten,
    Heartbeat,
    KillSwitch,
    NewOrder,
    ReplaceOrder,
    SetLimit,
    decode,
    decode_header,
)
from core.instruments import InstrumentCatalog, load_instruments
from core.journal import Damage, DamageKind, FsyncPolicy, JournalError, JournalReader, JournalWriter
from core.oms import wire
from core.oms.engine import CLOCK_ROLE, OMS_CLIENT_ID, START_ROLE, OmsEngine
from core.oms.fees import FeeSchedule
from core.oms.outputs import OmsOutputs, OutputCollector
from core.risk.config import RiskConfig, load_risk_config

_ALWAYS = frozenset(
    m.TEMPLATE_ID
    for m in (
        NewOrder,
        CancelOrder,
        ReplaceOrder,
        ExecutionReport,
        BookSnapshot,
        KillSwitch,
        Flatten,
        CancelAll,
        SetLimit,
    )
)
_HEARTBEAT = Heartbeat.TEMPLATE_ID
_CONTROL_ACK = ControlAck.TEMPLATE_ID


def is_journaled(payload: bytes | memoryview) -> bool:
    """Whether the engine's state may change by this input (then journal it before applying it)."""
    try:
        header = decode_header(payload)
    except Exception:
        return False  # the engine counts it as bad input and changes nothing
    if header.schemaId != SCHEMA_ID:
        return False
    template = header.templateId
    if template in _ALWAYS:
        return True
    if template == _HEARTBEAT:
        try:
            hb = decode(payload)
        except Exception:
            return False
        return bool(hb.strategyId) or hb.role == CLOCK_ROLE or hb.role == START_ROLE
    if template == _CONTROL_ACK:
        try:
            return decode(payload).clientId == OMS_CLIENT_ID
        except Exception:
            return False
    return False


def clock_tick(ts: int) -> bytes:
    """The input that only advances the engine's time to ts (journaled like any other)."""
    return wire.heartbeat(
        ts=ts, role=CLOCK_ROLE, pid=0, state=2, seq=0, startedTs=0, strategyId=0, counters=(), instance=b""
    )


def start_marker(ts: int) -> bytes:
    """The input that says the oms started at ts (it gives the dead-man a grace: see restart_grace)."""
    return wire.heartbeat(
        ts=ts, role=START_ROLE, pid=0, state=2, seq=0, startedTs=ts, strategyId=0, counters=(), instance=b""
    )


class JournaledEngine:
    """An engine behind its WAL: journal first, then apply. What the oms daemon's duty cycle calls."""

    def __init__(self, engine: OmsEngine, writer: JournalWriter) -> None:
        self.engine = engine
        self.writer = writer
        self.journaled = 0
        self.last_ts = 0  # the last record journaled (what an engine snapshot names as its last)
        self.last_payload: bytes | memoryview | None = None

    def on_message(self, ts: int, payload: bytes | memoryview, stream_id: int = 0) -> None:
        if is_journaled(payload):
            self.writer.append(payload, stream_id=stream_id, receive_time_ns=ts)
            self.journaled += 1
            self.last_ts, self.last_payload = ts, payload
        self.engine.on_message(ts, payload)

    def on_idle(self, now: int) -> int:
        """Tick the engine when a deadline has come; returns 1 when it did (work done)."""
        due = self.engine.next_deadline()
        if due is None or due > now:
            return 0
        self.on_message(now, clock_tick(now))
        return 1


def open_wal(path: str | Path, instance: str, fsync: FsyncPolicy | None = None) -> JournalWriter:
    """The WAL's journal writer (fsync before every append returns unless told otherwise)."""
    return JournalWriter(
        path,
        schema_id=SCHEMA_ID,
        schema_version=SCHEMA_VERSION,
        instance=instance,
        fsync=fsync or FsyncPolicy.every_record(),
    )


class WalDamageError(JournalError):
    """The WAL lost records before its end: replaying it would not rebuild the state it recorded."""


def wal_records(journal_dir: str | Path, damage: list[Damage] | None = None) -> Iterator[tuple[int, bytes]]:
    """(receive time, payload) of every record, in order, up to the first damage (appended to `damage`).

    A torn tail (the last record cut short by a crash while it was written) ends the log normally: its
    input was never applied, since the host applies an input only once its append returned.
    """
    with JournalReader(journal_dir, expected_schema_id=SCHEMA_ID) as reader:
        for rec in reader.records():
            yield rec.receive_time_ns, rec.payload
        if damage is not None:
            damage.extend(reader.damage)


def replay(
    records: Iterable[tuple[int, bytes]],
    catalog: InstrumentCatalog,
    config: RiskConfig,
    outputs: OmsOutputs | None = None,
    fees: FeeSchedule | None = None,
    venue_ids: dict[str, int] | None = None,
) -> OmsEngine:
    """A fresh engine fed the recorded inputs at their recorded times."""
    engine = OmsEngine(
        catalog, config, outputs if outputs is not None else OutputCollector(), fees=fees, venue_ids=venue_ids
    )
    for ts, payload in records:
        engine.on_message(ts, payload)
    return engine


def replay_wal(
    journal_dir: str | Path,
    catalog: InstrumentCatalog | None = None,
    config: RiskConfig | None = None,
    outputs: OmsOutputs | None = None,
    fees: FeeSchedule | None = None,
    venue_ids: dict[str, int] | None = None,
) -> OmsEngine:
    """Rebuild the engine from its WAL (shipped configs unless given; they must be those it ran with).

    Raises WalDamageError when records are lost anywhere but a torn tail; a torn tail is counted in
    the engine's counters ("wal_torn_tail").
    """
    cat = catalog if catalog is not None else load_instruments()
    cfg = config if config is not None else load_risk_config(catalog=cat)
    damage: list[Damage] = []
    engine = replay(wal_records(journal_dir, damage), cat, cfg, outputs, fees, venue_ids)
    check_replay_damage(journal_dir, damage, engine)
    return engine


def check_replay_damage(journal_dir: str | Path, damage: list[Damage], engine: OmsEngine) -> None:
    """WalDamageError when records were lost anywhere but a torn tail; a torn tail is counted in the
    engine's counters ("wal_torn_tail")."""
    serious = [d for d in damage if d.loses_data and d.kind is not DamageKind.TORN_TAIL]
    if serious:
        raise WalDamageError(f"WAL {journal_dir}: {serious[0]} (replayed up to it: the state would be wrong)")
    engine.counters["wal_torn_tail"] = sum(1 for d in damage if d.kind is DamageKind.TORN_TAIL)
