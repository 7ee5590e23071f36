"""StreamTracker: Aeron position arithmetic for gap detection, and fragment reassembly."""

from __future__ import annotations

from core.recorder.gaps import BEGIN_FRAGMENT, END_FRAGMENT, SEEN, UNFRAGMENTED, StreamTracker, frame_span


def _frame_end(start: int, payload: int) -> tuple[int, int]:
    frame_length = 32 + payload
    return start + frame_span(frame_length), frame_length


def test_contiguous_frames_of_a_session_are_no_gap_whatever_their_padding():
    t = StreamTracker()
    position = 0
    for payload in (1, 31, 32, 33, 100, 1376, 8):
        end, frame_length = _frame_end(position, payload)
        assert t.advance(7, end, frame_length) is None
        assert end % 32 == 0 and end - position >= 32 + payload
        position = end


def test_a_jump_is_reported_with_the_position_that_was_expected():
    t = StreamTracker()
    end, fl = _frame_end(0, 100)
    assert t.advance(7, end, fl) is None
    later, fl2 = _frame_end(end + 4096, 100)
    assert t.advance(7, later, fl2) == end
    assert t.is_gap(7, end, end + 4096, term_offset=end + 4096, term_id=0, initial_term_id=0)
    assert t.advance(7, *_frame_end(later, 10)) is None  # contiguous again from the new place


def test_a_session_first_seen_past_its_start_reports_zero_and_sessions_are_independent():
    t = StreamTracker()
    assert t.advance(1, *_frame_end(640, 50)) == 0
    assert t.advance(2, *_frame_end(0, 50)) is None
    end2 = _frame_end(0, 50)[0]
    assert t.advance(2, *_frame_end(end2, 50)) is None


def test_fragments_are_reassembled_per_session_and_a_gap_drops_the_partial_message():
    t = StreamTracker()
    assert t.assemble(1, b"abc", BEGIN_FRAGMENT) is None
    assert t.assemble(2, b"xy", BEGIN_FRAGMENT) is None
    assert t.assemble(1, b"def", 0) is None
    assert t.assemble(2, b"z", END_FRAGMENT) == b"xyz"
    assert t.assemble(1, b"g", END_FRAGMENT) == b"abcdefg"
    assert t.assemble(1, b"orphan", END_FRAGMENT) is None  # its beginning was never seen
    assert t.assemble(3, b"begin", BEGIN_FRAGMENT) is None
    t.advance(3, *_frame_end(0, 5))
    assert t.advance(3, *_frame_end(9600, 5)) == 64
    assert t.is_gap(3, 64, 9600, term_offset=9600, term_id=5, initial_term_id=5)  # a gap inside the message
    assert t.assemble(3, b"end", END_FRAGMENT) is None
    assert UNFRAGMENTED == BEGIN_FRAGMENT | END_FRAGMENT


def test_padding_at_the_end_of_a_term_is_no_gap_but_a_jump_into_a_later_term_is():
    term = 65536
    t = StreamTracker()
    assert t.assemble(1, b"first half", BEGIN_FRAGMENT) is None
    expected = term - 96  # the last fragment ended 96 bytes before the end of term 0
    # the next fragment did not fit: padding fills the term, the fragment starts term 1 (id 11 after 10)
    assert not t.is_gap(1, expected, term, term_offset=0, term_id=11, initial_term_id=10)
    assert t.assemble(1, b" second", END_FRAGMENT) == b"first half second"  # the message survives
    # the same jump, but two terms on: the whole of term 1 was skipped
    assert t.is_gap(1, expected, 2 * term, term_offset=0, term_id=12, initial_term_id=10)
    # a session first seen at the start of a later term is late, not padded
    assert t.is_gap(2, 0, term, term_offset=0, term_id=11, initial_term_id=10)
    # term ids wrap around as int32 counters do
    assert not t.is_gap(
        3, 3 * term - 32, 3 * term, term_offset=0, term_id=-(2**31) + 1, initial_term_id=2**31 - 2
    )


def test_fragments_delivered_again_after_a_rejoin_are_seen_not_recorded_twice():
    t = StreamTracker()
    position = 0
    for _ in range(5):
        end, fl = _frame_end(position, 100)
        assert t.advance(1, end, fl) is None
        position = end
    # a stale image read on to 5 frames; the rejoined image starts again 2 frames back
    back = position - 2 * 160
    end, fl = _frame_end(back, 100)
    assert t.advance(1, end, fl) == SEEN
    end, fl = _frame_end(end, 100)
    assert t.advance(1, end, fl) == SEEN  # ends exactly where the recorded data ended: still seen
    assert end == position
    end, fl = _frame_end(end, 100)
    assert t.advance(1, end, fl) is None  # new data, contiguous again
