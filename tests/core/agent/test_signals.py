"""run_agents_main in a real child process: SIGTERM/SIGINT close every agent; a failure exits 1."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.agent.procs", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_daemon_and_every_agent_closes(sig):
    p = spawn()
    try:
        assert p.stdout is not None
        expected = ["started alpha", "started beta", "working alpha", "working beta"]
        assert [p.stdout.readline().strip() for _ in expected] == expected
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    lines = out.strip().splitlines()
    # on_close in reverse start order, after some duty cycles, then a clean exit.
    assert [line.split()[:2] for line in lines] == [["closed", "beta"], ["closed", "alpha"], ["exit", "0"]]
    assert all(int(line.split()[2]) > 0 for line in lines[:2])
    assert f"received {signal.Signals(sig).name}: shutting down" in err


def test_failing_agent_closes_the_daemon_with_exit_code_1():
    p = spawn("--fail-after", "3")
    try:
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1
    assert out.strip().splitlines() == [
        "started alpha",
        "started beta",
        "working alpha",
        "working beta",
        "closed beta 4",
        "closed alpha 4",
        "exit 1",
    ]
    assert "beta failing on purpose" in err
