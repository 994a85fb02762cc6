"""`tutorbot db copy`: a bot's data moves to another database whole, or not at all.

The source is a SQLite database that the real services filled (every table has rows). The
target is a new SQLite file everywhere and, with TEST_DATABASE_URL, a new PostgreSQL database
without a schema: the point of the command.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from bot.__main__ import main
from bot.config import default_course_dir
from bot.health import write_heartbeat
from bot.services import Services
from content.store import CourseStore
from storage.copy import CopyError, copy_database
from storage.db import create_engine, create_sessionmaker
from storage.migrate import SchemaStatus, downgrade, head_revision, schema_status
from storage.models import (
    Answer,
    Base,
    CourseReload,
    Enrollment,
    Learner,
    OutboxMessage,
    StudyGroup,
)
from tests.bot.test_cli import tutorbot
from tests.conftest import PG_URL, _admin
from tests.drills.test_drills import send_post
from tests.groups.support import Clock

SOLUTIONS = Path(__file__).parents[1] / "labs" / "solutions"  # right and wrong lab answers
SERVER, CHANNEL = 4242, 900
MOD, ANA, BEN = 11, 12, 13
NO_POSTGRES = "PostgreSQL targets need TEST_DATABASE_URL"
TARGETS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason=NO_POSTGRES)),
]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def courses() -> CourseStore:
    return CourseStore(default_course_dir())


@asynccontextmanager
async def services_on(url: str, courses: CourseStore, clock: Clock) -> AsyncIterator[Services]:
    engine = create_engine(url)
    try:
        yield Services(sessions=create_sessionmaker(engine), courses=courses, clock=clock)
    finally:
        await engine.dispose()


def compose_exercise(courses: CourseStore) -> str:
    """A Compose lab: graded without a Docker daemon, so a pass is stored here too."""
    return next(
        e.id
        for part in courses.course.parts.values()
        for e in part.exercises
        if e.lab and e.lab.compose is not None and (SOLUTIONS / e.id / "pass").is_dir()
    )


async def populate(services: Services, clock: Clock) -> None:
    """A little of everything the bot stores, written by the services the bot uses."""
    await services.learners.start(ANA, track="complete", time_zone="Europe/Berlin")
    await services.learners.set_track(ANA, "security")  # the first enrollment becomes history
    await services.learners.start(BEN, track="complete")
    await services.learners.start(MOD, track="performance")
    await services.learners.update_settings(BEN, quiet_hours=(22, 7), pause_until=date(2026, 3, 20))
    await services.reading.open(ANA, 0)
    await services.reading.turn(ANA, 0, 1)
    await services.reading.finish(BEN, 0, confirmed=True)
    first, second, *_ = services.quiz.questions(3)
    await services.quiz.answer(ANA, first.id, "A", session="s1")
    await services.quiz.answer(BEN, first.id, str(first.correct))
    clock.advance(days=1, minutes=7, microseconds=123_456)
    await services.quiz.answer(ANA, second.id, str(second.correct))
    card = services.quiz.interview_cards(1)[0]
    await services.quiz.rate_card(BEN, card.id, 3)
    await services.review.meet_quickref(ANA, services.quiz.quickref(1).id, 1)
    await services.reminders.reschedule(ANA)
    assert await services.server_learners.note(ANA, SERVER)
    await services.outbox.set_reminder_channel(SERVER, 77)

    group = await services.groups.create(SERVER, MOD, "Nachteulen ü 🦉", track="complete")
    await services.groups.place(group.id, channel_id=5, thread_id=6, join_message_id=7)
    for user in (ANA, BEN):
        await services.groups.join(SERVER, group.id, user)
    live = await services.group_quizzes.start(SERVER, group.id, MOD, part=1, count=1)
    await services.group_quizzes.answer(SERVER, live.quiz_id, 0, BEN, str(live.question.correct))
    await services.group_quizzes.close(live.quiz_id, 0, end=True)

    await services.drills.schedule(SERVER, MOD, CHANNEL, "18:00", "Europe/Berlin", 120)
    clock.now = datetime(2026, 3, 3, 17, 0, 2, tzinfo=UTC)
    plan = await send_post(services)
    await services.drills.attach_message(plan.post_id, 555)
    await services.drills.answer(SERVER, plan.post_id, BEN, "A")

    exercise = compose_exercise(services.courses)
    folder = SOLUTIONS / exercise / "pass"
    files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
    assert (await services.labs.submit(BEN, exercise, files)).passed

    async with services.sessions.begin() as session:  # what /admin reload notes on PostgreSQL
        session.add(CourseReload(worker="0" * 32))


@dataclass
class Source:
    url: str
    data_dir: Path  # where its bot would keep the heartbeat: the database is its tutor.db


@pytest.fixture
def source(tmp_path: Path, sqlite_template: Path, courses: CourseStore) -> Source:
    data_dir = tmp_path / "sqlite-bot"
    data_dir.mkdir()
    (data_dir / "tutor.db").write_bytes(sqlite_template.read_bytes())
    url = sqlite_url(data_dir / "tutor.db")

    async def fill() -> None:
        clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        async with services_on(url, courses, clock) as services:
            await populate(services, clock)

    asyncio.run(fill())
    return Source(url, data_dir)


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new PostgreSQL database with nothing in it, not even a schema; dropped afterwards."""
    name = f"tutor_copy_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "new" / "tutor.db")  # not there yet
    return str(request.getfixturevalue("empty_postgres"))


