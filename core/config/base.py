"""Strict TOML reading shared by every config file (instruments, venues, channels, risk, profiles).

Unknown keys are errors: a typo in a risk limit must never silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()


class ConfigError(ValueError):
    """A bad configuration: which file, which key, what is wrong."""

    def __init__(self, file: str | Path, key: str, reason: str) -> None:
        self.file = str(file)
        self.key = key
        self.reason = reason
        where = f"{self.file}: {key}" if key else self.file
        super().__init__(f"{where}: {reason}")


def configs_dir() -> Path:
    """The shipped configs/ directory (the repository's, or the copy installed beside the packages)."""
    return Path(__file__).resolve().parents[2] / "configs"


def load_toml(path: str | Path) -> Table:
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(p, "", "file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(p, "", f"not valid TOML: {e}") from None
    return Table(data, p, "")


class Table:
    """A TOML table that remembers where it came from, so errors can say file and key."""

    def __init__(self, data: dict[str, Any], file: Path, prefix: str) -> None:
        self.data = data
        self.file = file
        self.prefix = prefix
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), reason)

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def keys(self) -> Iterable[str]:
        return self.data.keys()

    def get(self, name: str, kind: type[T], default: Any = _MISSING) -> T:
        self._seen.add(name)
        if name not in self.data:
            if default is _MISSING:
                raise self.error(name, "required key is missing")
            return default  # type: ignore[no-any-return]
        value = self.data[name]
        # bool is an int subclass in Python; a TOML `true` is never a number here.
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.error(name, f"expected an integer, got {value!r}")
        if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise self.error(name, f"expected a number, got {value!r}")
        if kind is Decimal:
            return self._decimal(name, value)  # type: ignore[return-value]
        if kind not in (int, float, Decimal) and not isinstance(value, kind):
            raise self.error(name, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return float(value) if kind is float else value  # type: ignore[return-value]

    def _decimal(self, name: str, value: Any) -> Decimal:
        # Floats from TOML are accepted only through their shortest repr; strings are exact.
        if isinstance(value, bool):
            raise self.error(name, f"expected a decimal number, got {value!r}")
        try:
            if isinstance(value, str | int):
                return Decimal(value)
            if isinstance(value, float):
                return Decimal(repr(value))
        except InvalidOperation:
            pass
        raise self.error(name, f"expected a decimal number (or a string such as \"0.01\"), got {value!r}")

    def table(self, name: str, default_empty: bool = False) -> Table:
        self._seen.add(name)
        if name not in self.data:
            if default_empty:
                return Table({}, self.file, self.key(name))
            raise self.error(name, "required table is missing")
        value = self.data[name]
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {type(value).__name__}")
        return Table(value, self.file, self.key(name))

    def tables(self, name: str) -> list[Table]:
        """An array of tables (`[[name]]`); missing means empty."""
        self._seen.add(name)
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, "expected an array of tables ([[...]])")
        return [Table(v, self.file, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def subtables(self) -> dict[str, Table]:
        """Every key of this table as a sub-table (e.g. `[venues.sim]`, `[venues.binance]`)."""
        out = {}
        for name in self.data:
            out[name] = self.table(name)
        return out

    def reject_unknown(self) -> None:
        """Call after reading every expected key: anything left over is a typo or an unsupported setting."""
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            known = ", ".join(sorted(self._seen)) or "none"
            raise self.error(unknown[0], f"unknown key (known keys: {known})")
