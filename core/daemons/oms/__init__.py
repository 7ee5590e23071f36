"""The oms daemon: the oms engine (core.oms) hosted on the bus, behind its write-ahead log.

    python -m core.daemons run oms --instance I --profile P        (the supervisor starts it so)

At start it
1. opens its WAL (<data>/<instance>/wal, per instance: it outlives `down` / `up`), which locks it
   against a second oms and cuts a torn tail left by a crash;
2. takes the configuration the WAL was begun with (store.py; a fresh WAL saves the current one);
3. replays the WAL (outputs discarded: they were published when first made), rebuilding orders,
   positions, PnL, the kill switch and the daily PnL exactly: on top of the engine snapshot its last
   clean stop saved when that snapshot is this WAL's (core/oms/snapshot.py), else through a fresh
   engine;
4. once on the bus, applies limit changes made in risk.toml since the WAL began (journaled SetLimit
   inputs), and reconciles with its venues (reconcile.py) before it takes new orders.
Then it runs the agent (agent.py), which saves the engine snapshot at a clean stop. Its
[daemon.config] is described in config.py.
"""

from __future__ import annotations

import logging
import time

from core.agent.agent import Agent
from core.codec.messages import SCHEMA_ID, SCHEMA_VERSION, Decimal64, SetLimit
from core.daemons.host import DaemonHost
from core.daemons.oms.agent import OmsAgent
from core.daemons.oms.config import OmsDaemonConfig, parse_oms_config
from core.daemons.oms.outputs import DiscardOutputs
from core.daemons.oms.store import ConfigDrift, OmsConfig, WalStore, config_drift
from core.daemons.profile import DaemonSpec
from core.journal import JournalError, JournalWriter
from core.oms.money import decimal64
from core.oms.snapshot import Resumed, SnapshotPlan, config_digest, resume
from core.oms.wal import WalDamageError
from core.oms.wire import operator_identity
from core.risk.operator import Operator

log = logging.getLogger("aerodesk.oms")

CONFIG_OPERATOR = Operator(user="oms", tool="risk.toml")


class OmsStartError(ValueError):
    """The oms cannot start on this WAL (locked by another oms, damaged, unreadable): a message to act on."""


def build(host: DaemonHost, spec: DaemonSpec) -> list[Agent]:
    cfg = parse_oms_config(spec.config)
    current = cfg.files.load()  # a broken configuration stops the start here (ConfigError)
    store = WalStore(cfg.wal_dir) if cfg.wal_dir else WalStore.of_instance(host.instance)
    writer = _open_wal(store, host.instance, cfg)
    try:
        running, drift = _running_config(store, writer, current)
        records = writer.next_sequence
        log.info("oms %s: resuming from its WAL %s (%d records)", host.instance, store.wal_dir, records)
        started = time.monotonic()
        try:
            resumed = resume(
                store.wal_dir,
                running.catalog,
                running.risk,
                DiscardOutputs(),
                fees=running.fees,
                venue_ids=running.venue_ids,
                # a long replay tells the supervisor it is under way (each Starting heartbeat
                # extends the start-up deadline), so a long WAL makes a slow start, not a failed one
                progress=lambda done: host.still_starting({f"{spec.name}.wal.replaying": done}),
            )
            _report_replay_time(host, store, resumed, time.monotonic() - started)
        except (WalDamageError, JournalError) as e:
            raise OmsStartError(
                f"cannot replay the WAL {store.wal_dir}: {e}. Its state cannot be rebuilt; to start afresh "
                "(orders, positions and the kill switch forgotten) move the directory away"
            ) from None
    except BaseException:
        writer.close()
        raise
    agent = OmsAgent(
        spec.name,
        host.bus,
        host.clock,
        resumed.engine,
        writer,
        heartbeat=host.heartbeat,
        reconcile_timeout_ms=cfg.reconcile_timeout_ms,
        connect_wait_ms=cfg.connect_wait_ms,
        fragment_limit=cfg.fragment_limit,
        on_start_inputs=lambda: _limit_inputs(drift, host.clock.time_ns()),
        replayed=resumed.records,
        snapshot=SnapshotPlan(
            store.wal_dir,
            resumed.records,
            resumed.last,
            config_digest(running.catalog, running.risk, running.fees, running.venue_ids),
        ),
        snapshot_every=cfg.snapshot_every,
    )
    return [agent]


