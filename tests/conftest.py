"""Shared fixtures: every database test runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's .env and DISCORD_TOKEN out of the tests."""
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "DATABASE_URL", "DATA_DIR", "DEV_GUILD_ID", "CONTENT_DIR"):
        monkeypatch.delenv(name, raising=False)


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    asyncio.run(_migrated(f"sqlite+aiosqlite:///{path}"))
    return path


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database of our own on the PostgreSQL that TEST_DATABASE_URL names.

    An unreachable server fails every PostgreSQL test loudly: it is never skipped.
    """
    name = f"tutor_test_{uuid.uuid4().hex[:8]}"
    base = make_url(PG_URL)
    url = base.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(_migrated(url))
        yield url
    finally:
        asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "tutor.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = str(request.getfixturevalue("postgres_url"))
    asyncio.run(_empty_tables(url))  # every test starts from an empty schema
    return url


async def _empty_tables(url: str) -> None:
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def draft_course(tmp_path: Path) -> Path:
    """The shipped course as a draft with Part 20 not written yet: what an author sees while
    writing, and the only kind of course where a part is "coming soon"."""
    from bot.config import default_course_dir

    course = tmp_path / "draft-course"
    shutil.copytree(default_course_dir(), course)
    (course / "20-cheatsheet.md").unlink(missing_ok=True)
    toml = course / "course.toml"
    text = toml.read_text(encoding="utf-8")
    if "\ndraft = true" not in text:
        toml.write_text("draft = true\n" + text, encoding="utf-8")
    return course
