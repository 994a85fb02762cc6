"""An older bot on a database a newer bot has upgraded: start-up, `tutorbot health` and
`tutorbot db upgrade` all say what to do instead of suggesting an upgrade."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import StartupError, open_app
from bot.config import load_settings
from bot.health import check_database
from storage.db import create_engine
from storage.migrate import head_revision, schema_status
from tests.bot.test_cli import tutorbot

NEWER = "9999"  # a revision no migration of this bot has
ADVICE = "run that version, or restore a backup made before the upgrade"


async def set_revision(url: str, revision: str | None) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision}
            )
    finally:
        await engine.dispose()


@asynccontextmanager
async def upgraded_by_a_newer_bot(url: str) -> AsyncIterator[None]:
    """The database at a revision this bot does not know, put back afterwards (the PostgreSQL
    test database is shared by the session)."""
    await set_revision(url, NEWER)
    try:
        yield
    finally:
        await set_revision(url, head_revision())


async def test_start_up_refuses_it_without_suggesting_an_upgrade(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(database_url=database_url, data_dir=tmp_path / "data")
    async with upgraded_by_a_newer_bot(database_url):
        with pytest.raises(StartupError) as refused:
            async with open_app(settings):
                pass
        engine = create_engine(database_url)
        try:
            assert (await schema_status(engine)).current == NEWER  # left as it was
        finally:
            await engine.dispose()
    message = str(refused.value)
    assert f"upgraded by a newer version of the bot (schema revision {NEWER}" in message
    assert ADVICE in message and "db upgrade" not in message


async def test_health_reports_it(database_url: str) -> None:
    async with upgraded_by_a_newer_bot(database_url):
        problem = await check_database(database_url)
    assert problem and f"(schema revision {NEWER}, unknown here)" in problem
    assert ADVICE in problem and "db upgrade" not in problem


def test_db_upgrade_refuses_it_with_the_same_sentence(tmp_path: Path) -> None:
    data = {"DATA_DIR": str(tmp_path)}
    assert tutorbot("db", "upgrade", env=data).returncode == 0
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (NEWER,))

    upgrading = tutorbot("db", "upgrade", env=data)
    assert upgrading.returncode == 1
    assert "Traceback" not in upgrading.stderr and "Can't locate" not in upgrading.stderr
    assert upgrading.stderr.strip() == (
        f"The database was upgraded by a newer version of the bot (schema revision {NEWER}, "
        f"unknown here): {ADVICE}."
    )
    starting = tutorbot("console", env=data, stdin="about\n")
    assert (starting.returncode, starting.stderr) == (1, upgrading.stderr)
    with sqlite3.connect(tmp_path / "tutor.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (NEWER,)
