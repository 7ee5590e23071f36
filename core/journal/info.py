"""JournalInfo: what `aerodesk log ls` shows about a journal, built from its segments' indexes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.journal.damage import Damage
from core.journal.format import SegmentHeader
from core.journal.loader import LoadedSegment


@dataclass(frozen=True)
class JournalInfo:
    path: Path
    instance: str | None
    schema_id: int | None
    schema_versions: tuple[int, ...]
    created_at_ns: int | None  # first segment's creation time
    segment_count: int
    size_bytes: int  # segments and index files
    record_count: int  # readable records (records after damage included when a resync point allows)
    first_sequence: int | None
    last_sequence: int | None
    first_receive_ns: int | None  # earliest receive time
    last_receive_ns: int | None  # latest receive time
    counts_by_stream: dict[int, int]
    counts_by_template: dict[tuple[int, int], int]  # (schema id, template id) -> count
    damage: tuple[Damage, ...]

    @property
    def damaged(self) -> bool:
        return any(d.loses_data for d in self.damage)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "instance": self.instance,
            "schema_id": self.schema_id,
            "schema_versions": list(self.schema_versions),
            "created_at_ns": self.created_at_ns,
            "segment_count": self.segment_count,
            "size_bytes": self.size_bytes,
            "record_count": self.record_count,
            "first_sequence": self.first_sequence,
            "last_sequence": self.last_sequence,
            "first_receive_ns": self.first_receive_ns,
            "last_receive_ns": self.last_receive_ns,
            "counts_by_stream": {str(k): v for k, v in sorted(self.counts_by_stream.items())},
            "counts_by_template": {f"{s}:{t}": v for (s, t), v in sorted(self.counts_by_template.items())},
            "damage": [d.to_dict() for d in self.damage],
        }


@dataclass
class InfoBuilder:
    path: Path
    headers: list[SegmentHeader | None]
    size_bytes: int
    record_count: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    first_receive_ns: int | None = None
    last_receive_ns: int | None = None
    streams: Counter[int] = field(default_factory=Counter)
    templates: Counter[tuple[int, int]] = field(default_factory=Counter)

    def add(self, segment: LoadedSegment) -> None:
        entries = segment.entries
        if len(entries) == 0:
            return
        self.record_count += len(entries)
        first, last = segment.sequence_range() or (0, 0)
        self.first_sequence = first if self.first_sequence is None else min(self.first_sequence, first)
        self.last_sequence = last if self.last_sequence is None else max(self.last_sequence, last)
        times = entries["receive_time_ns"]
        lo, hi = int(times.min()), int(times.max())
        self.first_receive_ns = lo if self.first_receive_ns is None else min(self.first_receive_ns, lo)
        self.last_receive_ns = hi if self.last_receive_ns is None else max(self.last_receive_ns, hi)
        streams, counts = np.unique(entries["stream_id"], return_counts=True)
        self.streams.update(dict(zip(streams.tolist(), counts.tolist(), strict=True)))
        keys = entries["schema_id"].astype(np.uint32) << 16 | entries["template_id"].astype(np.uint32)
        packed, counts = np.unique(keys, return_counts=True)
        self.templates.update(
            {(k >> 16, k & 0xFFFF): c for k, c in zip(packed.tolist(), counts.tolist(), strict=True)}
        )

    def build(self, damage: list[Damage]) -> JournalInfo:
        known = [h for h in self.headers if h is not None]
        return JournalInfo(
            path=self.path,
            instance=known[0].instance if known else None,
            schema_id=known[0].schema_id if known else None,
            schema_versions=tuple(sorted({h.schema_version for h in known})),
            created_at_ns=known[0].created_at_ns if known else None,
            segment_count=len(self.headers),
            size_bytes=self.size_bytes,
            record_count=self.record_count,
            first_sequence=self.first_sequence,
            last_sequence=self.last_sequence,
            first_receive_ns=self.first_receive_ns,
            last_receive_ns=self.last_receive_ns,
            counts_by_stream=dict(sorted(self.streams.items())),
            counts_by_template=dict(sorted(self.templates.items())),
            damage=tuple(damage),
        )
