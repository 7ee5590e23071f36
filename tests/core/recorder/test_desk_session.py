"""A whole desk session, started by `aerodesk up` and ended by `aerodesk down`: the recorder starts first
and stops last, so everything the md daemon published, to its last message, is in the journal."""

from __future__ import annotations

import time

from core.codec.messages import Heartbeat
from core.journal import JournalReader, find_journals
from core.recorder.names import StreamNames
from core.recorder.stats import journal_stats
from tests.desk import PROFILES, running_desk


def test_a_session_ended_by_down_is_recorded_whole(tmp_path):
    with running_desk(PROFILES / "recorder-md.toml", tmp_path) as desk:
        time.sleep(2.0)  # market data flows
        outcome = desk.down()
        assert outcome.code == 0
        journals = [p for p in find_journals(tmp_path, desk.instance) if p.name != "wal"]
    [journal] = journals
    reader = JournalReader(journal)
    md_messages = len(reader.scan(stream_ids=[20]))
    # the md daemon's last heartbeat (sent as it stopped, before the recorder did) says how many it sent
    beats = [Heartbeat.decode(r.payload) for r in reader.records(stream_ids=[70])]
    last_md = [b for b in beats if b.role == "md"][-1]
    sent = {c.name: c.value for c in last_md.counters}["market_data.sent"]
    assert last_md.state.name == "Stopping"
    assert md_messages == sent > 100
    stats = journal_stats(reader, StreamNames())
    assert stats.seq_gaps and all(g.gaps == 0 and g.out_of_order == 0 for g in stats.seq_gaps)
    assert stats.markers == [] and reader.damage == []
