"""A daemon for signal tests: `python -m tests.core.agent.procs [--fail-after N]`.

Two agents share the main thread through run_agents_main; each prints `started <role>` and
`closed <role> <cycles>` so the test can see on_close ran, and in which order.
"""

from __future__ import annotations

import argparse
import logging
import sys

from core.agent import run_agents_main, sleeping


class Counting:
    def __init__(self, role_name: str, fail_after: int | None) -> None:
        self.role_name = role_name
        self.fail_after = fail_after
        self.cycles = 0

    def on_start(self) -> None:
        print(f"started {self.role_name}", flush=True)

    def do_work(self) -> int:
        self.cycles += 1
        if self.cycles == 1:
            print(f"working {self.role_name}", flush=True)
        if self.fail_after is not None and self.cycles > self.fail_after:
            raise RuntimeError(f"{self.role_name} failing on purpose")
        return 0

    def on_close(self) -> None:
        print(f"closed {self.role_name} {self.cycles}", flush=True)


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-after", type=int)
    args = parser.parse_args()
    agents = [Counting("alpha", None), Counting("beta", args.fail_after)]
    code = run_agents_main(agents, idle_strategy=sleeping(1_000_000), role_name="test-daemon")
    print(f"exit {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
