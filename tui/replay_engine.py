"""ReplayEngine: folds a journal into a DeskModel at the pace of its recorded clock. No threads, no I/O
beyond reading the journal: the JournalLink's worker drives it, tests drive it directly.

- Position: records are folded in journal order; record i is folded once replay time reaches its
  receive time (a record recorded out of time order is folded when its turn comes). `position` is the
  number of records folded.
- Pause, speed: see ReplayClock. At MAX the engine folds as fast as it can, `budget` records a call.
- Step: one record, or up to and including the next market-data or state message; stepping pauses.
- Seek: forwards folds on from where the replay is; backwards restores the latest checkpoint at or
  before the target and folds on from there. A checkpoint is a deep copy of the model and its folder,
  taken every `checkpoint_every` records folded for the first time (8 ms for the journal test desk's
  model, against 10-15 µs a record folded); at most `max_checkpoints` are kept, and when there would be
  more, every other one is dropped and the interval doubles, so a day-long journal keeps them spread
  over the whole day. Without one (before the first), a backward seek refolds from the first record.
  Seeking folds `budget` records a call, so the worker stays responsive (and quits promptly) during a
  long seek.
- Clocks: every view is built at replay time, so staleness and ages are those of the recording.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from core.instruments import InstrumentCatalog
from core.journal import Record
from tui.model.desk import DeskModel, ModelConfig
from tui.model.view import DeskView
from tui.replay_clock import ReplayClock
from tui.replay_fold import RecordFolder, ReplayStreams
from tui.replay_source import ReplaySource

FOLD_BUDGET = 20_000  # records per advance() call while seeking or at MAX
CHECKPOINT_EVERY = 50_000  # records folded between checkpoints (doubles as they are thinned)
MAX_CHECKPOINTS = 128  # a copy of the test desk's model is about 0.1 MB


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """The replay's state after folding records 0 .. position-1 (never folded into: restores copy it)."""

    position: int
    last_folded_ns: int
    model: DeskModel
    folder: RecordFolder


@dataclass(frozen=True, slots=True)
class ReplayStatus:
    """What the replay bar shows; immutable, handed from the worker to the UI thread."""

    journal: str
    instance: str
    replay_ns: int
    first_ns: int
    last_ns: int
    position: int  # records folded
    total: int  # readable records
    speed: Fraction | None  # None: MAX
    paused: bool
    ended: bool  # every readable record is folded
    seeking_to: int | None  # a seek in progress
    damage: str  # "" for an intact journal
    refolds: int  # backward seeks (each refolds from a checkpoint, or from the start)


