"""Diagnostics of schema checking: each one names the line, the element and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Issue:
    severity: Severity
    line: int | None
    element: str  # e.g. '<field name="price">' or 'message NewOrder'
    message: str

    def format(self, source: str = "") -> str:
        where = f"{source}:{self.line}" if self.line else source or "<schema>"
        elem = f" {self.element}:" if self.element else ""
        return f"{where}: {self.severity}:{elem} {self.message}"


class SchemaError(ValueError):
    """The schema cannot be used; `issues` holds every problem found (errors first)."""

    def __init__(self, issues: list[Issue], source: str = "") -> None:
        self.issues = sorted(issues, key=lambda i: (i.severity != "error", i.line or 0))
        self.source = source
        errors = [i for i in self.issues if i.severity == "error"]
        shown = "\n".join(i.format(source) for i in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in SBE schema {source or ''}\n{shown}{more}")


class Collector:
    """Accumulates issues while parsing so one run reports every problem, not just the first."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, line: int | None, element: str, message: str) -> None:
        self.issues.append(Issue("error", line, element, message))

    def warning(self, line: int | None, element: str, message: str) -> None:
        self.issues.append(Issue("warning", line, element, message))

    def note(self, line: int | None, element: str, message: str) -> None:
        self.issues.append(Issue("note", line, element, message))

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)
