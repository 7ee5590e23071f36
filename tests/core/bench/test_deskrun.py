"""Pieces of the end-to-end benchmarks that must be right for their figures to mean anything: bench
profiles written from the built-in ones, per-process CPU, the relay baselines' plumbing (real processes,
every tick arrives) and a clear error for a missing capture. Nothing here measures speed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.bench import latency
from core.bench.deskrun import CpuMeter, cpu_seconds, member_or_daemon, profile_text
from core.bench.mdreplay import run_mdreplay_bench
from core.daemons.profile import Profile, load_profile


@pytest.mark.parametrize("name", ["demo", "low-latency"])
def test_a_bench_profile_keeps_the_built_in_layout_and_replaces_only_the_named_configs(
    tmp_path: Path, name: str
) -> None:
    base = load_profile(name)
    oms = member_or_daemon(base, "oms").name
    path = tmp_path / "bench.toml"
    path.write_text(profile_text(base, configs={oms: {"risk": "/somewhere/risk.toml"}}))
    written = load_profile(path)

    def layout(p: Profile) -> list[tuple]:
        return [
            (
                d.name,
                d.kind,
                d.idle_strategy,
                d.restart,
                [(m.name, m.kind, m.idle_strategy) for m in d.members],
            )
            for d in p.daemons
        ]

    assert layout(written) == layout(base)
    assert written.heartbeat_interval_ms == base.heartbeat_interval_ms
    for spec in (s for d in base.daemons for s in (d, *d.members)):
        got = member_or_daemon(written, spec.kind) if not spec.members else written.daemon(spec.name)
        expected = dict(spec.config.data)
        if spec.name == oms:
            expected["risk"] = "/somewhere/risk.toml"
        assert got.config.data == expected, spec.name


def test_relative_paths_in_a_rewritten_profile_point_where_they_did(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "p.toml").write_text(
        '[desk]\n[[daemon]]\nname = "md"\nkind = "md"\n[daemon.config]\ninstruments = "inst.toml"\nseed = 3\n'
    )
    text = profile_text(load_profile(src / "p.toml"))
    (tmp_path / "elsewhere.toml").write_text(text)
    md = load_profile(tmp_path / "elsewhere.toml").daemon("md")
    assert md.config.data == {"instruments": str(src / "inst.toml"), "seed": 3}


def test_the_cpu_meter_sees_this_process_work() -> None:
    meter = CpuMeter({"self": os.getpid(), "gone": 2**22 + 12345})
    meter.start()
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    cpu = meter.stop()
    assert set(cpu) == {"self"}  # a process that does not exist is left out, not reported as 0
    assert cpu["self"] > 0
    assert cpu_seconds(2**22 + 12345) is None


def test_the_relay_baselines_deliver_every_tick_through_real_processes() -> None:
    demo = load_profile("demo")
    count, warmup = 60, 10
    for run in (
        latency._relay_aeron(demo, count, 500.0, warmup),
        latency._relay_chain("backoff:50us", count, 500.0, warmup),
        latency._relay_zmq(count, 500.0, warmup),
    ):
        assert run is not None
        assert run.latency.hist.get_total_count() == count - warmup, run.what
        assert run.latency.hist.get_min_value() > 0
        roles = {"chain"} if "one process" in run.what else {"md", "strategy", "oms", "exec"}
        assert set(run.cpu) == roles


def test_the_probe_strategies_and_their_risk_limits_are_valid_config(tmp_path: Path) -> None:
    from core.risk.config import load_risk_config
    from core.strategy.config import load_strategies

    symbols = latency._sim_symbols()
    assert symbols
    (tmp_path / "strategies.toml").write_text(latency.strategies_toml(symbols))
    (tmp_path / "risk.toml").write_text(latency.risk_toml(symbols))
    strategies = load_strategies(tmp_path / "strategies.toml")
    ids = [s.strategy_id for s in strategies.strategies]
    assert ids == [latency.PROBE_BASE_ID + i for i in range(len(symbols))]
    assert [s.instruments[0].symbol for s in strategies.strategies] == symbols
    risk = load_risk_config(tmp_path / "risk.toml")
    assert set(ids) <= set(risk.strategies)


def test_a_missing_capture_says_where_it_looked_and_how_to_give_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gz"
    with pytest.raises(FileNotFoundError, match="--data") as e:
        run_mdreplay_bench(quick=True, data=str(missing))
    assert str(missing) in str(e.value)


def test_no_relay_process_outlives_a_wait_that_ends_in_an_exception(monkeypatch) -> None:
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) for _ in range(2)]
    try:

        def interrupted(_procs):
            raise KeyboardInterrupt  # what a test timeout or ^C does mid-wait

        monkeypatch.setattr(latency, "_read_results", interrupted)
        with pytest.raises(KeyboardInterrupt):
            latency._collect(procs)
        assert [p.poll() for p in procs] == [-9, -9]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
