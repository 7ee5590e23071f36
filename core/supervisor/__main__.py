"""`python -m core.supervisor run --instance I --profile P [--notify-stdout] [--stop-with PID]`.

`aerodesk up --detach` starts it this way, in a session of its own, stderr appended to
<logs>/supervisor.log. With --notify-stdout it writes one JSON line to stdout once the desk is up
({"ok": true, ...}) or could not start ({"ok": false, "error": ..., "daemon": ..., "log": ...}), then
detaches stdout: the parent reads that line and returns. Exit codes: 0 clean stop, 1 start failed,
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from core.bus.instance import InstanceNameError, resolve_instance
from core.config import ConfigError
from core.daemons.profile import load_profile
from core.supervisor.runtime import RuntimeDirError, instance_paths
from core.supervisor.supervisor import Supervisor

LOG_FORMAT = "%(asctime)s supervisor[%(process)d] %(levelname)s %(message)s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.supervisor")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a desk's supervisor in this process")
    run.add_argument("--instance", default=None)
    run.add_argument("--profile", default="demo")
    run.add_argument("--notify-stdout", action="store_true")
    run.add_argument("--log-file", type=Path, default=None, help="recorded in the runtime file")
    run.add_argument("--stop-with", type=int, default=None, help="stop the desk once this pid is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    log = logging.getLogger("aerodesk.supervisor")
    notify = _notifier() if args.notify_stdout else None
    try:
        instance = resolve_instance(args.instance)
        profile = load_profile(args.profile)
        paths = instance_paths(instance)
    except (ConfigError, InstanceNameError, RuntimeDirError, OSError) as e:
        log.error("%s", e)
        if notify:
            notify({"ok": False, "error": str(e), "daemon": "", "log": ""})
        return 2
    supervisor = Supervisor(instance, profile, paths, supervisor_log=args.log_file, stop_with=args.stop_with)
    return supervisor.run(on_ready=notify)


def _notifier() -> Any:
    def notify(result: dict[str, Any]) -> None:
        try:
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()
        except OSError:  # the parent is gone: nobody to tell
            pass
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the parent stops reading after this line
        os.close(devnull)

    return notify


if __name__ == "__main__":
    sys.exit(main())
