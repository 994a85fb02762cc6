"""Copying the bot's data into another, empty database: SQLite to PostgreSQL, or back.

The source must be at this bot's schema head; the target must hold no rows
and is migrated to head first when it has no schema (or an older one). Then every table of
the schema is copied in foreign-key order, in batches, through its Table object (so UTC
datetimes, JSON and booleans convert both ways), in one transaction on the target: a copy that
fails or whose row counts do not match is rolled back and leaves the target empty. PostgreSQL
sequences are moved past the copied ids so that new rows get fresh ones.

The source is read in one snapshot (a deferred transaction on SQLite, REPEATABLE READ on
PostgreSQL), but the bot should be stopped all the same: what it writes after the snapshot
would be lost.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, func, insert, inspect, literal, select, table, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import create_engine
from storage.migrate import head_revision, is_known_revision, upgrade
from storage.models import Base

BATCH_ROWS = 1000
SURVEY_TIMEOUT = 15.0  # seconds to reach each database and see what it holds
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
URL_FORMS = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/NAME"
VERSION_TABLE = "alembic_version"

# (table, rows copied so far, rows in all), after each batch
Progress = Callable[[str, int, int], None]


class CopyError(Exception):
    """A copy that must not go ahead or did not complete; the message says why and what to do."""


@dataclass(frozen=True)
class CopyReport:
    source: str  # shown without the password
    target: str
    revision: str
    migrated: bool  # the target's schema was created (or upgraded) first
    rows: dict[str, int]  # per table in copy order; verified equal in source and target
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(text_: str | URL, role: str) -> URL:
    """A URL of one of the bot's async drivers that names a database, or CopyError."""
    try:
        url = make_url(text_)
    except (ArgumentError, ValueError):
        # the text may hold a password in a form we cannot find, so it is not repeated
        raise CopyError(f"The {role} is not a database URL: expected {URL_FORMS}.") from None
    if url.drivername not in DRIVERS:
        raise CopyError(f"The {role} {shown(url)} must start with {' or '.join(DRIVERS)}.")
    if url.database in (None, "", ":memory:"):
        raise CopyError(f"The {role} {shown(url)} names no database: expected {URL_FORMS}.")
    return url


def _sqlite_file(url: URL) -> Path | None:
    return Path(str(url.database)).expanduser() if url.get_backend_name() == "sqlite" else None


def same_database(a: URL, b: URL) -> bool:
    """Whether two URLs name the same database (the same file; the same server and name)."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    file_a, file_b = _sqlite_file(a), _sqlite_file(b)
    if file_a is not None and file_b is not None:
        if file_a.exists() and file_b.exists():
            return os.path.samefile(file_a, file_b)
        return file_a.resolve() == file_b.resolve()
    return (a.host or "localhost", a.port or 5432, a.database) == (
        b.host or "localhost",
        b.port or 5432,
        b.database,
    )


def _reason(exc: BaseException, *urls: URL) -> str:
    """The first line of what the driver said, with any password of `urls` taken out."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    for url in urls:
        if url.password:
            reason = reason.replace(str(url.password), "***")
    return reason


@dataclass(frozen=True)
class _Survey:
    """What a database holds, seen before copying."""

    revision: str | None
    tables: tuple[str, ...]  # every table but Alembic's
    filled: str | None  # the first of them that has a row
    server: tuple[object, ...] | None  # PostgreSQL: the database and the server's start time


async def _first_filled(connection: AsyncConnection, names: Sequence[str]) -> str | None:
    for name in names:
        if await connection.scalar(select(literal(1)).select_from(table(name)).limit(1)):
            return name
    return None


def _schema(connection: Connection) -> tuple[str | None, tuple[str, ...]]:
    revision = MigrationContext.configure(connection).get_current_revision()
    names = inspect(connection).get_table_names()
    return revision, tuple(name for name in names if name != VERSION_TABLE)


async def _survey(connection: AsyncConnection) -> _Survey:
    revision, tables = await connection.run_sync(_schema)
    server = None
    if connection.dialect.name == "postgresql":
        identity = text("SELECT current_database(), pg_postmaster_start_time()")
        server = tuple((await connection.execute(identity)).one())
    return _Survey(revision, tables, await _first_filled(connection, tables), server)


@asynccontextmanager
async def _reaching(url: URL, role: str) -> AsyncIterator[None]:
    """Turn a database that cannot be reached (or read) into one clear line."""
    try:
        yield
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise CopyError(
            f"Cannot reach the {role} database {shown(url)}: {_reason(exc, url)}"
        ) from exc


async def _look(engine: AsyncEngine, url: URL, role: str) -> _Survey:
    async with (
        _reaching(url, role),
        asyncio.timeout(SURVEY_TIMEOUT),
        engine.connect() as connection,
    ):
        return await _survey(connection)


def _check_source(url: URL, survey: _Survey, head: str) -> None:
    where = shown(url)
    if survey.revision is None:
        raise CopyError(f"The source {where} has no schema of this bot: there is nothing to copy.")
    if not is_known_revision(survey.revision):
        raise CopyError(
            f"The source {where} is at schema revision {survey.revision}, which this version of "
            f"the bot does not know (its newest is {head}): copy it with the newer bot."
        )
    if survey.revision != head:
        raise CopyError(
            f"The source {where} is at schema revision {survey.revision}, behind this bot's "
            f"{head}: run `tutorbot db upgrade` on it first (with it as DATABASE_URL or in "
            "DATA_DIR), then copy."
        )


