"""Client order ids of one strategy: unique per strategy, increasing, and unique across restarts.

Every request a strategy sends (new, cancel, replace) takes the next id: the oms refuses a clOrdId a
strategy used before, whatever the request. Two ways to stay unique across restarts:

- derived from time (default): a session starts at its start time in microseconds since the epoch and
  counts up by one per id. A restarted session starts later, so its ids are above the previous ones as
  long as a session hands out fewer ids than microseconds pass (one million orders a second: far above
  any risk throttle). In a backtest the clock is simulated, so the ids are deterministic.
- persisted (`state_dir` set): the file `<state_dir>/strategy-<id>.clordid` holds a reserved mark; ids
  are handed out below it and it is raised a block at a time (written atomically and fsynced *before*
  an id beyond the old mark is used). A restart starts at max(that mark, the time-derived start), so
  ids stay unique even if the clock is set back.

Ids stay below 2**63: the oms sets the top bit on the ids it generates itself.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_CL_ORD_ID = (1 << 63) - 1  # the top bit belongs to the oms's own ids
BLOCK = 4096  # ids reserved per write of the persisted mark


class ClOrdIdError(RuntimeError):
    """The id space is exhausted or the persisted mark cannot be read or written."""


class ClOrdIdSource:
    def __init__(self, strategy_id: int, start_ns: int, state_dir: str | Path | None = None) -> None:
        self.strategy_id = strategy_id
        self.path = Path(state_dir) / f"strategy-{strategy_id}.clordid" if state_dir else None
        first = max(start_ns // 1_000, 1)
        self._reserved = 0
        if self.path is not None:
            first = max(first, self._read_mark())
            self._reserve(first + BLOCK)
        self._next = first

    @property
    def peek(self) -> int:
        """The id the next call to `next()` returns."""
        return self._next

    def next(self) -> int:
        n = self._next
        if n > MAX_CL_ORD_ID:
            raise ClOrdIdError(f"strategy {self.strategy_id}: client order ids exhausted")
        if self.path is not None and n >= self._reserved:
            self._reserve(n + BLOCK)
        self._next = n + 1
        return n

    def _read_mark(self) -> int:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except OSError as e:
            raise ClOrdIdError(f"cannot read client order id mark {self.path}: {e}") from None
        if not text.isdigit():
            raise ClOrdIdError(f"client order id mark {self.path} is corrupt: {text[:40]!r}")
        return int(text)

    def _reserve(self, mark: int) -> None:
        assert self.path is not None
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("w", encoding="ascii") as f:
                f.write(f"{mark}\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            raise ClOrdIdError(f"cannot write client order id mark {self.path}: {e}") from None
        self._reserved = mark
