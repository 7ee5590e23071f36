"""Benchmark results: latency percentiles (HDR histogram) and ratios to a same-run baseline.

A figure without a baseline measured in the same run says little on a shared, noisy machine, so
every case carries its baseline and the ratio between them. Nothing here is a pass/fail threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

PERCENTILES = (50.0, 99.0, 99.9)


class LatencyRecorder:
    """Records nanosecond samples into an HDR histogram (1 ns .. 60 s, 3 significant digits)."""

    def __init__(self) -> None:
        self.hist = HdrHistogram(1, 60_000_000_000, 3)

    def record(self, ns: int) -> None:
        self.hist.record_value(max(1, ns))

    def percentiles(self) -> dict[str, int]:
        return {f"p{p:g}": int(self.hist.get_value_at_percentile(p)) for p in PERCENTILES} | {
            "max": int(self.hist.get_max_value()),
            "count": int(self.hist.get_total_count()),
        }


@dataclass
class BenchCase:
    name: str
    unit: str  # "ns/op", "ns one-way", "msg/s"
    value: dict[str, float]  # percentiles or a single "value"
    baseline_name: str
    baseline: dict[str, float]
    goal: str = ""  # the stated goal, e.g. "<= 1.5x"

    def ratio(self, key: str = "p50") -> float | None:
        b = self.baseline.get(key)
        v = self.value.get(key)
        if not b or v is None:
            return None
        return v / b


@dataclass
class BenchReport:
    title: str
    cases: list[BenchCase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "cases": [asdict(c) | {"ratio_p50": c.ratio("p50") or c.ratio("value")} for c in self.cases],
            "notes": self.notes,
        }

    def to_text(self) -> str:
        lines = [self.title]
        for c in self.cases:
            keys = [k for k in ("p50", "p99", "p99.9", "value") if k in c.value]
            vals = "  ".join(f"{k}={_fmt(c.value[k])}" for k in keys)
            base = "  ".join(f"{k}={_fmt(c.baseline[k])}" for k in keys if k in c.baseline)
            r = c.ratio("p50") or c.ratio("value")
            ratio = f"{r:.2f}x" if r is not None else "n/a"
            goal = f" (goal {c.goal})" if c.goal else ""
            lines.append(f"  {c.name} [{c.unit}]: {vals}")
            lines.append(f"      baseline {c.baseline_name}: {base}  ratio {ratio}{goal}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"
