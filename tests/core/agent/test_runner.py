"""AgentRunner, CompositeAgent and idle strategies, with real threads and pyaeron idle strategies."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from core.agent import (
    AgentError,
    AgentRunner,
    CompositeAgent,
    ErrorPolicy,
    backoff,
    busy_spin,
    noop,
    parse_idle_strategy,
    sleeping,
    yielding,
)

SAFETY_TIMEOUT_S = 30.0


class Recorder:
    """An agent that records what the runner did to it; optionally fails on given cycles."""

    def __init__(
        self,
        role_name: str = "rec",
        *,
        stop_after: int | None = None,
        fail_on: set[int] | None = None,
        fail_start: bool = False,
        fail_close: bool = False,
        journal: list[str] | None = None,
    ) -> None:
        self.role_name = role_name
        self.stop_after = stop_after
        self.fail_on = fail_on or set()
        self.fail_start = fail_start
        self.fail_close = fail_close
        self.journal = journal if journal is not None else []
        self.cycles = 0
        self.threads: set[int] = set()
        self.reached = threading.Event()
        self.runner: AgentRunner | None = None

    def on_start(self) -> None:
        self.threads.add(threading.get_ident())
        self.journal.append(f"start {self.role_name}")
        if self.fail_start:
            raise RuntimeError(f"{self.role_name} cannot start")

    def do_work(self) -> int:
        self.threads.add(threading.get_ident())
        self.cycles += 1
        self.journal.append(f"work {self.role_name} {self.cycles}")
        if self.cycles in self.fail_on:
            raise ValueError(f"{self.role_name} failed on cycle {self.cycles}")
        if self.stop_after is not None and self.cycles >= self.stop_after:
            self.reached.set()
            if self.runner is not None:
                self.runner.stop()
        return 1

    def on_close(self) -> None:
        self.threads.add(threading.get_ident())
        self.journal.append(f"close {self.role_name}")
        if self.fail_close:
            raise RuntimeError(f"{self.role_name} cannot close")


def run_on_thread(agent: Recorder, **kwargs) -> AgentRunner:
    runner = AgentRunner(agent, **kwargs)
    agent.runner = runner
    thread = runner.start()
    assert runner.join(SAFETY_TIMEOUT_S), "runner did not finish"
    thread.join(SAFETY_TIMEOUT_S)
    return runner


def test_runner_on_its_own_thread_runs_the_whole_lifecycle_there():
    agent = Recorder(stop_after=100)
    runner = run_on_thread(agent)
    assert agent.journal[0] == "start rec" and agent.journal[-1] == "close rec"
    assert agent.cycles == 100 and runner.duty_cycles == 100
    assert len(agent.threads) == 1 and threading.get_ident() not in agent.threads
    assert runner.is_closed and not runner.is_running and not runner.failed
    assert runner.counters() == {"duty_cycles": 100, "errors": 0, "failed": 0}


def test_runner_on_the_calling_thread():
    agent = Recorder(stop_after=10)
    runner = AgentRunner(agent, noop())
    agent.runner = runner
    runner.run()
    assert agent.threads == {threading.get_ident()}
    assert agent.cycles == 10 and runner.is_closed


def test_stop_from_another_thread_ends_the_loop_and_closes():
    agent = Recorder()
    runner = AgentRunner(agent, sleeping(1_000_000))
    runner.start()
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while agent.cycles < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert runner.close()
    assert agent.journal[-1] == "close rec"
    cycles = agent.cycles
    time.sleep(0.05)
    assert agent.cycles == cycles  # nothing runs after close


def test_errors_are_counted_and_survived_with_continue(caplog):
    agent = Recorder(stop_after=50, fail_on=set(range(10, 30)))
    with caplog.at_level(logging.ERROR, logger="aerodesk.agent"):
        runner = run_on_thread(agent, error_policy=ErrorPolicy.CONTINUE)
    assert agent.cycles == 50  # it carried on after 20 failures
    assert runner.errors == 20 and not runner.failed
    assert isinstance(runner.last_error, ValueError)
    # Reported, but rate-limited: one line for 20 identical failures.
    reports = [r for r in caplog.records if "raised in do_work" in r.getMessage()]
    assert len(reports) == 1 and reports[0].exc_info is not None


def test_error_with_stop_policy_closes_the_agent_and_says_so(caplog):
    failures: list[AgentRunner] = []
    agent = Recorder(fail_on={5})
    with caplog.at_level(logging.CRITICAL, logger="aerodesk.agent"):
        runner = run_on_thread(agent, error_policy=ErrorPolicy.STOP, on_failure=failures.append)
    assert agent.cycles == 5 and agent.journal[-1] == "close rec"
    assert runner.failed and runner.errors == 1 and failures == [runner]
    assert "stopped after a failure in do_work" in caplog.text


def test_on_start_failure_is_fatal_but_on_close_still_runs():
    agent = Recorder(fail_start=True)
    runner = run_on_thread(agent)
    assert agent.journal == ["start rec", "close rec"]
    assert runner.failed and agent.cycles == 0


def test_on_close_failure_is_counted_not_raised():
    agent = Recorder(stop_after=3, fail_close=True)
    runner = run_on_thread(agent)
    assert runner.errors == 1 and not runner.failed and runner.is_closed


def test_a_runner_starts_once():
    runner = AgentRunner(Recorder(stop_after=1))
    runner.agent.runner = runner  # type: ignore[attr-defined]
    runner.run()
    with pytest.raises(RuntimeError, match="already started"):
        runner.start()


def test_composite_runs_agents_in_order_and_closes_in_reverse():
    journal: list[str] = []
    a, b = Recorder("a", journal=journal), Recorder("b", journal=journal, stop_after=2)
    composite = CompositeAgent([a, b])
    runner = AgentRunner(composite, noop())
    b.runner = runner
    runner.run()
    assert composite.role_name == "[a,b]"
    assert journal == [
        "start a",
        "start b",
        "work a 1",
        "work b 1",
        "work a 2",
        "work b 2",
        "close b",
        "close a",
    ]
    assert runner.duty_cycles == 2


def test_composite_failure_names_the_agent_and_does_not_starve_the_others():
    a, b = Recorder("a", fail_on={1, 2}), Recorder("b")
    composite = CompositeAgent([a, b])
    with pytest.raises(AgentError) as e:
        composite.do_work()
    assert e.value.role_name == "a" and e.value.phase == "do_work"
    assert isinstance(e.value.cause, ValueError)
    assert b.cycles == 1  # b still ran in the cycle where a failed
    runner = AgentRunner(composite, noop(), error_policy=ErrorPolicy.CONTINUE)
    b.stop_after, b.runner = 5, runner
    runner.run()
    assert runner.errors == 1 and a.cycles == 5 and b.cycles == 5


def test_composite_start_failure_closes_the_started_agents_only():
    journal: list[str] = []
    agents = [Recorder("a", journal=journal), Recorder("b", journal=journal, fail_start=True), Recorder("c")]
    with pytest.raises(AgentError, match="agent 'b' failed in on_start"):
        CompositeAgent(agents).on_start()
    assert journal == ["start a", "start b", "close a"]
    assert agents[2].journal == []


def test_composite_close_closes_every_agent_even_if_one_raises():
    journal: list[str] = []
    agents = [Recorder("a", journal=journal), Recorder("b", journal=journal, fail_close=True)]
    composite = CompositeAgent(agents)
    composite.on_start()
    with pytest.raises(AgentError, match="'b' failed in on_close"):
        composite.on_close()
    assert journal[-2:] == ["close b", "close a"]


@pytest.mark.parametrize(
    "make",
    [backoff, busy_spin, yielding, lambda: sleeping(100_000), noop],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_every_idle_strategy_runs_an_agent_to_completion(make):
    agent = Recorder(stop_after=200)
    runner = run_on_thread(agent, idle_strategy=make())
    assert agent.cycles == 200 and runner.duty_cycles == 200


def test_sleeping_strategy_really_sleeps_when_idle():
    class Idle:
        role_name = "idle"
        cycles = 0

        def on_start(self) -> None: ...
        def on_close(self) -> None: ...

        def do_work(self) -> int:
            self.cycles += 1
            if self.cycles == 20:
                runner.stop()
            return 0

    runner = AgentRunner(Idle(), sleeping(5_000_000))
    t0 = time.monotonic()
    runner.run()
    assert time.monotonic() - t0 >= 19 * 0.005  # a sleep is never shorter than asked


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("backoff", "backoff"),
        ("backoff:50us", "backoff"),
        ("busy-spin", "spin"),
        ("yielding", "yield"),
        ("sleeping", "sleeping"),
        ("sleeping:1ms", "sleeping"),
        ("noop", "noop"),
    ],
)
def test_parse_idle_strategy(spec, kind):
    assert kind in repr(parse_idle_strategy(spec))


@pytest.mark.parametrize(
    "spec", ["spin", "backoff:fast", "busy-spin:1ms", "sleeping:0ms", "backoff:10ns", ""]
)
def test_parse_idle_strategy_rejects_nonsense(spec):
    with pytest.raises(ValueError):
        parse_idle_strategy(spec)
