"""`tutorbot health` checks the database too: it answers in time and has the bot's schema."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.bot import TutorBot
from bot.config import Settings
from bot.health import check_database


async def test_a_migrated_database_is_healthy(database_url: str) -> None:
    assert await check_database(database_url) is None


async def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "tutor.db"
    problem = await check_database(f"sqlite+aiosqlite:///{path}")
    assert problem and "no database at" in problem
    assert not path.exists() and not path.parent.exists()


async def test_a_schema_behind_the_bot_is_reported(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "tutor.db"
    path.write_bytes(sqlite_template.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0009'")
    problem = await check_database(f"sqlite+aiosqlite:///{path}")
    assert problem and "revision 0009" in problem and "tutorbot db upgrade" in problem


async def test_an_empty_database_has_no_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    problem = await check_database(f"sqlite+aiosqlite:///{path}")
    assert problem and "no schema yet" in problem


async def test_a_server_that_never_answers_times_out() -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept_and_say_nothing(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url = f"postgresql+asyncpg://tutor:hunter2@127.0.0.1:{port}/tutor"
        problem = await asyncio.wait_for(check_database(url, within=0.5), 10)
    finally:
        for writer in held:
            writer.close()
        server.close()
    assert problem and "did not answer within 0.5 s" in problem
    assert "hunter2" not in problem


async def test_a_refused_connection_is_reported_without_the_password() -> None:
    url = f"postgresql+asyncpg://tutor:hunter2@127.0.0.1:{unused_port()}/tutor"
    problem = await check_database(url)
    assert problem and "does not answer" in problem and "***" in problem
    assert "hunter2" not in problem


async def test_the_running_bot_is_healthy_until_it_stops(
    tutor: TutorBot, settings: Settings
) -> None:
    """The real command, in its own process, next to the real bot on the loopback Discord."""
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.resolved_database_url,
    }
    env.pop("DISCORD_TOKEN", None)
    running = await asyncio.to_thread(health, env)
    assert (running.returncode, running.stdout.strip()) == (0, "healthy"), running.stdout
    await tutor.close()
    stopped = await asyncio.to_thread(health, env)
    assert stopped.returncode == 1
    assert "no heartbeat" in stopped.stdout and "database" not in stopped.stdout


def health(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def unused_port() -> int:
    """A local port that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
