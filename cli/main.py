"""The `aerodesk` console script."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from cli import bench, control, demo, desk, log, orders, queries, replay, sbe, tui
from cli import data as data_cli

app = typer.Typer(
    name="aerodesk",
    help="aerodesk: a terminal trading workstation on Aeron and SBE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.command("demo")(demo.demo)
app.command("tui")(tui.tui)
app.add_typer(desk.app)  # up, down, status, restart
app.command("kill")(control.kill)
app.command("release")(control.release)
app.command("flatten")(control.flatten)
app.command("cancel-all")(control.cancel_all)
app.add_typer(control.limits_app, name="limits")
app.command("orders")(queries.orders)
app.command("positions")(queries.positions)
app.command("risk")(queries.risk)
app.add_typer(orders.app, name="order")
app.add_typer(log.app, name="log")
app.command("replay")(replay.replay)
app.add_typer(data_cli.app, name="data")
app.add_typer(sbe.app, name="sbe")
app.add_typer(bench.app, name="bench")


def _version() -> str:
    try:
        return version("aerodesk")
    except PackageNotFoundError:  # running from a source tree without metadata
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"aerodesk {_version()}")
        raise typer.Exit(0)


@app.callback()
def main(
    show_version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """aerodesk: a terminal trading workstation on Aeron and SBE."""


def run() -> None:
    app()
