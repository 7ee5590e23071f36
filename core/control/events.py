"""Recent RiskEvents of a desk, from its recording (the recorder journals the state stream).

The oms's Risk reply carries the kill switch and the limits but no event history (docs/cli-json.md
says what a schema extension would add), and a client that attaches only sees events from then on;
the desk's latest recording has them all, in order.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from core.bus.config import load_bus_config
from core.codec.messages import SCHEMA_ID, RiskEvent, decode
from core.journal import JournalError, JournalReader, find_journals
from core.journal.paths import WAL_DIR_NAME


def latest_recording(instance: str, data_dir: Path | None = None) -> Path | None:
    found = [p for p in find_journals(data_dir, instance) if p.name != WAL_DIR_NAME]
    return found[-1] if found else None


def recent_risk_events(
    instance: str, limit: int, data_dir: Path | None = None, state_stream_id: int | None = None
) -> tuple[list[Any], str]:
    """(the last `limit` RiskEvents of the latest recording, oldest first; where they come from or why
    there are none)."""
    recording = latest_recording(instance, data_dir)
    if recording is None:
        return [], f"no recording of desk {instance} (is a recorder in its profile?)"
    stream = state_stream_id if state_stream_id is not None else load_bus_config().stream("state").stream_id
    last: deque[bytes] = deque(maxlen=max(limit, 0))
    try:
        with JournalReader(recording, expected_schema_id=SCHEMA_ID) as reader:
            for rec in reader.records(stream_ids=[stream], template_ids=[RiskEvent.TEMPLATE_ID]):
                last.append(rec.payload)
    except JournalError as e:
        return [], f"cannot read the recording {recording}: {e}"
    return [decode(p) for p in last], str(recording)
