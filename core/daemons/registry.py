"""Daemon kinds: each is a module with `build(host, spec) -> list[Agent]`, imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

BUILDERS: dict[str, str] = {
    "md": "core.daemons.md",
    "oms": "core.daemons.oms",
    "exec": "core.daemons.exec",
    "strategy": "core.daemons.strategy",
    "recorder": "core.daemons.recorder",
    "composite": "core.daemons.composite",
}


class DaemonKindNotBuilt(RuntimeError):
    pass


def builder(kind: str) -> Callable[..., Any]:
    try:
        module_name = BUILDERS[kind]
    except KeyError:
        raise DaemonKindNotBuilt(f"unknown daemon kind {kind!r}") from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise DaemonKindNotBuilt(f"daemon kind {kind!r} is not built yet ({module_name})") from None
        raise
    return module.build
