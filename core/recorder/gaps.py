"""Per-session position tracking and fragment reassembly for the recorder's subscriptions.

Aeron positions count bytes of a session's log: each fragment occupies its frame (a 32-byte header
plus its bytes, aligned to 32) and `header.position` is the position just after it. The recorder
polls without Aeron's reassembly, so every fragment's frame is known and a fragment that starts
anywhere but where the previous fragment of its session ended means the subscription skipped data:
an untethered subscription that fell a window behind is dropped by the driver and rejoins at the
live end. The first fragment of a session should start at 0; later than that, the session published
(to other subscribers) before the recorder subscribed.

A process that was frozen (SIGSTOP, a long pause) can, on waking, read on in an image the driver has
already dropped before its client learns of it, then get the new image the driver rejoined it with,
which may start before where the stale one got to: fragments ending at or before a session's recorded
end are reported as SEEN and not recorded twice.

At the end of a term the publication pads the space a fragment does not fit into and goes on at the
next term; polling never delivers the padding, so such a jump is no gap (see is_gap).

Messages longer than the channel's MTU arrive as fragments (BEGIN flag on the first, END on the
last); they are reassembled here, per session. A message whose start was skipped is dropped (its
bytes are inside the marked gap).
"""

from __future__ import annotations

FRAME_ALIGNMENT = 32
BEGIN_FRAGMENT = 0x80
END_FRAGMENT = 0x40
UNFRAGMENTED = BEGIN_FRAGMENT | END_FRAGMENT
SEEN = -1  # advance(): the fragment lies before the session's recorded end (delivered again)


def frame_span(frame_length: int) -> int:
    """Bytes of the log one frame occupies."""
    return (frame_length + FRAME_ALIGNMENT - 1) & ~(FRAME_ALIGNMENT - 1)


class StreamTracker:
    """One stream's sessions: the end position of the last fragment seen from each, and the message
    being reassembled from fragments, if any."""

    __slots__ = ("ends", "partial")

    def __init__(self) -> None:
        self.ends: dict[int, int] = {}
        self.partial: dict[int, bytearray] = {}

    def advance(self, session_id: int, end: int, frame_length: int) -> int | None:
        """Record a fragment ending at `end`; returns None when it starts where the session's last one
        ended; SEEN when it ends at or before that (already recorded: skip it); else the position
        expected instead of its start (0 for a session first seen past its start), and the caller
        asks `is_gap` whether that is lost data or only the padding at the end of a term."""
        ends = self.ends
        expected = ends.get(session_id, 0)
        if end - frame_span(frame_length) == expected:
            ends[session_id] = end
            return None
        if end <= expected and session_id in ends:
            return SEEN
        ends[session_id] = end
        return expected

    def is_gap(
        self, session_id: int, expected: int, start: int, term_offset: int, term_id: int, initial_term_id: int
    ) -> bool:
        """Whether a fragment starting at `start` instead of `expected` means data was skipped.

        A fragment that does not fit at the end of a term is written at the start of the next one,
        the rest of the term being a padding frame that polling never delivers: a fragment at term
        offset 0 whose expected position lies inside the previous term skipped padding only.
        A real gap also drops the message being reassembled: its other fragments are gone.
        """
        if term_offset == 0 and 0 < expected < start:
            terms = (term_id - initial_term_id) & 0xFFFF_FFFF
            term_length = start // terms if terms else 0
            if term_length and start - term_length < expected:
                return False
        self.partial.pop(session_id, None)
        return True

    def assemble(self, session_id: int, fragment: object, flags: int) -> bytes | None:
        """Add one fragment of a fragmented message; the whole message once its last fragment came."""
        if flags & BEGIN_FRAGMENT:
            self.partial[session_id] = bytearray(fragment)  # type: ignore[call-overload]
            return None
        buf = self.partial.get(session_id)
        if buf is None:
            return None  # its beginning was in a gap
        buf += fragment  # type: ignore[operator]
        if flags & END_FRAGMENT:
            del self.partial[session_id]
            return bytes(buf)
        return None

    def forget(self, session_id: int) -> None:
        self.ends.pop(session_id, None)
        self.partial.pop(session_id, None)
