"""Shared test fixtures and the on-demand markers.

Tests marked `perf` (benchmarks) or `slow` (soak and stress runs) are skipped unless selected with
`-m perf` / `-m slow`, so `uv run pytest` stays functional and fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = config.getoption("-m") or ""
    for marker in ("perf", "slow"):
        if marker in selected:
            continue
        skip = pytest.mark.skip(reason=f"{marker} test: run on demand with -m {marker}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data with the real recordings; tests that need it skip clearly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recorded data not found at {SHARED_DATA} (see README: Development)")
    return SHARED_DATA
