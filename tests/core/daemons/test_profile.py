"""Desk profiles: the shipped demo, the test profiles, and the errors a bad profile gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError
from core.daemons.exec import ExecConfig
from core.daemons.md import MdConfig
from core.daemons.md_feeds import load_feed, static_data
from core.daemons.profile import builtin_profiles, load_profile
from tests.desk import PROFILES

GOOD_DESK = "[desk]\nheartbeat_interval_ms = 100\nheartbeat_timeout_ms = 1000\n"
MD = '[[daemon]]\nname = "md"\nkind = "md"\n'


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(text)
    return p


def test_demo_is_built_in_and_lists_the_desk_in_start_order() -> None:
    assert "demo" in builtin_profiles()
    demo = load_profile("demo")
    assert [d.name for d in demo.daemons] == ["recorder", "oms", "exec-sim", "md", "strategies"]
    assert [d.kind for d in demo.daemons] == ["recorder", "oms", "exec", "md", "strategy"]
    assert demo.max_restarts == 5 and demo.restart_window_ms == 60_000


@pytest.mark.parametrize("profile", ["demo", str(PROFILES / "md_exec.toml"), str(PROFILES / "md_only.toml")])
def test_md_and_exec_configs_of_the_shipped_and_test_profiles_are_valid(profile: str) -> None:
    """What the daemons themselves check at start (a typo would fail the desk's start)."""
    for spec in load_profile(profile).daemons:
        t = spec.config
        if spec.kind == "md":
            MdConfig(t)
            load_feed(t, static_data(t))
        elif spec.kind == "exec":
            ExecConfig.from_table(t)
            static_data(t)
        else:
            continue
        t.reject_unknown()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[desk]\nheartbeat_interval_ms = 500\nheartbeat_timeout_ms = 1000\n" + MD, "more than twice"),
        (GOOD_DESK + "restart_backoff_ms = 500\nrestart_backoff_max_ms = 100\n" + MD, "not be less than"),
        (GOOD_DESK + "max_restarts = 0\n" + MD, "max_restarts: must be positive"),
        (GOOD_DESK, "a profile needs at least one [[daemon]]"),
        (GOOD_DESK + MD + MD, "duplicate daemon name 'md'"),
        (GOOD_DESK + '[[daemon]]\nname = "x"\nkind = "gateway"\n', "must be one of md, oms, exec"),
        (GOOD_DESK + MD + 'restart = "always"\n', "must be one of on-failure, never"),
        (GOOD_DESK + MD + 'idle_strategy = "spin-fast"\n', "unknown idle strategy"),
        (GOOD_DESK + '[[daemon]]\nname = "m d"\nkind = "md"\n', "must be letters, digits"),
        (GOOD_DESK + "colour = 1\n" + MD, "desk.colour: unknown key"),
    ],
)
def test_bad_profiles_say_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_profile(write(tmp_path, text))
    assert says in str(e.value)
    assert str(tmp_path / "p.toml") in str(e.value)


def test_unknown_profile_names_list_the_built_in_ones() -> None:
    with pytest.raises(ConfigError, match=r"no such profile: built-in profiles are .*demo"):
        load_profile("nope")
