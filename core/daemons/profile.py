"""Desk profiles (configs/profiles/*.toml): which daemons a desk runs, in which order, with what config.

[desk]
description = "..."
idle_strategy = "backoff"          # default for every daemon (see core.agent.idle)
heartbeat_interval_ms = 250
heartbeat_timeout_ms = 3000        # a daemon silent this long is unhealthy (and restarted)
startup_timeout_ms = 30000         # `up` waits this long for each daemon's first heartbeat
stop_timeout_ms = 10000            # SIGTERM, then SIGKILL if a daemon has not exited after this
restart_backoff_ms = 500           # first restart delay after a failure; doubles per failure ...
restart_backoff_max_ms = 30000     # ... up to this
max_restarts = 5                   # this many failures within restart_window_ms: the daemon is failed
restart_window_ms = 60000

[[daemon]]                         # start order = file order; stop order is the reverse
name = "oms"                       # unique in the profile; also its heartbeat role
kind = "oms"                       # md | oms | exec | strategy | recorder | composite
idle_strategy = "backoff:50us"     # optional override
restart = "on-failure"             # on-failure (default) | never
[daemon.config]                    # the kind's own settings, checked strictly by the kind
...

A `composite` daemon runs several kinds' agents in one process, on one thread, with one bus client
and the composite's idle strategy (the low-latency profile's hot path). It has no config of its own;
each member has a name (unique in the profile: it is the member's heartbeat role), a kind and its
kind's config. Members start in file order and share the composite's idle strategy and restart
policy (they cannot set their own); the supervisor sees one daemon, the composite.

[[daemon]]
name = "hot-path"
kind = "composite"
idle_strategy = "busy-spin"
[[daemon.member]]
name = "md"
kind = "md"
[daemon.member.config]
feed = "synthetic"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.agent.idle import parse_idle_strategy
from core.config import ConfigError, Table, configs_dir, load_toml

MEMBER_KINDS = ("md", "oms", "exec", "strategy", "recorder")
COMPOSITE = "composite"
KINDS = (*MEMBER_KINDS, COMPOSITE)
RESTART_POLICIES = ("on-failure", "never")


@dataclass(frozen=True)
class DaemonSpec:
    name: str
    kind: str
    idle_strategy: str
    restart: str
    config: Table  # the kind-specific [daemon.config] table, validated by the kind's builder
    members: tuple[DaemonSpec, ...] = ()  # a composite's members, in start order (else empty)

    def names(self) -> tuple[str, ...]:
        """This daemon's name and its members' (every heartbeat role it publishes)."""
        return (self.name, *(m.name for m in self.members))


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    description: str
    idle_strategy: str
    heartbeat_interval_ms: int
    heartbeat_timeout_ms: int
    startup_timeout_ms: int
    stop_timeout_ms: int = 10_000
    restart_backoff_ms: int = 500
    restart_backoff_max_ms: int = 30_000
    max_restarts: int = 5
    restart_window_ms: int = 60_000
    daemons: tuple[DaemonSpec, ...] = field(default=())

    def daemon(self, name: str) -> DaemonSpec:
        for d in self.daemons:
            if d.name == name:
                return d
        known = ", ".join(d.name for d in self.daemons)
        raise KeyError(f"profile {self.name} has no daemon {name!r} (its daemons: {known})")


def builtin_profiles() -> tuple[str, ...]:
    """Names of the shipped profiles (configs/profiles/*.toml), e.g. ("demo",)."""
    return tuple(sorted(p.stem for p in (configs_dir() / "profiles").glob("*.toml")))


def profile_path(profile: str) -> Path:
    """A built-in profile name (e.g. "demo") or a path to a TOML file (anything with a / or .toml)."""
    if "/" not in profile and not profile.endswith(".toml"):
        path = configs_dir() / "profiles" / f"{profile}.toml"
        if not path.is_file():
            raise ConfigError(
                profile,
                "",
                f"no such profile: built-in profiles are {', '.join(builtin_profiles()) or 'none'}, "
                "or give the path of a .toml file",
            )
        return path
    return Path(profile).expanduser()


def load_profile(profile: str | Path) -> Profile:
    path = profile if isinstance(profile, Path) else profile_path(profile)
    root = load_toml(path)
    desk = root.table("desk")
    profile_obj = Profile(
        name=path.stem,
        path=path.resolve(),
        description=desk.get("description", str, ""),
        idle_strategy=_idle(desk, "idle_strategy", "backoff"),
        heartbeat_interval_ms=_positive(desk, "heartbeat_interval_ms", 250),
        heartbeat_timeout_ms=_positive(desk, "heartbeat_timeout_ms", 3000),
        startup_timeout_ms=_positive(desk, "startup_timeout_ms", 30000),
        stop_timeout_ms=_positive(desk, "stop_timeout_ms", 10_000),
        restart_backoff_ms=_positive(desk, "restart_backoff_ms", 500),
        restart_backoff_max_ms=_positive(desk, "restart_backoff_max_ms", 30_000),
        max_restarts=_positive(desk, "max_restarts", 5),
        restart_window_ms=_positive(desk, "restart_window_ms", 60_000),
        daemons=tuple(_daemons(root, desk)),
    )
    desk.reject_unknown()
    root.reject_unknown()
    if profile_obj.heartbeat_timeout_ms <= 2 * profile_obj.heartbeat_interval_ms:
        raise desk.error("heartbeat_timeout_ms", "must be more than twice heartbeat_interval_ms")
    if profile_obj.restart_backoff_max_ms < profile_obj.restart_backoff_ms:
        raise desk.error("restart_backoff_max_ms", "must not be less than restart_backoff_ms")
    return profile_obj


def _daemons(root: Table, desk: Table) -> list[DaemonSpec]:
    default_idle = desk.data.get("idle_strategy", "backoff")
    out: list[DaemonSpec] = []
    names: set[str] = set()
    for t in root.tables("daemon"):
        name = _name(t, names)
        kind = t.get("kind", str)
        if kind not in KINDS:
            raise t.error("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
        restart = t.get("restart", str, "on-failure")
        if restart not in RESTART_POLICIES:
            raise t.error("restart", f"must be one of {', '.join(RESTART_POLICIES)}, got {restart!r}")
        idle = _idle(t, "idle_strategy", default_idle)
        members: tuple[DaemonSpec, ...] = ()
        if kind == COMPOSITE:
            if "config" in t:
                raise t.error(
                    "config", "a composite has no config of its own: give each [[daemon.member]] its config"
                )
            members = tuple(_members(t, names, idle, restart))
        elif "member" in t:
            raise t.error("member", f"only a {COMPOSITE} daemon has members (this one is a {kind})")
        spec = DaemonSpec(
            name=name,
            kind=kind,
            idle_strategy=idle,
            restart=restart,
            config=t.table("config", default_empty=True),
            members=members,
        )
        t.reject_unknown()
        out.append(spec)
    if not out:
        raise root.error("daemon", "a profile needs at least one [[daemon]]")
    return out


def _name(t: Table, names: set[str]) -> str:
    """A daemon's or member's name: unique across the profile (it is a heartbeat role)."""
    name = t.get("name", str)
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise t.error("name", f"must be letters, digits, - or _ (got {name!r})")
    if name in names:
        raise t.error("name", f"duplicate daemon name {name!r}")
    names.add(name)
    return name


def _members(t: Table, names: set[str], idle: str, restart: str) -> list[DaemonSpec]:
    members = []
    for m in t.tables("member"):
        name = _name(m, names)
        kind = m.get("kind", str)
        if kind not in MEMBER_KINDS:
            raise m.error("kind", f"a member's kind must be one of {', '.join(MEMBER_KINDS)}, got {kind!r}")
        for key in ("idle_strategy", "restart"):
            if key in m:
                raise m.error(key, f"members run on their composite's thread: set {key} on the composite")
        members.append(DaemonSpec(name, kind, idle, restart, m.table("config", default_empty=True)))
        m.reject_unknown()
    if not members:
        raise t.error("member", "a composite needs at least one [[daemon.member]]")
    return members


def _idle(t: Table, key: str, default: str) -> str:
    spec = t.get(key, str, default)
    try:
        parse_idle_strategy(spec)
    except ValueError as e:
        raise t.error(key, str(e)) from None
    return spec


def _positive(t: Table, key: str, default: int) -> int:
    value = t.get(key, int, default)
    if value <= 0:
        raise t.error(key, f"must be positive, got {value}")
    return value