def _report_replay_time(host: DaemonHost, store: WalStore, resumed: Resumed, seconds: float) -> None:
    """The WAL outlives `down` / `up`: a start replays the records after the engine snapshot of the
    last clean stop (core/oms/snapshot.py), or all of them. Say how long that took, and warn when it
    took more than a third of the start-up budget: the start was that much slower (the supervisor
    waits while the replay reports progress)."""
    budget_s = host.profile.startup_timeout_ms / 1000
    log.info(
        "oms %s: WAL replayed in %.1f s (%d of its %d records; engine snapshot: %s)",
        host.instance,
        seconds,
        resumed.replayed,
        resumed.records,
        resumed.snapshot,
    )
    if seconds > budget_s / 3:
        log.warning(
            "oms %s: replaying the WAL took %.1f s (the start-up budget is %.0f s, extended while a replay "
            "reports progress). A clean stop (`aerodesk down`) saves a snapshot that the next start resumes "
            "from. To start afresh (orders, positions, PnL and the kill switch forgotten): `aerodesk down`, "
            "then move %s away",
            host.instance,
            seconds,
            budget_s,
            store.wal_dir,
        )


def _open_wal(store: WalStore, instance: str, cfg: OmsDaemonConfig) -> JournalWriter:
    try:
        return JournalWriter(
            store.wal_dir,
            schema_id=SCHEMA_ID,
            schema_version=SCHEMA_VERSION,
            instance=instance,
            fsync=cfg.fsync,
            max_segment_bytes=cfg.segment_bytes,
        )
    except JournalError as e:
        raise OmsStartError(f"cannot open the WAL: {e}") from None


def _running_config(
    store: WalStore, writer: JournalWriter, current: OmsConfig
) -> tuple[OmsConfig, ConfigDrift]:
    """The configuration to replay and run with, and how the current files differ from it."""
    none = ConfigDrift([], [], [])
    if writer.next_sequence == 0:
        store.save_config(current.files)
        return store.load_saved(), none
    if not store.has_saved_config():
        log.warning(
            "oms: the WAL %s has no copy of the configuration it was written with: replaying it with the "
            "current files (saved beside it from now on)",
            store.wal_dir,
        )
        store.save_config(current.files)
        return store.load_saved(), none
    saved = store.load_saved()
    drift = config_drift(saved, current)
    if drift.other:
        log.warning(
            "oms: %s changed since the WAL %s began; the oms keeps running with the WAL's copy in %s "
            "(start a new WAL to use the new files)",
            ", ".join(drift.other),
            store.wal_dir,
            store.config_dir,
        )
    for name, sid, iid in drift.removed_limits:
        log.warning(
            "oms: limit %s (strategy %s, instrument %s) was removed from risk.toml: a running WAL cannot "
            "unset a limit, it stays in force",
            name,
            sid or "any",
            iid or "any",
        )
    return saved, drift


def _limit_inputs(drift: ConfigDrift, now: int) -> list[tuple[str, bytes]]:
    """Limit changes of risk.toml since the WAL began, as SetLimit inputs on the control stream."""
    out = []
    for change in drift.limit_changes:
        log.info(
            "oms: risk.toml sets %s (strategy %s, instrument %s) = %s: applied as a SetLimit",
            change.name,
            change.strategy_id or "any",
            change.instrument_id or "any",
            change.value,
        )
        out.append(
            (
                "control",
                SetLimit.encode_bytes(
                    correlationId=0,
                    clientId=0,
                    name=change.name,
                    strategyId=change.strategy_id,
                    instrumentId=change.instrument_id,
                    value=Decimal64(*decimal64(change.value)),
                    sendTs=now,
                    operator=operator_identity(CONFIG_OPERATOR),
                    reason="risk.toml changed since the WAL began",
                ),
            )
        )
    return out
