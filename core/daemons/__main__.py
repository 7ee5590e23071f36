"""`python -m core.daemons run NAME --instance I --profile P`: run one daemon of a profile.

The supervisor starts daemons this way, with this interpreter, so each daemon's pid is its own.
Exit codes: 0 clean stop, 1 failure, 2 usage or configuration error, 3 desk not running.
"""

from __future__ import annotations

import argparse
import logging
import sys

from core.bus.errors import DeskNotRunning
from core.bus.instance import resolve_instance
from core.config import ConfigError
from core.daemons.host import DaemonHost
from core.daemons.profile import load_profile
from core.daemons.registry import DaemonKindNotBuilt, builder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.daemons")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one daemon of a profile")
    run.add_argument("name", help="the daemon's name in the profile")
    run.add_argument("--instance", default=None)
    run.add_argument("--profile", default="demo")
    run.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s {args.name} %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("aerodesk.daemon")
    try:
        instance = resolve_instance(args.instance)
        profile = load_profile(args.profile)
        spec = profile.daemon(args.name)
        build = builder(spec.kind)
        host = DaemonHost(instance, profile, spec)
        agents = build(host, spec)
    except (ConfigError, KeyError, ValueError, DaemonKindNotBuilt) as e:
        log.error("cannot start %s: %s", args.name, e)
        return 2
    except DeskNotRunning as e:
        log.error("cannot start %s: %s", args.name, e)
        return 3
    try:
        return host.run(agents)
    except DeskNotRunning as e:
        log.error("%s: %s", args.name, e)
        return 3


if __name__ == "__main__":
    sys.exit(main())
