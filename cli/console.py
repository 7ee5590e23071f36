"""Output helpers: data goes to stdout, diagnostics to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from cli.exit_codes import ExitCode


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def info(message: str) -> None:
    typer.echo(message, err=True)


def fail(message: str, code: ExitCode = ExitCode.FAILURE) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))
