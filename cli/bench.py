"""`aerodesk bench ...`: benchmarks with percentiles and same-run baselines (never pass/fail)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer

from cli.console import emit_json, fail

app = typer.Typer(
    help="Benchmarks: percentiles and ratios to a baseline measured in the same run.", no_args_is_help=True
)

# name -> (module, function, description)
BENCHES: dict[str, tuple[str, str, str]] = {
    "codec": ("core.bench.codec", "run_codec_bench", "SBE encode+decode vs raw struct pack/unpack"),
    "bus": ("core.bench.bus", "run_bus_bench", "cross-process latency and throughput vs raw pyaeron"),
    "journal": ("core.bench.journal", "run_journal_bench", "journal append, scan and decode vs raw reads"),
    "book": ("core.bench.book", "run_book_bench", "L2 book updates: reference vs fast, Binance replay"),
    "l3": ("core.bench.l3", "run_l3_bench", "L3 book operations on LOBSTER"),
    "sim": ("core.bench.sim", "run_sim_bench", "matching engine orders/s, synthetic market events/s"),
    "oms": ("core.bench.oms", "run_oms_bench", "risk checks/s, kill switch with resting orders"),
}


def _load(name: str) -> Callable[..., Any]:
    module_name, func_name, _ = BENCHES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        fail(f"benchmark {name!r} is not built yet ({e.name} is missing)")
    return getattr(module, func_name)


def _run(name: str, as_json: bool, kwargs: dict[str, Any]) -> None:
    report = _load(name)(**kwargs)
    if as_json:
        emit_json(report.to_dict())
    else:
        typer.echo(report.to_text())


def _make_command(name: str, description: str) -> None:
    def command(
        as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
        quick: bool = typer.Option(False, "--quick", help="Fewer iterations: a smoke run."),
    ) -> None:
        kwargs = {"quick": True} if quick else {}
        _run(name, as_json, kwargs)

    command.__doc__ = description
    app.command(name=name)(command)


for _name, (_, _, _description) in BENCHES.items():
    _make_command(_name, _description)
