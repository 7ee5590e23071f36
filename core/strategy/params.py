"""Strategy parameters: a strategy class declares a dataclass `Params`; its config table is read into it
strictly.

    @dataclass(frozen=True)
    class Params:
        instrument: Instrument          # a symbol ("BTC-USD", or "BTCUSDT@binance-spot"), resolved
        quote_size: Decimal             # exact: TOML strings ("0.05") or numbers
        spread_ticks: int | None = None
        estimator: Literal["ols", "kalman"] = "ols"

        def __post_init__(self):        # checks: raise ValueError("quote_size must be positive")
            ...

Supported field types: int, float, Decimal, str, bool, Instrument, Literal[...] of str, and `X | None`
of those (None is the default when the key is absent; TOML has no null). A key the dataclass does not
declare, a missing required key, a wrong type or an unknown instrument is a ConfigError naming the file
and the key. A ValueError from `__post_init__` becomes a ConfigError too, naming the parameter its
message starts with.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from decimal import Decimal
from typing import Any, Literal

from core.config.base import Table
from core.instruments import Instrument, InstrumentCatalog

_SCALARS = (int, float, Decimal, str, bool)


def build_params(params_type: type | None, table: Table, catalog: InstrumentCatalog) -> Any:
    """The params dataclass read from `table` (None when the strategy declares no Params)."""
    if params_type is None:
        for key in table.data:
            raise table.error(key, "unknown parameter (this strategy takes no parameters)")
        return None
    if not dataclasses.is_dataclass(params_type):
        raise TypeError(f"{params_type!r}: a strategy's Params must be a dataclass")
    fields = {f.name: f for f in dataclasses.fields(params_type) if f.init}
    hints = typing.get_type_hints(params_type)
    for key in table.data:
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise table.error(key, f"unknown parameter (parameters of {params_type.__qualname__}: {known})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in table:
            values[name] = _convert(table, name, hints[name], catalog)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise table.error(name, f"required parameter is missing ({_describe(hints[name])})")
    try:
        return params_type(**values)
    except (ValueError, TypeError) as e:
        text = str(e)
        first = text.split(" ", 1)[0].strip(":,")
        raise table.error(first if first in fields else "", text) from None


def params_instruments(params: Any) -> tuple[Instrument, ...]:
    """The instruments a params object names, in field order, each once: what the strategy trades and
    subscribes to."""
    if params is None:
        return ()
    out: list[Instrument] = []
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        if isinstance(v, Instrument) and v not in out:
            out.append(v)
    return tuple(out)


def _convert(table: Table, name: str, hint: Any, catalog: InstrumentCatalog) -> Any:
    inner = _optional_inner(hint)
    if inner is not None:
        hint = inner
    if hint is Instrument:
        symbol = table.get(name, str)
        try:
            return catalog.resolve(symbol)
        except KeyError as e:
            raise table.error(name, str(e.args[0])) from None
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        value = table.get(name, str)
        if value not in choices:
            raise table.error(name, f"must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if hint in _SCALARS:
        return table.get(name, hint)
    raise TypeError(f"parameter {name!r}: unsupported type {hint!r} (use {_describe_supported()})")


def _optional_inner(hint: Any) -> Any:
    """X for `X | None` (or Optional[X]), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None


def _describe(hint: Any) -> str:
    inner = _optional_inner(hint)
    if inner is not None:
        hint = inner
    if hint is Instrument:
        return "an instrument symbol"
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    if hint is Decimal:
        return 'a decimal number such as "0.05"'
    return getattr(hint, "__name__", str(hint))


def _describe_supported() -> str:
    return "int, float, Decimal, str, bool, Instrument, Literal[...] or X | None"
