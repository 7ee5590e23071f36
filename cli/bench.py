"""`aerodesk bench ...`: benchmarks with percentiles and same-run baselines (never pass/fail)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from cli.console import emit_json, fail
from cli.exit_codes import ExitCode

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
    "killswitch": (
        "core.bench.killswitch",
        "run_killswitch_bench",
        "kill switch over the bus: kill to zero working orders, 1,000 resting",
    ),
    "recorder": ("core.bench.recorder", "run_recorder_bench", "recorder msg/s journaled vs raw pyaeron poll"),
    "log": ("core.bench.log", "run_log_bench", "log select/decode/export/stats/dump vs raw reads"),
    "strategy": ("core.bench.strategy", "run_strategy_bench", "md messages through the market maker"),
    "latency": (
        "core.bench.latency",
        "run_latency_bench",
        "tick-to-order latency through a real desk (md -> strategy -> oms -> exec) vs a ZeroMQ baseline",
    ),
    "mdreplay": (
        "core.bench.mdreplay",
        "run_mdreplay_bench",
        "md daemon replaying a real Binance capture into the bus at speed max",
    ),
    "tui": ("tui.bench", "run_tui_bench", "TUI render rate, CPU and event-to-screen delay vs md rate"),
}


def _load(name: str) -> Callable[..., Any]:
    module_name, func_name, _ = BENCHES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        fail(f"benchmark {name!r} is not built yet ({e.name} is missing)")
    return getattr(module, func_name)


def _real_data(name: str, path: Path, kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Benchmark inputs read from a real recording (core cannot import the adapters that read them)."""
    if not path.exists():
        fail(f"no such file: {path}")
    if name == "book":
        from adapters.binance.bench import binance_bench_source

        return kwargs | {"source": binance_bench_source(quick=kwargs["quick"], capture=path)}, []
    if name == "l3":
        from adapters.lobster.bench import replay_bench_case
        from adapters.lobster.data import l3_ops

        return kwargs | {"ops": l3_ops(path), "source": str(path)}, [replay_bench_case(path)]
    if name == "mdreplay":
        return kwargs | {"data": str(path)}, []
    fail(f"benchmark {name!r} takes no --data", ExitCode.USAGE)


def _run(name: str, as_json: bool, kwargs: dict[str, Any], extra_cases: list[Any] | None = None) -> None:
    bench = _load(name)
    accepted = inspect.signature(bench).parameters
    for option in [k for k in kwargs if k not in accepted]:
        if kwargs.pop(option):
            fail(f"benchmark {name!r} has no --{option.replace('_', '-')} option", ExitCode.USAGE)
    try:
        report = bench(**kwargs)
    except FileNotFoundError as e:  # a recording the benchmark needs is not there
        fail(str(e))
    report.cases.extend(extra_cases or [])
    if as_json:
        emit_json(report.to_dict())
    else:
        typer.echo(report.to_text())


def _make_command(name: str, description: str) -> None:
    def command(
        as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON document."),
        quick: bool = typer.Option(False, "--quick", help="Fewer iterations: a smoke run."),
        busy_spin: bool = typer.Option(
            False, "--busy-spin", help="Busy-spin instead of backing off (needs a free core; bus only)."
        ),
        data: Path | None = typer.Option(
            None, "--data", help="A real recording (book, mdreplay: a Binance capture; l3: a LOBSTER zip)."
        ),
    ) -> None:
        kwargs: dict[str, Any] = {"quick": quick, "busy_spin": busy_spin}
        extra_cases = []
        if data is not None:
            kwargs, extra_cases = _real_data(name, data, kwargs)
        _run(name, as_json, kwargs, extra_cases)

    command.__doc__ = description
    app.command(name=name)(command)


for _name, (_, _, _description) in BENCHES.items():
    _make_command(_name, _description)
