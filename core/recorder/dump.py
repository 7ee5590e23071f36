"""`aerodesk log dump`: a journal's records, decoded, one per line (text or JSON).

The selection (streams, templates, time range) is applied on the journal's index, so skipped records
are never read; each selected record is then decoded with the generated codec.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from core.codec.messages import SCHEMA_ID, decode
from core.journal import JournalReader, Record
from core.recorder.markers import MARKER_STREAM_ID, decode_marker
from core.recorder.names import StreamNames, template_name
from core.recorder.timespec import format_time


@dataclass(frozen=True)
class Selection:
    """Which records: None means all. Times select start_ns <= receive time < end_ns."""

    stream_ids: Collection[int] | None = None
    template_ids: Collection[int] | None = None
    start_ns: int | None = None
    end_ns: int | None = None


def select_records(reader: JournalReader, selection: Selection) -> Iterator[Record]:
    return reader.records(
        stream_ids=selection.stream_ids,
        template_ids=selection.template_ids,
        start_ns=selection.start_ns,
        end_ns=selection.end_ns,
    )


def record_dict(record: Record, names: StreamNames) -> dict[str, Any]:
    """One record as a JSON-ready dict: journal fields, then the decoded message under "fields"."""
    out: dict[str, Any] = {
        "seq": record.sequence,
        "receive_time_ns": record.receive_time_ns,
        "receive_time": format_time(record.receive_time_ns),
        "stream_id": record.stream_id,
        "stream": names.name(record.stream_id),
        "session_id": record.session_id,
        "position": record.position,
        "template_id": record.template_id,
        "template": template_name(record.template_id),
    }
    payload = record.payload
    schema_id = int.from_bytes(payload[4:6], "little")
    if schema_id != SCHEMA_ID:
        out["error"] = f"schema id {schema_id}, not this build's {SCHEMA_ID}: not decoded"
        out["hex"] = payload.hex()
        return out
    try:
        out["fields"] = decode(payload).to_dict()
    except ValueError as e:  # SbeError: truncated, malformed, unknown template
        out["error"] = f"{type(e).__name__}: {e}"
        out["hex"] = payload.hex()
        return out
    if record.stream_id == MARKER_STREAM_ID:
        marker = decode_marker(payload, record.session_id)
        if marker is not None:
            out["marker"] = marker.to_dict()
    return out


def record_json(record: Record, names: StreamNames) -> str:
    return json.dumps(record_dict(record, names), default=_json_default, separators=(",", ":"))


def record_text(record: Record, names: StreamNames) -> str:
    d = record_dict(record, names)
    head = (
        f"{d['receive_time']}  #{d['seq']}  {d['stream']}({d['stream_id']})  session={d['session_id']}  "
        f"{d['template']}"
    )
    if "error" in d:
        return f"{head}  error={d['error']}  hex={d['hex']}"
    return head + "  " + " ".join(f"{k}={_text(v)}" for k, v in d["fields"].items())


def _text(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if (not value or " " in value or "=" in value) else value
    if isinstance(value, dict | list):
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