async def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read through the Table objects, in primary-key order."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                of.name: [
                    tuple(row)
                    for row in await connection.execute(
                        select(of).order_by(*of.primary_key.columns)
                    )
                ]
                for of in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


async def ids(url: str, column: Any) -> set[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.scalars(select(column)))
    finally:
        await engine.dispose()


async def status_of(url: str) -> SchemaStatus:
    engine = create_engine(url)
    try:
        return await schema_status(engine)
    finally:
        await engine.dispose()


async def test_every_row_arrives_and_the_bot_carries_on_there(
    source: Source, target: str, courses: CourseStore
) -> None:
    before = await table_rows(source.url)
    empty = [name for name, rows in before.items() if not rows]
    assert empty == [], "the source should have rows in every table"

    report = await copy_database(source.url, target)

    assert report.migrated and report.revision == head_revision()
    assert report.rows == {name: len(rows) for name, rows in before.items()}
    assert list(report.rows) == [of.name for of in Base.metadata.sorted_tables]
    after = await table_rows(target)
    for name, rows in before.items():
        assert after[name] == rows, name
    assert await table_rows(source.url) == before  # the source is as it was

    clock = Clock(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    async with (
        services_on(source.url, courses, clock) as old,
        services_on(target, courses, clock) as new,
    ):
        for user in (ANA, BEN, MOD):
            assert await new.progress.report(user) == await old.progress.report(user)
            assert await new.review.due(user) == await old.review.due(user)
            assert await new.learners.profile(user) == await old.learners.profile(user)
        assert await new.groups.listing(SERVER) == await old.groups.listing(SERVER)
        assert await new.drills.stats(SERVER) == await old.drills.stats(SERVER)
        assert await new.labs.done_ids(BEN) == await old.labs.done_ids(BEN)

        # new rows get fresh ids after the copied ones (PostgreSQL: the sequences were reset)
        columns = (Learner.id, Enrollment.id, Answer.id, StudyGroup.id, OutboxMessage.id)
        copied = {column: await ids(target, column) for column in columns}
        await new.learners.start(99, track="complete")
        await new.quiz.answer(99, new.quiz.questions(3)[0].id, "A")
        await new.groups.create(SERVER, 99, "Late Joiners", track="complete")
        await new.drills.schedule(SERVER + 1, 99, CHANNEL, "07:00", "UTC")
        for column, was in copied.items():
            fresh = sorted(await ids(target, column) - was)
            assert fresh and fresh[0] == max(was) + 1, column


@pytest.mark.skipif(not PG_URL, reason=NO_POSTGRES)
async def test_back_from_postgresql_to_sqlite_every_row_is_as_it_was(
    source: Source, empty_postgres: str, tmp_path: Path
) -> None:
    before = await table_rows(source.url)
    await copy_database(source.url, empty_postgres)
    back = sqlite_url(tmp_path / "back" / "tutor.db")
    report = await copy_database(empty_postgres, back)
    assert report.rows == {name: len(rows) for name, rows in before.items()}
    assert await table_rows(back) == before


async def test_a_target_with_rows_is_refused_and_left_alone(source: Source, target: str) -> None:
    await copy_database(source.url, target)
    copied = await table_rows(target)
    with pytest.raises(CopyError, match=r"is not empty \(table \w+ has rows\).*never merges"):
        await copy_database(source.url, target)
    assert await table_rows(target) == copied


async def test_a_copy_that_fails_midway_leaves_the_target_empty(
    source: Source, target: str
) -> None:
    def interrupted(table: str, copied: int, total: int) -> None:
        if table == "answers":
            raise RuntimeError("the operator's terminal went away")

    with pytest.raises(RuntimeError, match="terminal went away"):
        await copy_database(source.url, target, batch_rows=1, progress=interrupted)
    assert all(rows == [] for rows in (await table_rows(target)).values())
    assert (await status_of(target)).up_to_date  # migrated, empty: a second try can go ahead
    report = await copy_database(source.url, target)
    assert not report.migrated and report.rows["answers"] > 1


@pytest.mark.skipif(not PG_URL, reason=NO_POSTGRES)
async def test_what_postgresql_rejects_rolls_the_whole_copy_back(
    source: Source, empty_postgres: str
) -> None:
    """SQLite does not enforce VARCHAR lengths; PostgreSQL does, and nothing half-arrives."""
    engine = create_engine(source.url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(StudyGroup).values(name="x" * 65)  # String(64)
            )
    finally:
        await engine.dispose()
    with pytest.raises(CopyError, match=r"rolled back, so the target holds no rows: .*too long"):
        await copy_database(source.url, empty_postgres)
    assert all(rows == [] for rows in (await table_rows(empty_postgres)).values())


async def test_the_same_database_is_refused_however_it_is_named(
    source: Source, tmp_path: Path
) -> None:
    database = source.data_dir / "tutor.db"
    link = tmp_path / "link.db"
    link.symlink_to(database)
    relative = database.relative_to(tmp_path)  # the tests run in tmp_path
    for other in (source.url, sqlite_url(link), f"sqlite+aiosqlite:///{relative}"):
        with pytest.raises(CopyError, match="are the same database"):
            await copy_database(source.url, other)


@pytest.mark.skipif(not PG_URL, reason=NO_POSTGRES)
async def test_the_same_postgresql_database_under_another_host_name_is_refused(
    postgres_url: str,
) -> None:
    url = make_url(postgres_url)
    other_host = "localhost" if url.host != "localhost" else "127.0.0.1"
    alias = url.set(host=other_host).render_as_string(hide_password=False)
    with pytest.raises(CopyError, match="same database on the same server"):
        await copy_database(postgres_url, alias)


async def test_a_source_behind_the_schema_is_refused_with_what_to_run(
    source: Source, tmp_path: Path
) -> None:
    engine = create_engine(source.url)
    try:
        await downgrade(engine, "-1")
    finally:
        await engine.dispose()
    target = tmp_path / "new" / "tutor.db"
    with pytest.raises(CopyError, match=r"behind this bot's .*`tutorbot db upgrade`"):
        await copy_database(source.url, sqlite_url(target))
    assert not target.parent.exists()  # the target was not touched


async def test_sources_and_targets_that_are_not_this_bots_are_refused(
    source: Source, tmp_path: Path
) -> None:
    target = sqlite_url(tmp_path / "t.db")
    with pytest.raises(CopyError, match="There is no database at"):
        await copy_database(sqlite_url(tmp_path / "missing.db"), target)
    assert not (tmp_path / "missing.db").exists()

    foreign = tmp_path / "foreign.db"
    engine = create_engine(sqlite_url(foreign))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
    finally:
        await engine.dispose()
    with pytest.raises(CopyError, match="has no schema of this bot"):
        await copy_database(sqlite_url(foreign), target)
    with pytest.raises(CopyError, match="has tables but no schema revision of this bot"):
        await copy_database(source.url, sqlite_url(foreign))

    engine = create_engine(source.url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    with pytest.raises(CopyError, match="9999, which this version of the bot does not know"):
        await copy_database(source.url, target)


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("nonsense", "The --to URL is not a database URL"),
        ("postgresql+asyncpg://tutor:s3cret@h:port/x", "The --to URL is not a database URL"),
        ("postgresql://tutor:s3cret@db/tutor", "must start with sqlite+aiosqlite or postgresql"),
        ("postgresql+asyncpg://tutor:s3cret@127.0.0.1:1/tutor", "Cannot reach the target"),
        ("sqlite+aiosqlite://", "names no database"),
        ("sqlite+aiosqlite:///sqlite-bot/tutor.db/t.db", "Cannot reach the target"),
    ],
    ids=["not-a-url", "bad-port", "sync-driver", "unreachable", "in-memory", "under-a-file"],
)
def test_bad_urls_get_one_line_without_the_password(source: Source, to: str, says: str) -> None:
    result = tutorbot("db", "copy", "--to", to, env={"DATA_DIR": str(source.data_dir)})
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert says in lines[-1] and len(lines) <= 2, result.stderr  # "Copying ..." then the reason
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stdout + result.stderr


