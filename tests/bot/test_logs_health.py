from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.exts import walk_extensions
from bot.health import check_heartbeat, write_heartbeat
from bot.logs import RedactFilter, setup_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.fake-token-for-the-log-tests"


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


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging replaces the root handlers (pytest's own included): put them back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quieted = {name: logging.getLogger(name).level for name in ("discord", "alembic")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quieted.items():
        logging.getLogger(name).setLevel(old)


def log_a_leak() -> None:
    """What could carry the token: a message argument, an exception's text (so its traceback),
    and a stack."""
    log = logging.getLogger("bot.leaky")
    log.info("logging in with %s", TOKEN)
    try:
        raise RuntimeError(f"Improper token {TOKEN} has been passed.")
    except RuntimeError:
        log.exception("login failed")
    log.warning("where this came from", stack_info=True)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_a_line_without_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", secrets=[TOKEN], log_format="json", context={"shards": [0, 1]})
    log_a_leak()
    err = capsys.readouterr().err
    assert TOKEN not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["message"] for line in lines] == [
        "logging in with [redacted]",
        "login failed",
        "where this came from",
    ]
    for line in lines:
        assert line["logger"] == "bot.leaky"
        assert line["shards"] == [0, 1]
        written = datetime.fromisoformat(line["time"])
        assert written.utcoffset() == timedelta(0)
        assert abs(datetime.now(written.tzinfo) - written) < timedelta(minutes=1)
    info, error, warning = lines
    assert (info["level"], error["level"], warning["level"]) == ("INFO", "ERROR", "WARNING")
    assert "exception" not in info
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: Improper token [redacted] has been passed." in error["exception"]
    assert "log_a_leak" in warning["stack"]


@pytest.mark.usefixtures("restore_logging")
def test_text_logs_are_readable_lines_without_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", secrets=[TOKEN])
    log_a_leak()
    err = capsys.readouterr().err
    assert TOKEN not in err
    line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|ERROR|WARNING) +bot\.leaky: ")
    records = [text for text in err.splitlines() if line.match(text)]
    assert len(records) == 3
    assert records[0].endswith("bot.leaky: logging in with [redacted]")
    assert "Traceback (most recent call last):" in err
    assert "RuntimeError: Improper token [redacted] has been passed." in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(records[0])
