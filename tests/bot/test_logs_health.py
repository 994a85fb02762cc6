from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.exts import walk_extensions
from bot.health import check_heartbeat, write_heartbeat
from bot.logs import RedactFilter


def test_redact_filter_hides_secrets_in_formatted_messages() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", ("abc.def",), None)
    RedactFilter(["abc.def"]).filter(record)
    assert record.getMessage() == "token is [redacted]"


def test_heartbeat_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    write_heartbeat(path, ready=True, latency=0.1)
    assert check_heartbeat(path, max_age=60) is None
    assert "old" in (check_heartbeat(path, max_age=60, now=10**12) or "")


def test_unreadable_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text("{not json")
    assert "unreadable" in (check_heartbeat(path, max_age=60) or "")


@pytest.mark.parametrize("name", ["bot.exts.meta"])
def test_extensions_are_found_without_a_list(name: str) -> None:
    assert name in list(walk_extensions())