def test_the_cli_refuses_while_the_bot_runs_on_either_side(source: Source, tmp_path: Path) -> None:
    write_heartbeat(source.data_dir / "health.json", ready=True, latency=0.05)
    target = tmp_path / "new" / "tutor.db"
    copy_away = tutorbot(
        "db", "copy", "--to", sqlite_url(target), env={"DATA_DIR": str(source.data_dir)}
    )
    assert copy_away.returncode == 1
    assert "The bot is running" in copy_away.stderr and "stop it" in copy_away.stderr
    assert not target.exists()

    copy_in = tutorbot(
        "db",
        "copy",
        "--from",
        sqlite_url(target),
        "--to",
        source.url,
        env={"DATA_DIR": str(source.data_dir)},
    )
    assert copy_in.returncode == 1 and "The bot is running" in copy_in.stderr


def test_the_cli_copies_the_configured_database_with_a_summary(
    source: Source, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "tutor.db"
    result = tutorbot(
        "db", "copy", "--to", sqlite_url(target), env={"DATA_DIR": str(source.data_dir)}
    )
    assert result.returncode == 0, result.stderr
    assert f"Copying {source.url} to {sqlite_url(target)}" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Copied ") and "schema was created first" in lines[0]
    counts = dict(line.split() for line in lines[1:-2])
    expected = asyncio.run(table_rows(source.url))
    assert counts == {name: f"{len(rows):,}" for name, rows in expected.items()}
    assert list(counts) == [of.name for of in Base.metadata.sorted_tables]
    assert lines[-2] == "Verified: every table has as many rows in the target as in the source."
    assert "DATABASE_URL" in lines[-1]


def test_long_copies_show_progress_per_table(
    source: Source,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("bot.__main__.PROGRESS_EVERY", 0.0)  # every batch counts as long
    monkeypatch.setenv("DATA_DIR", str(source.data_dir))
    assert main(["db", "copy", "--to", sqlite_url(tmp_path / "new.db")]) == 0
    err = capsys.readouterr().err
    answers = len(asyncio.run(table_rows(source.url))["answers"])
    assert "  learners: 3 of 3 rows" in err and f"  answers: {answers} of {answers} rows" in err
