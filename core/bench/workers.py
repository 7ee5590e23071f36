"""Benchmark worker processes: `python -m MODULE ARGS` run from the repository root, and their end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO

import pyaeron

from core.bus.instance import instance_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


def spawn_worker(
    module: str, *args: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """Start a worker; its stderr is kept for the error when it fails."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def finish_worker(worker: subprocess.Popen[str], what: str, timeout_s: float) -> None:
    """Wait for the worker (killed if still running after `timeout_s`); raise if it failed."""
    try:
        _, err = worker.communicate(timeout=timeout_s)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    if worker.returncode != 0:
        raise RuntimeError(f"{what} failed ({worker.returncode}): {err}")


def raw_aeron_client(instance: str) -> pyaeron.Aeron:
    """A bare pyaeron client of a desk's driver, for the raw baselines (an error handler, nothing else:
    without one the process would exit when the driver goes)."""
    ctx = pyaeron.Context(dir=str(instance_dir(instance)), error_handler=lambda code, msg: None)
    return pyaeron.Aeron(context=ctx)
