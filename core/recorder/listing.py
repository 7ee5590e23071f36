"""`aerodesk log ls`: every journal under a data directory with what it holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.journal import JournalError, JournalInfo, find_journals, journal_info
from core.journal.segments import is_journal_dir
from core.recorder.names import StreamNames, template_name
from core.recorder.timespec import format_duration, format_time


@dataclass(frozen=True)
class JournalEntry:
    path: Path
    info: JournalInfo | None
    error: str | None = None  # the journal could not be read at all

    def to_dict(self, names: StreamNames) -> dict[str, Any]:
        if self.info is None:
            return {"path": str(self.path), "error": self.error}
        info = self.info
        out = info.to_dict()
        out["path"] = str(self.path)
        out["counts_by_stream"] = {names.name(k): v for k, v in info.counts_by_stream.items()}
        out["counts_by_template"] = {
            template_name(t) if s == info.schema_id else f"{s}:{t}": n
            for (s, t), n in info.counts_by_template.items()
        }
        out["first_receive_time"] = format_time(info.first_receive_ns) if info.first_receive_ns else None
        out["last_receive_time"] = format_time(info.last_receive_ns) if info.last_receive_ns else None
        out["damaged"] = info.damaged
        return out

    def to_text(self, names: StreamNames) -> str:
        if self.info is None:
            return f"{self.path}  unreadable: {self.error}"
        info = self.info
        if info.first_receive_ns is not None and info.last_receive_ns is not None:
            span = (
                f"{format_time(info.first_receive_ns)} .. {format_time(info.last_receive_ns)} "
                f"({format_duration(info.last_receive_ns - info.first_receive_ns)})"
            )
        else:
            span = "empty"
        streams = " ".join(f"{names.name(k)}={v}" for k, v in info.counts_by_stream.items())
        templates = " ".join(
            f"{template_name(t) if s == info.schema_id else f'{s}:{t}'}={n}"
            for (s, t), n in info.counts_by_template.items()
        )
        parts = [str(self.path), span, f"{info.record_count} msgs", _size(info.size_bytes)]
        if streams:
            parts.append(f"streams: {streams}")
        if templates:
            parts.append(f"templates: {templates}")
        lossy = [d for d in info.damage if d.loses_data]
        if lossy:
            parts.append(f"DAMAGED: {len(lossy)} place(s), first: {lossy[0].kind} in {lossy[0].segment.name}")
        return "  ".join(parts)


def journal_dirs(root: Path, instance: str | None = None) -> list[Path]:
    """Journals under `root`: a data directory (all instances, or one), or `root` itself if it is one."""
    if is_journal_dir(root):
        return [root]
    return find_journals(root, instance)


def list_journals(root: Path, instance: str | None = None) -> list[JournalEntry]:
    entries = []
    for path in journal_dirs(root, instance):
        try:
            entries.append(JournalEntry(path, journal_info(path)))  # verified: damage is shown
        except (JournalError, OSError) as e:
            entries.append(JournalEntry(path, None, str(e)))
    return entries


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
