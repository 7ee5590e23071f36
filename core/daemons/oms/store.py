"""The oms's durable home: its WAL and, beside it, the configuration the WAL was begun with.

    <data>/<instance>/wal/            the write-ahead log (core.journal segments), per instance, not per
                                      session: the kill switch and every order survive `down` / `up`
    <data>/<instance>/wal/config/     risk.toml, instruments.toml, venues.toml as the oms first ran with
                                      them over this WAL

Replaying a WAL needs the configuration it was written with (limits, instrument exponents, fees,
venue ids are not in it), so the oms saves a copy when it begins a WAL and, on every later start,
replays with the copy. Limit changes made in risk.toml since are applied after the replay as SetLimit
inputs (journaled and audited like any other); other differences (desk settings, instruments,
venues) cannot be expressed as inputs: the oms keeps the copy's and says so. Tools that must agree
with the running oms (the CLI's symbol and decimal conversions, `replay --verify`) read the copy too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from core.config import configs_dir
from core.instruments import InstrumentCatalog, load_instruments
from core.journal import wal_dir as default_wal_dir
from core.journal.segments import list_segments
from core.oms.fees import FeeSchedule, venue_ids
from core.risk.config import RiskConfig, load_risk_config
from core.sim.config import VenueCatalog, load_venues

CONFIG_DIR = "config"
RISK_FILE, INSTRUMENTS_FILE, VENUES_FILE = "risk.toml", "instruments.toml", "venues.toml"


@dataclass(frozen=True)
class ConfigFiles:
    """Where the oms's configuration comes from."""

    risk: Path
    instruments: Path
    venues: Path

    @classmethod
    def shipped(cls) -> ConfigFiles:
        d = configs_dir()
        return cls(d / RISK_FILE, d / "instruments.toml", d / "venues.toml")

    def load(self) -> OmsConfig:
        catalog = load_instruments(self.instruments)
        return OmsConfig(
            self,
            catalog,
            load_risk_config(self.risk, catalog=catalog),
            load_venues(self.venues, instruments=catalog),
        )


@dataclass(frozen=True)
class OmsConfig:
    """The loaded configuration an engine runs with."""

    files: ConfigFiles
    catalog: InstrumentCatalog
    risk: RiskConfig
    venues: VenueCatalog

    @property
    def fees(self) -> FeeSchedule:
        return FeeSchedule.from_venues(self.venues)

    @property
    def venue_ids(self) -> dict[str, int]:
        return venue_ids(self.venues)

    def venue_name(self, venue_id: int) -> str:
        for v in self.venues:
            if v.id == venue_id:
                return v.name
        return str(venue_id)


class WalStore:
    def __init__(self, wal_dir: Path) -> None:
        self.wal_dir = Path(wal_dir)
        self.config_dir = self.wal_dir / CONFIG_DIR

    @classmethod
    def of_instance(cls, instance: str, data_dir: Path | None = None) -> WalStore:
        return cls(default_wal_dir(instance, data_dir))

    @property
    def saved_files(self) -> ConfigFiles:
        d = self.config_dir
        return ConfigFiles(d / RISK_FILE, d / INSTRUMENTS_FILE, d / VENUES_FILE)

    def has_saved_config(self) -> bool:
        f = self.saved_files
        return f.risk.is_file() and f.instruments.is_file() and f.venues.is_file()

    def has_wal(self) -> bool:
        return self.wal_dir.is_dir() and bool(list_segments(self.wal_dir))

    def save_config(self, files: ConfigFiles) -> None:
        """Copy the configuration beside the WAL (each file written whole, then renamed into place)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for source, target in zip(
            (files.risk, files.instruments, files.venues),
            (RISK_FILE, INSTRUMENTS_FILE, VENUES_FILE),
            strict=True,
        ):
            _write_atomically(self.config_dir / target, Path(source).read_bytes())

    def load_saved(self) -> OmsConfig:
        return self.saved_files.load()


def desk_config(instance: str, data_dir: Path | None = None) -> OmsConfig:
    """The configuration the instance's oms runs with: its WAL's copy, else the shipped files."""
    store = WalStore.of_instance(instance, data_dir)
    return store.load_saved() if store.has_saved_config() else ConfigFiles.shipped().load()


@dataclass(frozen=True)
class LimitChange:
    name: str
    strategy_id: int
    instrument_id: int
    value: Decimal


@dataclass
class ConfigDrift:
    """How the current configuration differs from the WAL's copy."""

    limit_changes: list[LimitChange]
    removed_limits: list[tuple[str, int, int]]
    other: list[str]  # differences that cannot be applied to a running WAL

    @property
    def any(self) -> bool:
        return bool(self.limit_changes or self.removed_limits or self.other)


def config_drift(saved: OmsConfig, current: OmsConfig) -> ConfigDrift:
    old = dict(saved.risk.limits.items())
    new = dict(current.risk.limits.items())
    changes = [LimitChange(n, s, i, v) for (n, s, i), v in sorted(new.items()) if old.get((n, s, i)) != v]
    removed = sorted(k for k in old if k not in new)
    other = []
    a, b = saved.risk, current.risk
    for attr in ("currency", "account_id", "manual_strategy_id", "daily_roll_ns", "status_interval_ms", "fx"):
        if getattr(a, attr) != getattr(b, attr):
            other.append(f"risk [desk]/[fx] {attr}")
    if {k: (s.name, s.account_id) for k, s in a.strategies.items()} != {
        k: (s.name, s.account_id) for k, s in b.strategies.items()
    }:
        other.append("risk [strategies] names or accounts")
    if _text(saved.files.instruments) != _text(current.files.instruments):
        other.append("instruments.toml")
    if _text(saved.files.venues) != _text(current.files.venues):
        other.append("venues.toml")
    return ConfigDrift(changes, removed, other)


def _text(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
