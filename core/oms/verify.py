"""`aerodesk replay --verify`: re-run the oms's own inputs and check it says exactly what it said.

    result = verify_journal(recording_dir)            # the WAL defaults to <recording>/../wal
    print(result.summary()); exit(0 if result.ok else 1)

The oms is the sequencer: its WAL is every state-changing input in the order it acted on them, with
the time it stamped on each. verify_journal feeds the whole WAL, at those recorded times, through a
fresh engine configured as the oms was (the configuration copy beside the WAL,
core/daemons/oms/store.py) and collects its outputs with the WAL record that produced each. It
then reads what the recorder journaled on the state and venue_orders streams and compares, per
stream, message by message and byte for byte.

A recording covers one desk session; the WAL covers every session of the instance. Each oms process
publishes through its own session id, so the recorded outputs of one process are a contiguous run of
the replayed outputs: the run is aligned on its first message and compared from there. A gap between
two processes' runs is what the first process never sent (it died after journaling an input but
before publishing its outputs) and is reported as a note, not a divergence.

Left out of the comparison, because they are not outputs of WAL inputs: query replies (snapshot
pages, and acks answering a Query recorded on the control stream), reconciliation queries on
venue_orders (sent by the daemon when a venue joins), and the daemon's own refusals of inputs it could
not journal (text starting with WAL_REFUSAL; their inputs are not in the WAL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.bus.config import BusConfig, load_bus_config
from core.codec.messages import (
    SCHEMA_ID,
    ControlAck,
    OrdersSnapshot,
    PositionsSnapshot,
    Query,
    RiskSnapshot,
    decode,
)
from core.control.errors import WAL_REFUSAL
from core.daemons.oms.store import WalStore
from core.journal import Damage, DamageKind, JournalError, JournalReader
from core.journal.paths import WAL_DIR_NAME
from core.oms.engine import OmsEngine
from core.oms.wal import wal_records

STATE, VENUE_ORDERS = "state", "venue_orders"
_SNAPSHOTS = frozenset(m.TEMPLATE_ID for m in (OrdersSnapshot, PositionsSnapshot, RiskSnapshot))
_REFUSAL = WAL_REFUSAL.encode()


class VerifyError(JournalError):
    """The journal or the WAL cannot be verified (missing, unreadable, no configuration copy)."""


@dataclass(frozen=True)
class Divergence:
    stream: str  # "state" or "venue_orders"
    index: int  # position among the compared messages of that stream (0-based)
    oms_session: int  # which oms process (1 = the first seen in the recording)
    recorded: str | None  # the recorded message, decoded (None: the recording has no more)
    replayed: str | None  # the replayed message, decoded (None: the replay has no more)
    wal_sequence: int | None  # the WAL record whose outputs the replayed message belongs to
    wal_time_ns: int | None

    def __str__(self) -> str:
        where = f"{self.stream} message {self.index} (oms process {self.oms_session})"
        wal = (
            f", WAL record {self.wal_sequence} at {self.wal_time_ns}" if self.wal_sequence is not None else ""
        )
        return f"{where}{wal}:\n  recorded: {self.recorded}\n  replayed: {self.replayed}"


@dataclass
class VerifyResult:
    journal: Path
    wal: Path
    wal_records: int = 0
    replayed_outputs: int = 0
    compared: dict[str, int] = field(default_factory=dict)  # stream -> messages found equal
    oms_sessions: int = 0
    divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None and sum(self.compared.values()) > 0

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.compared.items())) or "nothing"
        head = (
            f"verified {self.journal} against the WAL {self.wal}: {self.wal_records} WAL records replayed, "
            f"{counts} messages equal, {self.oms_sessions} oms process(es)"
        )
        if self.divergence is not None:
            head = f"DIVERGED: {self.divergence}\n{head}"
        elif not self.ok:
            head = f"NOTHING VERIFIED: the recording holds no oms output\n{head}"
        else:
            head = f"OK: {head}"
        return "\n".join([head, *(f"note: {n}" for n in self.notes)])


@dataclass(frozen=True)
class _Out:
    payload: bytes
    wal_index: int
    wal_time_ns: int


class _Collector:
    """The replaying engine's outputs, per stream, tagged with the WAL record being applied."""

    def __init__(self) -> None:
        self.streams: dict[str, list[_Out]] = {STATE: [], VENUE_ORDERS: []}
        self.index = -1
        self.ts = 0

    def _state(self, payload: bytes) -> None:
        self.streams[STATE].append(_Out(payload, self.index, self.ts))

    def venue_order(self, _venue_id: int, payload: bytes) -> None:
        self.streams[VENUE_ORDERS].append(_Out(payload, self.index, self.ts))

    def control_ack(self, _client_id: int, payload: bytes) -> None:
        self._state(payload)

    def query_reply(self, _client_id: int, _payload: bytes) -> None:
        pass  # queries are not in the WAL: none is replayed

    execution_report = position_update = account_state = risk_event = kill_switch_state = _state


def verify_journal(
    journal_dir: str | Path, wal_dir: str | Path | None = None, *, bus_config: BusConfig | None = None
) -> VerifyResult:
    """Replay the WAL through a fresh oms and compare its outputs with the recording's (see above)."""
    journal = Path(journal_dir)
    wal = Path(wal_dir) if wal_dir is not None else journal.parent / WAL_DIR_NAME
    result = VerifyResult(journal, wal)
    for path, what in ((journal, "recording"), (wal, "WAL")):
        if not path.is_dir():
            raise VerifyError(f"no {what} at {path}")
    store = WalStore(wal)
    if not store.has_saved_config():
        raise VerifyError(
            f"the WAL {wal} has no copy of the configuration it was written with ({store.config_dir}): "
            "it cannot be replayed faithfully"
        )
    bus = bus_config or load_bus_config()
    # the recording first: the oms journals an input before it publishes what it does, so a WAL read
    # after the recording holds the input of every recorded output, even while the desk runs on
    recorded = _recorded(journal, bus, result)
    replayed = _replay(store, result)
    for stream in (STATE, VENUE_ORDERS):
        result.compared[stream] = 0
        if _compare(stream, recorded[stream], replayed[stream], result):
            break
    return result