def _target_needs_schema(url: URL, survey: _Survey, head: str) -> bool:
    """Whether the target must be migrated first; CopyError if it cannot take the copy."""
    where = shown(url)
    if survey.filled is not None:
        raise CopyError(
            f"The target {where} is not empty (table {survey.filled} has rows): copy into an "
            "empty database; a copy never merges."
        )
    if survey.revision is None and survey.tables:
        raise CopyError(
            f"The target {where} has tables but no schema revision of this bot "
            f"({', '.join(survey.tables[:3])}...): copy into an empty database."
        )
    if survey.revision is not None and not is_known_revision(survey.revision):
        raise CopyError(
            f"The target {where} is at schema revision {survey.revision}, which this version "
            f"of the bot does not know (its newest is {head}): copy into an empty database."
        )
    return survey.revision != head


async def _snapshot(source: AsyncConnection) -> AsyncConnection:
    """One consistent, read-only view of the source for the whole copy."""
    if source.dialect.name == "postgresql":
        source = await source.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    await source.begin()
    return source


async def _count(connection: AsyncConnection, of: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(of)) or 0)


async def _copy_table(
    source: AsyncConnection,
    target: AsyncConnection,
    of: Table,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    total = await _count(source, of)
    copied = 0
    rows = await source.stream(select(of).order_by(*of.primary_key.columns))
    async for batch in rows.partitions(batch_rows):
        await target.execute(insert(of), [dict(row._mapping) for row in batch])
        copied += len(batch)
        if progress is not None:
            progress(of.name, copied, total)
    if copied != total:
        raise CopyError(f"Read {copied} rows of {of.name} where the source counted {total}.")
    return copied


async def _reset_sequences(target: AsyncConnection) -> None:
    """PostgreSQL: the next id of each serial column comes after the largest copied one."""
    if target.dialect.name != "postgresql":
        return  # SQLite takes the largest rowid + 1 by itself
    quote = target.dialect.identifier_preparer.format_table
    for of in Base.metadata.sorted_tables:
        column = of.autoincrement_column
        if column is None:
            continue
        sequence = func.pg_get_serial_sequence(quote(of), column.name)
        following = func.coalesce(func.max(column), 0) + 1
        await target.execute(select(func.setval(sequence, following, False)))


async def _verify(target: AsyncConnection, rows: dict[str, int]) -> None:
    for of in Base.metadata.sorted_tables:
        found = await _count(target, of)
        if found != rows[of.name]:
            raise CopyError(
                f"After copying, {of.name} has {found} rows in the target but "
                f"{rows[of.name]} in the source."
            )


async def _copy_all(
    source: AsyncConnection,
    target: AsyncConnection,
    batch_rows: int,
    progress: Progress | None,
) -> dict[str, int]:
    tables = Base.metadata.sorted_tables
    # checked again inside the transaction: something may have written since the survey
    filled = await _first_filled(target, [of.name for of in tables])
    if filled is not None:
        raise CopyError(f"The target is not empty any more (table {filled} has rows).")
    rows = {of.name: await _copy_table(source, target, of, batch_rows, progress) for of in tables}
    await _reset_sequences(target)
    await _verify(target, rows)
    return rows


@asynccontextmanager
async def _engine(url: URL, role: str) -> AsyncIterator[AsyncEngine]:
    async with _reaching(url, role):  # a SQLite folder that cannot be made
        engine = create_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()


async def copy_database(
    source: str | URL,
    target: str | URL,
    *,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every row of `source` into the empty database `target`; CopyError says why not."""
    source_url, target_url = parse_url(source, "source"), parse_url(target, "target")
    if same_database(source_url, target_url):
        raise CopyError(
            f"The source and the target are the same database ({shown(source_url)}): "
            "name another target."
        )
    source_file = _sqlite_file(source_url)
    if source_file is not None and not source_file.is_file():
        raise CopyError(f"There is no database at {source_file} to copy.")
    head = head_revision()
    assert head is not None, "the bot ships its migrations"
    started = time.perf_counter()
    async with _engine(source_url, "source") as source_engine:
        source_survey = await _look(source_engine, source_url, "source")
        _check_source(source_url, source_survey, head)
        async with _engine(target_url, "target") as target_engine:  # only now: it may create a file
            target_survey = await _look(target_engine, target_url, "target")
            if source_survey.server is not None and source_survey.server == target_survey.server:
                raise CopyError(
                    f"The source and the target are the same database on the same server "
                    f"({shown(source_url)} and {shown(target_url)}): name another target."
                )
            migrated = _target_needs_schema(target_url, target_survey, head)
            if migrated:
                async with _reaching(target_url, "target"):
                    await upgrade(target_engine)
            try:
                async with source_engine.connect() as read, target_engine.begin() as write:
                    rows = await _copy_all(await _snapshot(read), write, batch_rows, progress)
            except (SQLAlchemyError, OSError) as exc:
                raise CopyError(
                    "The copy failed and was rolled back, so the target holds no rows: "
                    f"{_reason(exc, source_url, target_url)}"
                ) from exc
    return CopyReport(
        source=shown(source_url),
        target=shown(target_url),
        revision=head,
        migrated=migrated,
        rows=rows,
        seconds=time.perf_counter() - started,
    )
