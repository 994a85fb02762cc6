"""The `tutorbot` command as an operator meets it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.health import write_heartbeat


def tutorbot(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
    )


def test_run_without_token_explains_and_offers_the_console() -> None:
    result = tutorbot("run")
    assert result.returncode == 2
    assert "No Discord token is set" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "./run.sh console" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_settings_name_every_field_without_traceback() -> None:
    result = tutorbot("run", env={"LOG_LEVEL": "LOUD", "HEALTH_MAX_AGE": "-1"})
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr and "HEALTH_MAX_AGE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["run", "console", "health"])
def test_bad_lab_settings_are_named_in_the_same_message(command: str, tmp_path: Path) -> None:
    env = {"LAB_CPUS": "10", "LAB_CONCURRENCY": "many", "LOG_LEVEL": "LOUD"}
    result = tutorbot(command, env={**env, "DATA_DIR": str(tmp_path)}, stdin="about\n")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "The configuration has problems (environment or .env):",
        "  LOG_LEVEL: Value error, must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG",
        "  LAB_CONCURRENCY: Input should be a valid integer, unable to parse string as an integer",
        "  LAB_CPUS: Input should be less than or equal to 4",
    ]
    assert result.stdout == ""


def test_token_never_appears_in_output() -> None:
    token = "MTIz.fake.token-that-must-not-leak"
    result = tutorbot("run", env={"DISCORD_TOKEN": token, "LOG_LEVEL": "LOUD"})
    assert token not in result.stdout + result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = tutorbot("db", "upgrade", env={"DATA_DIR": str(tmp_path / "fresh")})
    assert result.returncode == 0, result.stderr
    assert "Database is at revision" in result.stdout
    assert (tmp_path / "fresh" / "tutor.db").is_file()


def test_health_fails_without_a_running_bot(tmp_path: Path) -> None:
    result = tutorbot("health", env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "not running" in result.stdout


def test_health_passes_on_a_fresh_ready_heartbeat_and_fails_on_a_stale_one(
    tmp_path: Path,
) -> None:
    assert tutorbot("db", "upgrade", env={"DATA_DIR": str(tmp_path)}).returncode == 0
    write_heartbeat(tmp_path / "health.json", ready=True, latency=0.05)
    assert tutorbot("health", env={"DATA_DIR": str(tmp_path)}).returncode == 0

    beat = json.loads((tmp_path / "health.json").read_text())
    beat["at"] = time.time() - 600
    (tmp_path / "health.json").write_text(json.dumps(beat))
    stale = tutorbot("health", env={"DATA_DIR": str(tmp_path)})
    assert stale.returncode == 1
    assert "old" in stale.stdout


def test_health_fails_while_not_connected(tmp_path: Path) -> None:
    write_heartbeat(tmp_path / "health.json", ready=False, latency=None)
    result = tutorbot("health", env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "not connected" in result.stdout


def test_sync_without_guild_or_global_says_what_to_do() -> None:
    result = tutorbot("sync", env={"DISCORD_TOKEN": "x.y.z"})
    assert result.returncode == 2
    assert "--guild" in result.stdout and "--global" in result.stdout


@pytest.mark.parametrize("command", ["run", "console", "sync", "health", "db", "content"])
def test_help_lists_every_command(command: str) -> None:
    assert command in tutorbot("--help").stdout


def test_console_is_scriptable(tmp_path: Path) -> None:
    result = tutorbot(
        "console", env={"DATA_DIR": str(tmp_path)}, stdin="about\nparts\nfrobnicate\nquit\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "tutor> about"
    assert "21 parts, 4 tracks" in lines[1]
    assert any("How to use this series" in line for line in lines)
    assert "Unknown command 'frobnicate'" in result.stdout
    assert (tmp_path / "tutor.db").is_file()


def test_refuses_a_database_that_is_behind(tmp_path: Path) -> None:
    data = str(tmp_path)
    assert tutorbot("db", "upgrade", env={"DATA_DIR": data}).returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0009'")
    result = tutorbot("console", env={"DATA_DIR": data}, stdin="about\n")
    assert result.returncode == 1
    assert "tutorbot db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_into_a_closed_pipe_stops_quietly() -> None:
    done = subprocess.run(
        f"{sys.executable} -m bot content export | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == '{\n  "title'[:10]
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql+asyncpg://postgres:sekrit@127.0.0.1:1/tutor",
            "start the database server, or check the host and port",
        ),
        ("sqlite+aiosqlite:////dev/null/tutor.db", "check that the folder exists"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_message(url: str, says: str) -> None:
    result = tutorbot("console", env={"DATABASE_URL": url}, stdin="help\n")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Cannot open the database ") and says in result.stderr
    assert "sekrit" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 2


def test_a_missing_postgresql_database_says_to_create_it() -> None:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server or not server.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    url = server.rsplit("/", 1)[0] + "/tutor_no_such_db"
    result = tutorbot("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "createdb" in result.stderr