def _replay(store: WalStore, result: VerifyResult) -> dict[str, list[_Out]]:
    config = store.load_saved()
    sink = _Collector()
    engine = OmsEngine(config.catalog, config.risk, sink, fees=config.fees, venue_ids=config.venue_ids)
    damage: list[Damage] = []
    for i, (ts, payload) in enumerate(wal_records(store.wal_dir, damage)):
        sink.index, sink.ts = i, ts
        engine.on_message(ts, payload)
        result.wal_records = i + 1
    lost = [d for d in damage if d.loses_data and d.kind is not DamageKind.TORN_TAIL]
    if lost:
        raise VerifyError(f"the WAL {store.wal_dir} is damaged: {lost[0]}")
    if damage:
        result.notes.append(f"the WAL ends with a torn record (a crash while it was written): {damage[0]}")
    result.replayed_outputs = sum(len(v) for v in sink.streams.values())
    return sink.streams


def _recorded(journal: Path, bus: BusConfig, result: VerifyResult) -> dict[str, list[list[bytes]]]:
    """Per stream, the oms's recorded outputs as runs, one per publisher session (oms process)."""
    ids = {bus.stream(s).stream_id: s for s in (STATE, VENUE_ORDERS)}
    control = bus.stream("control").stream_id
    queries: set[int] = set()
    runs: dict[str, dict[int, list[bytes]]] = {STATE: {}, VENUE_ORDERS: {}}
    order: list[int] = []
    skipped = {"query replies": 0, "reconciliation queries": 0, "refusals of unjournaled inputs": 0}
    try:
        with JournalReader(journal, expected_schema_id=SCHEMA_ID, on_damage="skip") as reader:
            for rec in reader.records(stream_ids=[control, *ids]):
                if rec.stream_id == control:
                    if rec.template_id == Query.TEMPLATE_ID:
                        queries.add(decode(rec.payload).correlationId)
                    continue
                stream = ids[rec.stream_id]
                why = _left_out(stream, rec.template_id, rec.payload, queries)
                if why:
                    skipped[why] += 1
                    continue
                if rec.session_id not in order and stream == STATE:
                    order.append(rec.session_id)
                runs[stream].setdefault(rec.session_id, []).append(rec.payload)
            for d in reader.damage:
                result.notes.append(f"recording damage: {d}")
    except JournalError as e:
        raise VerifyError(f"cannot read the recording {journal}: {e}") from None
    for why, n in skipped.items():
        if n:
            result.notes.append(f"{n} {why} left out of the comparison")
    result.oms_sessions = len(order) or len(runs[VENUE_ORDERS])
    # venue_orders sessions follow the state sessions of the same processes, in first-seen order
    return {
        STATE: [runs[STATE][s] for s in order],
        VENUE_ORDERS: list(runs[VENUE_ORDERS].values()),
    }


def _left_out(stream: str, template: int, payload: bytes, queries: set[int]) -> str:
    if stream == VENUE_ORDERS:
        return "reconciliation queries" if template == Query.TEMPLATE_ID else ""
    if template in _SNAPSHOTS:
        return "query replies"
    if _REFUSAL in payload:
        return "refusals of unjournaled inputs"
    if template == ControlAck.TEMPLATE_ID and decode(payload).correlationId in queries:
        return "query replies"
    return ""


def _compare(stream: str, runs: list[list[bytes]], replayed: list[_Out], result: VerifyResult) -> bool:
    """Compare each recorded run with the replayed outputs; True (and result.divergence) on the first
    difference."""
    pos = 0
    for n, run in enumerate(runs, start=1):
        start = _find(replayed, run[0], pos)
        if start is None:
            result.divergence = Divergence(
                stream, result.compared[stream], n, _text(run[0]), _near(replayed, pos), None, None
            )
            return True
        if start > pos and n > 1:
            first, last = replayed[pos], replayed[start - 1]
            result.notes.append(
                f"{stream}: {start - pos} outputs of WAL records {first.wal_index}..{last.wal_index} were "
                f"never published (oms process {n - 1} stopped before sending them)"
            )
        for i, payload in enumerate(run):
            out = replayed[start + i] if start + i < len(replayed) else None
            if out is None or out.payload != payload:
                result.divergence = Divergence(
                    stream,
                    result.compared[stream],
                    n,
                    _text(payload),
                    _text(out.payload) if out is not None else None,
                    out.wal_index if out is not None else None,
                    out.wal_time_ns if out is not None else None,
                )
                return True
            result.compared[stream] += 1
        pos = start + len(run)
    if runs and pos < len(replayed):
        result.notes.append(
            f"{stream}: {len(replayed) - pos} replayed outputs after the recording's last (later sessions, "
            "or sent after the recorder stopped)"
        )
    return False


def _find(replayed: list[_Out], payload: bytes, start: int) -> int | None:
    for i in range(start, len(replayed)):
        if replayed[i].payload == payload:
            return i
    return None


def _near(replayed: list[_Out], pos: int) -> str | None:
    return _text(replayed[pos].payload) if pos < len(replayed) else None


def _text(payload: bytes) -> str:
    try:
        m = decode(payload)
        return f"{m.NAME} {m.to_dict()}"
    except Exception as e:  # a recorded frame the codec cannot read is shown raw
        return f"undecodable ({e}): {payload.hex()}"