class ReplayEngine:
    def __init__(
        self,
        source: ReplaySource,
        catalog: InstrumentCatalog,
        model_config: ModelConfig | None = None,
        *,
        speed: Fraction | None = Fraction(1),
        paused: bool = False,
        mono_ns: int = 0,
        streams: ReplayStreams | None = None,
        budget: int = FOLD_BUDGET,
        checkpoint_every: int = CHECKPOINT_EVERY,
        max_checkpoints: int = MAX_CHECKPOINTS,
    ) -> None:
        if checkpoint_every < 1 or max_checkpoints < 1:
            raise ValueError("checkpoint_every and max_checkpoints must be positive")
        self.source = source
        self.catalog = catalog
        self.model_config = model_config or ModelConfig()
        self.streams = streams or ReplayStreams.from_config()
        self.budget = budget
        self.checkpoint_every = checkpoint_every
        self.max_checkpoints = max_checkpoints
        self.checkpoints: list[_Checkpoint] = []  # by position
        self.restored_from = 0  # position the last backward seek folded on from (0: the start)
        self.clock = ReplayClock(source.first_ns, source.last_ns, speed=speed, paused=paused, mono_ns=mono_ns)
        self.refolds = 0
        self._seek_target: int | None = None
        self._now_ns = source.first_ns
        self.model: DeskModel
        self.folder: RecordFolder
        self._records: Iterator[Record]
        self._next: Record | None
        self.position = 0
        self._last_folded_ns = source.first_ns
        self._restart()

    # -- state ------------------------------------------------------------------------------------
    def _restart(self) -> None:
        source = self.source
        model = DeskModel(self.catalog, source.instance, self.model_config, wall_clock=lambda: self._now_ns)
        model.set_connected(True, source.first_ns)
        model.resync_wanted = ""  # nothing to ask: the journal is all there is
        model.notice("information", f"replaying journal {source.path} ({source.total} records)")
        if source.damage_text():
            model.notice("error", source.damage_text())
        self.model = model
        self.folder = RecordFolder(model, self.streams)
        self._records = source.records()
        self._next = next(self._records, None)
        self.position = 0
        self._last_folded_ns = source.first_ns

    def _checkpoint(self) -> None:
        """Keep a copy of the state at this position (one deep copy: the folder refers to the model)."""
        model, folder = copy.deepcopy((self.model, self.folder), self._shared())
        model.forget_views()  # stamped at view times that may lie past a later seek's target
        self.checkpoints.append(_Checkpoint(self.position, self._last_folded_ns, model, folder))
        if len(self.checkpoints) > self.max_checkpoints:
            self.checkpoint_every *= 2
            self.checkpoints = [c for c in self.checkpoints if c.position % self.checkpoint_every == 0]

    def _shared(self) -> dict[int, object]:
        """deepcopy memo of what copies share with the original: read-only static data."""
        return {id(self.catalog): self.catalog, id(self.model_config): self.model_config}

    def _restore(self, target_ns: int) -> None:
        """The state of a straight replay that has folded every record up to the latest checkpoint
        whose records are all at or before `target_ns` (the start when there is none)."""
        found = None
        for c in self.checkpoints:
            if c.last_folded_ns <= target_ns:
                found = c
        if found is None:
            self._restart()
            self.restored_from = 0
            return
        self.model, self.folder = copy.deepcopy((found.model, found.folder), self._shared())
        self._records = self.source.records(skip=found.position)
        self._next = next(self._records, None)
        self.position = found.position
        self._last_folded_ns = found.last_folded_ns
        self.restored_from = found.position

    @property
    def ended(self) -> bool:
        return self._next is None

    @property
    def seeking(self) -> bool:
        return self._seek_target is not None

    def replay_ns(self, mono_ns: int) -> int:
        if self._seek_target is not None:
            return self._now_ns  # still where the seek started until it is done
        return self.clock.now(mono_ns)

    def next_record_ns(self) -> int | None:
        return self._next.receive_time_ns if self._next is not None else None

    # -- folding ----------------------------------------------------------------------------------
    def _fold_next(self) -> Record:
        record = self._next
        assert record is not None
        self.folder.fold(record)
        self.position += 1
        if record.receive_time_ns > self._last_folded_ns:
            self._last_folded_ns = record.receive_time_ns
        self._next = next(self._records, None)
        if self.position % self.checkpoint_every == 0 and (
            not self.checkpoints or self.position > self.checkpoints[-1].position
        ):
            self._checkpoint()
        return record

    def _fold_until(self, limit_ns: int, budget: int) -> int:
        n = 0
        while n < budget and self._next is not None and self._next.receive_time_ns <= limit_ns:
            self._fold_next()
            n += 1
        return n

    def advance(self, mono_ns: int) -> int:
        """Fold what is due at `mono_ns` (at most `budget` records); returns the number folded."""
        if self._seek_target is not None:
            target = self._seek_target
            n = self._fold_until(target, self.budget)
            if self._next is None or self._next.receive_time_ns > target:
                self._seek_target = None
                self.clock.jump(target, mono_ns)
                self._now_ns = self.clock.now(mono_ns)
            return n
        if self.clock.is_max and not self.clock.paused:
            n = self._fold_until(self.source.last_ns, self.budget)
            self.clock.jump(self._last_folded_ns, mono_ns)
        else:
            n = self._fold_until(self.clock.now(mono_ns), self.budget)
        self._now_ns = self.clock.now(mono_ns)
        return n

    # -- controls ---------------------------------------------------------------------------------
    def toggle_pause(self, mono_ns: int) -> None:
        if self.clock.paused:
            self.resume(mono_ns)
        else:
            self.pause(mono_ns)

    def pause(self, mono_ns: int) -> None:
        if not self.clock.paused:
            self.clock.pause(mono_ns)

    def resume(self, mono_ns: int) -> None:
        if self.clock.paused:
            self.clock.resume(mono_ns)

    def set_speed(self, speed: Fraction | None, mono_ns: int) -> None:
        self.clock.set_speed(speed, mono_ns)

    def step_record(self, mono_ns: int) -> int:
        """Pause, then fold exactly one record (0 at the end); replay time moves to its receive time."""
        self.pause(mono_ns)
        if self._seek_target is not None or self._next is None:
            return 0
        record = self._fold_next()
        self._move_clock(max(self.clock.now(mono_ns), record.receive_time_ns), mono_ns)
        return 1

    def step_message(self, mono_ns: int) -> int:
        """Pause, then fold records up to and including the next market-data or state message."""
        self.pause(mono_ns)
        if self._seek_target is not None:
            return 0
        shown = self.streams.shown
        n = 0
        while self._next is not None:
            record = self._fold_next()
            n += 1
            if record.stream_id in shown:
                break
        if n:
            self._move_clock(max(self.clock.now(mono_ns), self._last_folded_ns), mono_ns)
        return n

    def seek(self, target_ns: int, mono_ns: int) -> None:
        """Go to replay time `target_ns` (clamped to the journal); the folding happens in advance()."""
        target = min(self.source.last_ns, max(self.source.first_ns, target_ns))
        current = self.replay_ns(mono_ns)
        if target < current and self._last_folded_ns > target:
            self.refolds += 1
            self._restore(target)
        self._seek_target = target

    def seek_relative(self, delta_ns: int, mono_ns: int) -> None:
        self.seek(self.replay_ns(mono_ns) + delta_ns, mono_ns)

    def _move_clock(self, replay_ns: int, mono_ns: int) -> None:
        self.clock.jump(replay_ns, mono_ns)
        self._now_ns = self.clock.now(mono_ns)

    # -- output -----------------------------------------------------------------------------------
    def view(self, mono_ns: int) -> DeskView:
        now = self.replay_ns(mono_ns)
        self._now_ns = now
        self.model.bus_counters = self.folder.counters()
        return self.model.view(now, now)

    def status(self, mono_ns: int) -> ReplayStatus:
        source = self.source
        return ReplayStatus(
            journal=source.name,
            instance=source.instance,
            replay_ns=self.replay_ns(mono_ns),
            first_ns=source.first_ns,
            last_ns=source.last_ns,
            position=self.position,
            total=source.total,
            speed=self.clock.speed,
            paused=self.clock.paused,
            ended=self.ended,
            seeking_to=self._seek_target,
            damage=source.damage_text(),
            refolds=self.refolds,
        )
