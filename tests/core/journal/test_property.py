"""Property: any appends, then the journal cut at any byte, read back exactly a prefix of the appends."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.journal import DamageKind, FsyncPolicy, JournalReader, JournalWriter
from tests.core.journal.journal_helpers import INSTANCE, SCHEMA_ID, trade_payload

records_strategy = st.lists(
    st.tuples(st.binary(max_size=120), st.sampled_from([10, 20, 60]), st.integers(0, 2**40)),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=records_strategy,
    max_segment_bytes=st.sampled_from([512, 1024, 8192]),
    cut_fraction=st.floats(0, 1),
    sealed=st.booleans(),
)
def test_any_cut_reads_back_a_prefix(records, max_segment_bytes, cut_fraction, sealed):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j"
        appended = []
        with JournalWriter(
            path,
            schema_id=SCHEMA_ID,
            schema_version=1,
            instance=INSTANCE,
            fsync=FsyncPolicy.never(),
            max_segment_bytes=max_segment_bytes,
        ) as writer:
            for i, (var_data, stream_id, t) in enumerate(records):
                payload = trade_payload(i, var_data=var_data)
                writer.append(payload, stream_id=stream_id, receive_time_ns=t)
                appended.append((i, t, stream_id, payload))

        rows = JournalReader(path).scan()
        segments = sorted(path.glob("*.seg"))
        sizes = [p.stat().st_size for p in segments]
        cut = round(cut_fraction * sum(sizes))
        # the cut lands in segment k at `offset`; later segments go, as if never written
        k, offset = 0, cut
        while k < len(sizes) - 1 and offset > sizes[k]:
            offset -= sizes[k]
            k += 1
        for later in segments[k + 1 :]:
            later.unlink()
            later.with_suffix(".idx").unlink()
        segments[k].write_bytes(segments[k].read_bytes()[:offset])
        if not sealed:
            segments[k].with_suffix(".idx").unlink()  # as a crashed writer leaves its active segment

        in_k = rows[rows["segment"] == k]
        frame_ends = [*(int(o) for o in in_k["offset"][1:]), sizes[k]] if len(in_k) else []
        survivors = int((rows["segment"] < k).sum()) + sum(1 for end in frame_ends if end <= offset)
        at_boundary = offset == 128 if len(in_k) == 0 else offset in [int(in_k["offset"][0]), *frame_ends]
        complete = offset == sizes[k]
        damage_expected = not complete and (not at_boundary or sealed)

        reader = JournalReader(path)
        got = [(r.sequence, r.receive_time_ns, r.stream_id, r.payload) for r in reader.records()]
        assert got == appended[:survivors]
        assert len(reader.damage) == (1 if damage_expected else 0)
        for damage in reader.damage:
            assert damage.kind in (DamageKind.TORN_TAIL, DamageKind.TRUNCATED)
            assert damage.segment == segments[k]
            if damage.kind is DamageKind.TRUNCATED:
                assert sealed

        if not damage_expected or reader.damage[0].kind is DamageKind.TORN_TAIL:
            # a crashed writer's journal continues where the intact records end
            with JournalWriter(path, schema_id=SCHEMA_ID, schema_version=1, instance=INSTANCE) as writer:
                assert writer.next_sequence == survivors
                writer.append(trade_payload(survivors), stream_id=1)
            assert [r.sequence for r in JournalReader(path).records()] == list(range(survivors + 1))
