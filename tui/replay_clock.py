"""ReplayClock: the recorded clock of a journal replay, driven by an injected monotonic clock.

Replay time is epoch ns of the recording (the records' receive times). While playing it moves at
`speed` times the monotonic clock; paused, it stands still; at MAX speed the replay engine moves it
record by record as fast as it can fold. It never passes the journal's end. Speeds are exact
fractions, so the pace is exact integer arithmetic.

    clock = ReplayClock(first_ns, last_ns, speed=Fraction(1), paused=False, mono_ns=mono())
    clock.now(mono())            # replay time now
    clock.set_speed(faster(clock.speed), mono())
"""

from __future__ import annotations

from fractions import Fraction

# The speeds `[` and `]` step through; None is MAX (as fast as records can be folded).
SPEEDS: tuple[Fraction | None, ...] = (
    Fraction(1, 4),
    Fraction(1, 2),
    Fraction(1),
    Fraction(2),
    Fraction(4),
    Fraction(8),
    Fraction(16),
    Fraction(32),
    Fraction(64),
    None,
)
MIN_SPEED = Fraction(1, 4)
MAX_SPEED = Fraction(64)


def parse_speed(text: str) -> Fraction | None:
    """A replay speed from the command line: 0.25 .. 64 (any value between, e.g. 1.5), or "max"."""
    t = text.strip().lower()
    if t == "max":
        return None
    t = t.removesuffix("x")  # "2x" reads as 2
    try:
        value = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"speed must be a number from 0.25 to 64, or max; got {text!r}") from None
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise ValueError(f"speed must be from 0.25 to 64, or max; got {text!r}")
    return value


def format_speed(speed: Fraction | None) -> str:
    if speed is None:
        return "MAX"
    if speed.denominator == 1:
        return f"{speed.numerator}x"
    return f"{float(speed):g}x"


def faster(speed: Fraction | None) -> Fraction | None:
    if speed is None:
        return None
    return next((s for s in SPEEDS if s is None or s > speed), None)


def slower(speed: Fraction | None) -> Fraction | None:
    if speed is None:
        return SPEEDS[-2]
    lower = [s for s in SPEEDS if s is not None and s < speed]
    return lower[-1] if lower else speed


class ReplayClock:
    def __init__(
        self, start_ns: int, end_ns: int, *, speed: Fraction | None, paused: bool, mono_ns: int
    ) -> None:
        if end_ns < start_ns:
            raise ValueError(f"replay clock: end {end_ns} before start {start_ns}")
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.speed = speed
        self.paused = paused
        self._anchor_replay = start_ns
        self._anchor_mono = mono_ns

    @property
    def is_max(self) -> bool:
        return self.speed is None

    def now(self, mono_ns: int) -> int:
        """Replay time at monotonic time `mono_ns`."""
        if self.paused or self.speed is None:
            return self._anchor_replay
        elapsed = max(0, mono_ns - self._anchor_mono)
        return min(self.end_ns, self._anchor_replay + int(elapsed * self.speed))

    def _rebase(self, mono_ns: int) -> None:
        self._anchor_replay = self.now(mono_ns)
        self._anchor_mono = mono_ns

    def pause(self, mono_ns: int) -> None:
        self._rebase(mono_ns)
        self.paused = True

    def resume(self, mono_ns: int) -> None:
        self._anchor_mono = mono_ns
        self.paused = False

    def set_speed(self, speed: Fraction | None, mono_ns: int) -> None:
        self._rebase(mono_ns)
        self.speed = speed

    def jump(self, replay_ns: int, mono_ns: int) -> None:
        """Replay time is `replay_ns` (clamped to the journal's range) from monotonic time `mono_ns`."""
        self._anchor_replay = min(self.end_ns, max(self.start_ns, replay_ns))
        self._anchor_mono = mono_ns

    def mono_until(self, replay_ns: int, mono_ns: int) -> int | None:
        """Monotonic ns until replay time reaches `replay_ns` (None: paused or MAX, it will not by itself)."""
        if self.paused or self.speed is None:
            return None
        ahead = replay_ns - self.now(mono_ns)
        if ahead <= 0:
            return 0
        return -(-ahead * self.speed.denominator // self.speed.numerator)  # ceil(ahead / speed)
