"""The composite daemon kind: several kinds' agents in one process on one thread, each with its own
config and heartbeat, all on one bus client; and the profile errors a bad composite gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.codec.messages import Side
from core.config import ConfigError
from core.daemons.profile import load_profile
from core.supervisor.monitor import HeartbeatInfo
from tests.core.daemons.busio import Collector, OrderSender, pump
from tests.desk import PROFILES, Desk, desk_fixture

PROFILE = PROFILES / "latency_composite.toml"
desk = desk_fixture(PROFILE)

DESK = "[desk]\nheartbeat_interval_ms = 100\nheartbeat_timeout_ms = 1000\n"
COMPOSITE = '[[daemon]]\nname = "hot"\nkind = "composite"\n'
MEMBER_MD = '[[daemon.member]]\nname = "md"\nkind = "md"\n'


def heartbeats_of(desk: Desk, roles: tuple[str, ...]) -> dict[str, HeartbeatInfo]:
    """The latest heartbeat of each role (the runtime file lists only the composite, so a window may
    end before every member was heard: keep what each window saw)."""
    seen: dict[str, HeartbeatInfo] = {}

    def probe() -> bool:
        seen.update(desk.heartbeats(0.5))
        return set(roles) <= set(seen)

    desk.wait_for(probe, f"heartbeats of {', '.join(roles)}")
    return seen


def test_the_profile_lists_one_daemon_with_its_members_in_order() -> None:
    profile = load_profile(PROFILE)
    (hot,) = profile.daemons
    assert (hot.name, hot.kind) == ("hot", "composite")
    assert [(m.name, m.kind) for m in hot.members] == [("exec-sim", "exec"), ("md", "md")]
    assert {m.idle_strategy for m in hot.members} == {hot.idle_strategy}
    assert hot.members[1].config.get("seed", int) == 7  # each member keeps its own config
    assert hot.names() == ("hot", "exec-sim", "md")


def test_two_kinds_run_in_one_process_and_both_heartbeat(desk: Desk) -> None:
    code, status = desk.status()
    assert code == 0, status
    assert [d["name"] for d in status["daemons"]] == ["hot"]
    pid = desk.pid("hot")
    beats = heartbeats_of(desk, ("hot", "md", "exec-sim"))
    assert {beats[r].pid for r in ("hot", "md", "exec-sim")} == {pid}
    assert beats["hot"].counters["members"] == 2
    assert all(beats[r].state == "Running" for r in ("hot", "md", "exec-sim"))

    # Both members work: md publishes, and the exec member (same process, same bus client) sees that
    # market data and answers an order sent to it over the bus.
    bus = desk.bus()
    reports = Collector(bus, "venue_reports")
    sender = OrderSender(bus)
    sender.wait_connected()
    desk.wait_for(
        lambda: heartbeats_of(desk, ("exec-sim",))["exec-sim"].counters.get("exec-sim.market_events", 0),
        "the exec member to receive the md member's market data",
    )
    sender.new(4242, 1, Side.Buy, 10, 1)  # a resting buy far below the market
    pump(bus, [reports], lambda: any(m.orderId == 4242 for m in reports.of("ExecutionReport")), "an ack")
    counters = heartbeats_of(desk, ("md",))["md"].counters
    assert counters["md.published"] > 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (DESK + COMPOSITE, "a composite needs at least one [[daemon.member]]"),
        (
            DESK + COMPOSITE + MEMBER_MD + 'idle_strategy = "busy-spin"\n',
            "set idle_strategy on the composite",
        ),
        (DESK + COMPOSITE + MEMBER_MD + 'restart = "never"\n', "set restart on the composite"),
        (DESK + COMPOSITE + '[[daemon.member]]\nname = "x"\nkind = "composite"\n', "a member's kind must be"),
        (DESK + COMPOSITE + '[[daemon.member]]\nname = "hot"\nkind = "md"\n', "duplicate daemon name 'hot'"),
        (
            DESK + COMPOSITE + MEMBER_MD + '[[daemon]]\nname = "md"\nkind = "exec"\n',
            "duplicate daemon name 'md'",
        ),
        (DESK + COMPOSITE + "[daemon.config]\nx = 1\n" + MEMBER_MD, "a composite has no config of its own"),
        (DESK + '[[daemon]]\nname = "e"\nkind = "exec"\n' + MEMBER_MD, "only a composite daemon has members"),
        (DESK + COMPOSITE + MEMBER_MD + "colour = 1\n", "unknown key"),
    ],
)
def test_bad_composites_say_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_profile(path)
    assert says in str(e.value)
