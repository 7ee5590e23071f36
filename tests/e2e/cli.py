"""The oms commands as `aerodesk` registers them, run against a test desk (in this process, through Click's
runner: the same code path as the console script, without a Python start-up per command)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import typer
from typer.testing import CliRunner

from cli import control, orders, queries
from tests.desk import Desk

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
app.command("kill")(control.kill)
app.command("release")(control.release)
app.command("flatten")(control.flatten)
app.command("cancel-all")(control.cancel_all)
app.add_typer(control.limits_app, name="limits")
app.command("orders")(queries.orders)
app.command("positions")(queries.positions)
app.command("risk")(queries.risk)
app.add_typer(orders.app, name="order")


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.stdout)

    def __str__(self) -> str:
        command = " ".join(self.args)
        return f"aerodesk {command} -> exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"


class DeskCli:
    """`aerodesk ...` with --instance and the data directory of one desk."""

    def __init__(self, instance: str, data_dir: str) -> None:
        self.env = {"AERODESK_INSTANCE": instance, "AERODESK_DATA": data_dir}
        self.runner = CliRunner()

    @classmethod
    def of(cls, desk: Desk) -> DeskCli:
        return cls(desk.instance, str(desk.data_dir))

    def __call__(self, *args: str) -> Run:
        result = self.runner.invoke(app, list(args), env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(tuple(args), result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> Run:
        run = self(*args)
        assert run.code == 0, run
        return run

    # -- helpers the tests share ------------------------------------------------------------------
    def orders(self) -> list[dict[str, Any]]:
        return self.ok("orders", "--json").json()

    def positions(self) -> dict[str, list[dict[str, Any]]]:
        return self.ok("positions", "--json").json()

    def risk(self) -> dict[str, Any]:
        return self.ok("risk", "--json").json()

    def new(self, *args: str) -> dict[str, Any]:
        """`order new ... --json`, whatever its exit code; the outcome object."""
        run = self("order", "new", *args, "--json")
        assert run.code in (0, 1) and run.stdout.strip(), run
        out = json.loads(run.stdout)
        out["exit"] = run.code
        out["stderr"] = run.stderr
        return out
