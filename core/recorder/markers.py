"""Gap markers: how a journal says "the recorder lost data here".

A marker is a journal record on the journal-only stream id 0 (no bus stream can have it: stream ids
are 1..2^31-1), so it never mixes with recorded traffic and `replay` never republishes it. Its
payload is an SBE FeedState message, the schema's own "feed health" record:

    instrumentId   the bus stream id that lost data (a marker concerns a stream, not an instrument)
    ts             when the recorder noticed, epoch ns
    status         Gap
    expectedSeq    position-jump: the session position the recorder had reached (end of the last
                   message it recorded); late-join: 0; unjournaled: 0
    receivedSeq    position-jump, late-join: the position the next recorded message starts at;
                   unjournaled: 0
    gapCount       gaps marked on that stream so far in this journal, this one included
    text           "recorder-gap reason=<reason> stream=<name> stream_id=<id> session=<id>
                    bytes=<n> messages=<n>" (bytes for position gaps, messages when known)

The journal record's own fields: session id = the publisher session that lost data (0 for
unjournaled markers), position = receivedSeq, receive time = ts.

Reasons:
- position-jump: a session's next message starts past where its last one ended. This is how an
  untethered subscription that fell a window behind shows up (the driver drops it and it rejoins at
  the live end); it is detected exactly from Aeron positions, in order, by the fragment handler.
- late-join: the first message of a session starts past position 0: it published (to others) before
  the recorder subscribed, e.g. after a recorder restart.
- unjournaled: messages received but not journaled (disk full, permission or I/O errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.codec.messages import FeedState, FeedStatus

MARKER_STREAM_ID = 0
MARKER_TEMPLATE_ID = FeedState.TEMPLATE_ID
_PREFIX = "recorder-gap"


class GapReason(StrEnum):
    POSITION_JUMP = "position-jump"
    LATE_JOIN = "late-join"
    UNJOURNALED = "unjournaled"


@dataclass(frozen=True, slots=True)
class GapMarker:
    reason: GapReason
    stream_id: int
    stream: str
    session_id: int
    ts_ns: int
    expected_position: int = 0
    resumed_position: int = 0
    gap_count: int = 1
    messages: int | None = None  # known for unjournaled messages

    @property
    def bytes_lost(self) -> int:
        return max(self.resumed_position - self.expected_position, 0)

    def text(self) -> str:
        parts = [
            _PREFIX,
            f"reason={self.reason}",
            f"stream={self.stream}",
            f"stream_id={self.stream_id}",
            f"session={self.session_id}",
        ]
        if self.reason is not GapReason.UNJOURNALED:
            parts.append(f"bytes={self.bytes_lost}")
        if self.messages is not None:
            parts.append(f"messages={self.messages}")
        return " ".join(parts)

    def encode(self) -> bytes:
        return FeedState.encode_bytes(
            instrumentId=self.stream_id,
            ts=self.ts_ns,
            status=FeedStatus.Gap,
            expectedSeq=self.expected_position,
            receivedSeq=self.resumed_position,
            gapCount=self.gap_count,
            text=self.text(),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "reason": str(self.reason),
            "stream": self.stream,
            "stream_id": self.stream_id,
            "session_id": self.session_id,
            "ts_ns": self.ts_ns,
            "expected_position": self.expected_position,
            "resumed_position": self.resumed_position,
            "bytes_lost": self.bytes_lost,
            "messages_lost": self.messages,
            "gap_count": self.gap_count,
        }


def decode_marker(payload: bytes, session_id: int = 0) -> GapMarker | None:
    """The marker in a stream-0 record's payload, or None if it is not one."""
    try:
        message = FeedState.decode(payload)
    except ValueError:
        return None
    text = message.text or ""
    if not text.startswith(_PREFIX + " "):
        return None
    fields = dict(part.partition("=")[::2] for part in text.split()[1:])
    try:
        reason = GapReason(fields.get("reason", ""))
    except ValueError:
        return None
    messages = fields.get("messages")
    return GapMarker(
        reason=reason,
        stream_id=message.instrumentId,
        stream=fields.get("stream", str(message.instrumentId)),
        session_id=int(fields.get("session", session_id)),
        ts_ns=message.ts,
        expected_position=message.expectedSeq,
        resumed_position=message.receivedSeq,
        gap_count=message.gapCount,
        messages=int(messages) if messages is not None and messages.isdigit() else None,
    )
