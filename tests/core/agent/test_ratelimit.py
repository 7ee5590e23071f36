"""RateLimitedLog: first report of a reason logs at once; repeats within the interval are counted and
summarised in the next line for that reason."""

from __future__ import annotations

import logging

from core.agent import RateLimitedLog


def test_one_line_per_reason_per_interval_with_the_suppressed_count(caplog):
    now = [0]
    log = RateLimitedLog(logging.getLogger("aerodesk.test"), interval_ns=100, nano_clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="aerodesk.test"):
        assert log.report("bad_template", "unknown template 9") is True
        assert log.report("bad_template", "unknown template 9") is False
        assert log.report("bad_schema", "schema 1") is True  # another reason has its own budget
        now[0] = 50
        assert log.report("bad_template", "unknown template 9") is False
        now[0] = 100
        assert log.report("bad_template", "unknown template 7") is True
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "unknown template 9",
        "schema 1",
        "unknown template 7 (2 more like this since the last report)",
    ]
