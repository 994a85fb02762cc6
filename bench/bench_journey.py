"""Time a learner's journey on a large database: /read next, a quiz answer, /progress, its card.

    .venv/bin/python bench/bench_journey.py [--backend sqlite|postgresql|both]
        [--learners 100000] [--answers 1000000] [--growth 10] [--samples 3000] [--quick]

Each backend gets a database of its own (SQLite: a file in a temporary directory; PostgreSQL:
a scratch database `bench_journey_<random>` on the server --pg-url names), migrated with
`storage.migrate.upgrade`. It is seeded in two stages and measured after each, on the same
database and machine: first learners/growth learners with answers/growth answers, then grown to
the full size by learners who behave alike (the same answers per learner on average), so the
second measurement differs from the first by the size of the tables only.

A shared machine makes the two measurements differ by more than that: other processes take the
CPUs for minutes at a time. So the full size is measured together with a twin of the first
stage (a second database seeded with the same rows), in alternate calls within the same rounds,
and the growth is judged on that pair; the growth since the first stage's own measurement is
shown beside it.

Seeded rows look like the bot's own: learners in a spread of time zones, one current enrollment
each (a few with an earlier one), reading progress for the first few written parts of their
track, quiz answers and interview-card ratings on those parts' items (later answers to an item
count as reviews), one FSRS review card per item answered, and activity days over the last
twelve weeks in runs. Answers and activity are written in batches of learners spread over the
whole id range and shuffled, so one learner's rows sit on many pages as they do after months of
traffic. Rows go in with executemany (SQLite) or COPY (PostgreSQL, then VACUUM ANALYZE, which
autovacuum would do on a live server).

The operations are the service calls behind the commands, timed with time.perf_counter around
each call (the server-side time, without Discord's round trip), in rounds of one call of each
on learners drawn uniformly, after a warm-up:

    read next    services.reading.turn(discord_id, part, 1), in the part the learner is reading
    quiz answer  services.quiz.answer(discord_id, question_id, letter), a question of a part read
    progress     services.progress.report(discord_id)
    card         render_progress_card(card_data(report, name)) for that round's report, every
                 few rounds; it does not depend on the data, so it also shows how busy the
                 machine was (other processes) while the database operations ran

After each stage the SQL those calls sent is run through EXPLAIN and any full table scan is
reported (--explain prints every plan).

Targets (issue 4): p99 under 50 ms for each operation at the full size, and less than 1.5x
growth from the first stage's size to the full size. Figures and the machine they came from
belong in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import Table, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import default_course_dir
from bot.exts.progress._cog import card_data
from bot.services import Services
from bot.services.progress import ProgressReport
from bot.services.reading import part_chunks
from bot.ui.progress_card import render_progress_card
from content.model import Card, Course, Question
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import ActivityDay, Answer, Enrollment, Learner, ReadingProgress, ReviewCard

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TARGET_P99_MS = 50.0
TARGET_GROWTH = 1.5
OPERATIONS = ("read next", "quiz answer", "progress", "card")
TWIN = "stage 1 twin"

DISCORD_ID_BASE = 310_000_000_000_000_000  # learner i has Discord id BASE + i
GUILD_ID = 1_100_000_000_000_000_000
HEATMAP_DAYS = 84  # activity is seeded over the last twelve weeks
LEARNER_BATCH = 2_000  # learners per insert transaction
ZONES = {
    "UTC": 6,
    "Europe/London": 8,
    "Europe/Berlin": 10,
    "Europe/Paris": 6,
    "Europe/Warsaw": 4,
    "America/New_York": 10,
    "America/Chicago": 5,
    "America/Los_Angeles": 7,
    "America/Sao_Paulo": 6,
    "Asia/Kolkata": 12,
    "Asia/Singapore": 4,
    "Asia/Tokyo": 4,
    "Australia/Sydney": 3,
    "Pacific/Auckland": 1,
    "America/St_Johns": 1,
    "Asia/Kathmandu": 1,
}
TRACK_WEIGHTS = {"complete": 4, "performance": 2, "security": 2, "production": 2}
NAMES = ("Ada", "grace.h", "Linus", "Zoë Ångström", "José María", "李明", "dockerfan42", "ﾟ✧ kit ✧ﾟ")


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Population:
    """What the seeder wrote that the measurements need, by learner index (id = index + 1)."""

    zones: list[str] = field(default_factory=list)
    parts: list[tuple[int, ...]] = field(default_factory=list)  # parts the learner has opened
    answers: int = 0
    rows: int = 0

    def __len__(self) -> int:
        return len(self.zones)


Row = dict[str, Any]


class Writer(Protocol):
    async def write(self, tables: Sequence[tuple[Table, list[Row]]]) -> int: ...

    async def settle(self) -> None: ...

    async def size(self) -> int: ...


class SqliteWriter:
    """executemany through SQLAlchemy Core, so the column types store values as the bot does."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(self, tables: Sequence[tuple[Table, list[Row]]]) -> int:
        async with self.engine.begin() as conn:
            for table, rows in tables:
                if rows:
                    await conn.execute(insert(table), rows)
        return sum(len(rows) for _table, rows in tables)

    async def settle(self) -> None:
        """Fold the write-ahead log into the database before measuring (SQLite would do it
        bit by bit during the measurement otherwise). Best effort: a busy database skips it."""
        path = self.engine.url.database
        if path:
            await asyncio.to_thread(_checkpoint, path)

    async def size(self) -> int:
        async with self.engine.connect() as conn:
            pages = await conn.exec_driver_sql("PRAGMA page_count")
            page_size = await conn.exec_driver_sql("PRAGMA page_size")
            return int(pages.scalar_one()) * int(page_size.scalar_one())


def _checkpoint(path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as error:
        print(f"  (WAL checkpoint skipped: {error})", flush=True)
    finally:
        conn.close()


class PostgresWriter:
    """COPY over a plain asyncpg connection; ids given explicitly move their sequences on."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def write(self, tables: Sequence[tuple[Table, list[Row]]]) -> int:
        async with self.conn.transaction():
            for table, rows in tables:
                if rows:
                    columns = list(rows[0])
                    records = [tuple(row[c] for c in columns) for row in rows]
                    await self.conn.copy_records_to_table(
                        table.name, records=records, columns=columns
                    )
        return sum(len(rows) for _table, rows in tables)

    async def settle(self) -> None:
        for table in ("learners", "enrollments"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await self.conn.execute("VACUUM ANALYZE")
        # Write the load out now rather than in a checkpoint during the measurement.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await self.conn.execute("CHECKPOINT")

    async def size(self) -> int:
        return int(await self.conn.fetchval("SELECT pg_database_size(current_database())"))


class Seeder:
    """Realistic rows for learners 0, 1, 2, ... (deterministic for a given seed)."""

    def __init__(self, course: Course, now: datetime, rng: random.Random) -> None:
        self.course = course
        self.now = now
        self.rng = rng
        written = {n for n, part in course.parts.items() if part.written}
        self.tracks: list[tuple[str, tuple[int, ...]]] = []
        weights = []
        for track in course.tracks:
            sequence = tuple(n for n in track.sequence if n in written)
            if sequence:
                self.tracks.append((track.slug, sequence))
                weights.append(TRACK_WEIGHTS.get(track.slug, 1))
        if not self.tracks:
            raise SystemExit("the course has no written part in any track: nothing to read")
        self.track_weights = weights
        self.chunks = {n: len(part_chunks(course.parts[n])) for n in written}
        self.questions: dict[int, tuple[Question, ...]] = {
            n: course.parts[n].questions for n in written
        }
        self.interviews: dict[int, tuple[Card, ...]] = {
            n: tuple(c for c in course.parts[n].cards if c.kind == "interview") for n in written
        }
        self.zone_names = list(ZONES)
        self.zone_weights = list(ZONES.values())
        self.zoneinfo = {zone: ZoneInfo(zone) for zone in ZONES}
        self.today = {zone: now.astimezone(info).date() for zone, info in self.zoneinfo.items()}
        self.next_enrollment = 1

    async def grow(self, writer: Writer, pop: Population, learners: int, answers: int) -> int:
        """Add learners up to `learners` and their answers up to `answers` in all."""
        first, rows = len(pop), 0
        for start in range(first, learners, LEARNER_BATCH):
            people: list[Row] = []
            enrollments: list[Row] = []
            reading: list[Row] = []
            for index in range(start, min(start + LEARNER_BATCH, learners)):
                person, enrolled, progress = self._profile(index, pop)
                people.append(person)
                enrollments += enrolled
                reading += progress
            rows += await writer.write(
                [
                    (Learner.__table__, people),
                    (Enrollment.__table__, enrollments),
                    (ReadingProgress.__table__, reading),
                ]
            )
        counts = self._answer_counts(learners - first, answers - pop.answers)
        stride = max(1, math.ceil((learners - first) / LEARNER_BATCH))
        for offset in range(stride):
            activity: list[Row] = []
            given: list[Row] = []
            cards: list[Row] = []
            for k in range(offset, learners - first, stride):
                days, said, met = self._history(first + k, counts[k], pop)
                activity += days
                given += said
                cards += met
            self.rng.shuffle(given)
            self.rng.shuffle(activity)
            rows += await writer.write(
                [
                    (ActivityDay.__table__, activity),
                    (Answer.__table__, given),
                    (ReviewCard.__table__, cards),
                ]
            )
        await writer.settle()
        pop.answers = answers
        pop.rows += rows
        return rows

    def _answer_counts(self, learners: int, answers: int) -> list[int]:
        """Answers per learner: most give a few, some many (a capped Pareto weight)."""
        weights = [min(self.rng.paretovariate(2.5), 8.0) for _ in range(learners)]
        counts = [0] * learners
        for index in self.rng.choices(range(learners), weights=weights, k=answers):
            counts[index] += 1
        return counts

    def _profile(self, index: int, pop: Population) -> tuple[Row, list[Row], list[Row]]:
        rng = self.rng
        learner_id = index + 1
        zone = rng.choices(self.zone_names, self.zone_weights)[0]
        created = self.now - timedelta(days=rng.uniform(1, 240))
        in_server = rng.random() < 0.15
        quiet = rng.random() < 0.2
        paused = rng.random() < 0.03
        person = {
            "id": learner_id,
            "discord_id": DISCORD_ID_BASE + index,
            "time_zone": zone,
            "reminder_hour": rng.randint(6, 22),
            "quiet_start": 22 if quiet else None,
            "quiet_end": 7 if quiet else None,
            "reminder_delivery": "server" if in_server else "dm",
            "reminder_guild_id": GUILD_ID if in_server else None,
            "reminders_paused_until": self.now + timedelta(days=rng.randint(1, 30))
            if paused
            else None,
            "dm_unreachable": rng.random() < 0.02,
            "created_at": created,
            "updated_at": created,
        }
        slug, sequence = rng.choices(self.tracks, self.track_weights)[0]
        enrolled = []
        if rng.random() < 0.1:  # changed track once
            earlier = rng.choice([s for s, _seq in self.tracks if s != slug] or [slug])
            enrolled.append(self._enrollment(learner_id, earlier, created, created))
            created += timedelta(days=rng.uniform(0, 1))
        enrolled.append(self._enrollment(learner_id, slug, created, None))

        opened = sequence[: rng.randint(1, len(sequence))]
        progress = []
        for n, part in enumerate(opened):
            started = created + (self.now - created) * (n + rng.random()) / len(opened)
            last = n == len(opened) - 1
            done = not last or rng.random() < 0.2
            updated = min(self.now, started + timedelta(hours=rng.uniform(0.1, 72)))
            progress.append(
                {
                    "learner_id": learner_id,
                    "part": part,
                    "position": self.chunks[part] - 1 if done else rng.randrange(self.chunks[part]),
                    "started_at": started,
                    "updated_at": updated,
                    "completed_at": updated if done else None,
                }
            )
        pop.zones.append(zone)
        pop.parts.append(opened)
        return person, enrolled, progress

    def _enrollment(
        self, learner_id: int, track: str, started: datetime, ended: datetime | None
    ) -> Row:
        row = {
            "id": self.next_enrollment,
            "learner_id": learner_id,
            "track": track,
            "started_at": started,
            "ended_at": ended,
        }
        self.next_enrollment += 1
        return row

    def _history(
        self, index: int, count: int, pop: Population
    ) -> tuple[list[Row], list[Row], list[Row]]:
        """Activity days, answers and review cards of one learner."""
        rng = self.rng
        learner_id = index + 1
        zone = pop.zones[index]
        info = self.zoneinfo[zone]
        today = self.today[zone]
        offsets = self._active_days(count)
        activity = [
            {
                "learner_id": learner_id,
                "day": today - timedelta(days=back),
                "events": rng.randint(1, 12),
            }
            for back in offsets
        ]
        answers = []
        for _ in range(count):
            day = today - timedelta(days=rng.choice(offsets))
            moment = datetime.combine(day, day_time(rng.randrange(24), rng.randrange(60)), info)
            at = min(moment.astimezone(UTC), self.now)
            part = rng.choice(pop.parts[index])
            interviews = self.interviews[part]
            if self.questions[part] and (rng.random() < 0.85 or not interviews):
                item = rng.choice(self.questions[part])
                kind, correct, rating = "quiz", rng.random() < 0.7, None
            elif interviews:
                item = rng.choice(interviews)
                kind, rating = "interview", rng.choices((1, 2, 3, 4), (1, 2, 5, 2))[0]
                correct = rating >= 3
            else:
                continue
            answers.append(
                {
                    "learner_id": learner_id,
                    "item_id": item.id,
                    "part": part,
                    "kind": kind,
                    "source": "learn",
                    "correct": correct,
                    "rating": rating,
                    "answered_at": at,
                }
            )
        answers.sort(key=lambda row: row["answered_at"])
        met: dict[str, Row] = {}
        for row in answers:
            card = met.get(row["item_id"])
            if card is not None:
                row["source"] = "review"
            else:
                card = met[row["item_id"]] = {
                    "learner_id": learner_id,
                    "item_id": row["item_id"],
                    "part": row["part"],
                    "kind": row["kind"],
                    "state": 2,  # fsrs.State.Review: no learning steps in this bot
                    "step": None,
                    "stability": 0.0,
                    "difficulty": rng.uniform(1, 10),
                    "due": row["answered_at"],
                    "last_review": row["answered_at"],
                    "reviews": 0,
                    "lapses": 0,
                }
            card["reviews"] += 1
            card["lapses"] += 0 if row["correct"] else 1
            card["stability"] = rng.uniform(0.5, 4.0) * card["reviews"] ** 1.5
            card["last_review"] = row["answered_at"]
            card["due"] = row["answered_at"] + timedelta(days=card["stability"])
        return activity, answers, list(met.values())

    def _active_days(self, answers: int) -> list[int]:
        """Days back from today with activity: runs of 1 to 7 days, a third still going."""
        rng = self.rng
        wanted = min(HEATMAP_DAYS, max(1, answers // 2 + rng.randint(1, 8)))
        days: set[int] = set()
        start = 0 if rng.random() < 0.35 else rng.randrange(HEATMAP_DAYS)
        while len(days) < wanted:
            days.update(range(start, min(start + rng.randint(1, 7), HEATMAP_DAYS)))
            start = rng.randrange(HEATMAP_DAYS)
        return sorted(days)


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Seeding:
    backend: str
    learners: int
    answers: int
    rows: int
    seconds: float
    size: int


@dataclass
class Results:
    seedings: list[Seeding] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)


@dataclass
class Timing:
    """The times (ms) of one operation at one size."""

    backend: str
    label: str  # "stage N", or TWIN
    learners: int
    answers: int
    operation: str
    ms: list[float]

    @staticmethod
    def quantile(values: Sequence[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.quantile(self.ms, 0.50)

    @property
    def p99(self) -> float:
        return self.quantile(self.ms, 0.99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.ms)


class Journey:
    """One call of each operation for learner `index` of the population."""

    def __init__(self, services: Services, pop: Population, rng: random.Random) -> None:
        self.services = services
        self.pop = pop
        self.rng = rng
        course = services.courses.course
        self.questions = {
            n: tuple(q for q in part.questions if q.correct is not None)
            for n, part in course.parts.items()
        }

    async def read_next(self, index: int) -> object:
        part = self.pop.parts[index][-1]  # the part being read; "next" there
        return await self.services.reading.turn(DISCORD_ID_BASE + index, part, 1)

    async def quiz_answer(self, index: int) -> object:
        parts = [p for p in self.pop.parts[index] if self.questions[p]]
        parts = parts or [p for p, questions in self.questions.items() if questions]
        question = self.rng.choice(self.questions[self.rng.choice(parts)])
        letter = self.rng.choice(question.choices).letter
        return await self.services.quiz.answer(DISCORD_ID_BASE + index, question.id, letter)

    async def progress(self, index: int) -> ProgressReport:
        return await self.services.progress.report(DISCORD_ID_BASE + index)

    def calls(self) -> dict[str, Callable[[int], Awaitable[object]]]:
        return {
            "read next": self.read_next,
            "quiz answer": self.quiz_answer,
            "progress": self.progress,
        }


async def measure(
    journeys: dict[str, Journey],
    rng: random.Random,
    samples: int,
    warmup: int,
    card_samples: int,
) -> dict[str, dict[str, list[float]]]:
    """Rounds of one call of each operation on random learners, for each database in a random
    order; every few rounds the card of the round's report is drawn too, so the card (which does
    not depend on the data) shows how busy the machine was while the operations ran."""
    card_every = max(1, samples // max(1, card_samples))
    times = {label: {name: [] for name in OPERATIONS} for label in journeys}
    order = list(journeys.items())
    gc.collect()
    for round_ in range(-warmup, samples):
        rng.shuffle(order)
        for label, journey in order:
            report = None
            for name, call in journey.calls().items():
                index = rng.randrange(len(journey.pop))
                start = time.perf_counter()
                result = await call(index)
                elapsed = (time.perf_counter() - start) * 1000
                if round_ >= 0:
                    times[label][name].append(elapsed)
                if isinstance(result, ProgressReport):
                    report = result
            if report is not None and round_ % card_every == 0:
                data = card_data(report, rng.choice(NAMES))
                start = time.perf_counter()
                render_progress_card(data)
                elapsed = (time.perf_counter() - start) * 1000
                if round_ >= 0:
                    times[label]["card"].append(elapsed)
    return times


# ---------------------------------------------------------------------------------------------
# Query plans


class StatementLog:
    """The SQL statements (with their parameters) sent while `recording` is set."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.recording: str | None = None
        self.seen: dict[str, dict[str, Any]] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if self.recording and not executemany and verb in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            self.seen.setdefault(self.recording, {}).setdefault(statement, parameters)


async def check_plans(
    engine: AsyncEngine, log: StatementLog, journey: Journey, verbose: bool
) -> list[str]:
    """EXPLAIN what each operation sends; return the full table scans found."""
    for name, call in journey.calls().items():
        log.recording = name
        await call(journey.rng.randrange(len(journey.pop)))
    log.recording = None
    sqlite_backend = engine.dialect.name == "sqlite"
    scans = []
    for name, statements in log.seen.items():
        for statement, parameters in statements.items():
            async with engine.connect() as conn:
                prefix = "EXPLAIN QUERY PLAN " if sqlite_backend else "EXPLAIN "
                result = await conn.exec_driver_sql(prefix + statement, parameters)
                lines = [str(row[-1] if sqlite_backend else row[0]) for row in result]
                await conn.rollback()
            flat = " ".join(statement.split())
            full = [
                line
                for line in lines
                if (line.startswith("SCAN ") if sqlite_backend else "Seq Scan" in line)
            ]
            scans += [f"{name}: {line.strip()}  <- {flat[:160]}" for line in full]
            if verbose:
                print(f"    [{name}] {flat}")
                for line in lines:
                    print(f"        {line}")
    log.seen.clear()
    return scans


# ---------------------------------------------------------------------------------------------
# Backends


@dataclass
class Database:
    engine: AsyncEngine
    writer: Writer
    server: str
    close: Callable[[], Awaitable[None]]


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def open_database(backend: str, args: argparse.Namespace, directory: Path) -> Database:
    """A new, migrated scratch database: a file in `directory`, or one on the PostgreSQL server."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{directory / uuid.uuid4().hex}.db")
        database = Database(
            engine, SqliteWriter(engine), f"SQLite {sqlite3.sqlite_version}", engine.dispose
        )
    else:
        database = await _postgres_database(args.pg_url)
    try:
        await upgrade(database.engine)
    except BaseException:
        await database.close()
        raise
    return database


async def _postgres_database(admin_url: str) -> Database:
    name = f"bench_journey_{uuid.uuid4().hex[:10]}"
    base = make_url(admin_url)
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    engine: AsyncEngine | None = None
    conn: asyncpg.Connection | None = None

    async def close() -> None:
        try:
            if engine is not None:
                await engine.dispose()
            if conn is not None:
                await conn.close()
        finally:
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        engine = create_engine(base.set(database=name).render_as_string(hide_password=False))
        conn = await asyncpg.connect(
            host=base.host,
            port=base.port,
            user=base.username,
            password=base.password,
            database=name,
        )
        server = str(await conn.fetchval("SHOW server_version")).split()[0]
    except BaseException:
        await close()
        raise
    return Database(engine, PostgresWriter(conn), f"PostgreSQL {server}", close)


async def seed(
    seeder: Seeder, database: Database, pop: Population, learners: int, answers: int
) -> Seeding:
    start = time.perf_counter()
    rows = await seeder.grow(database.writer, pop, learners, answers)
    seconds = time.perf_counter() - start
    size = await database.writer.size()
    backend = "sqlite" if database.engine.dialect.name == "sqlite" else "postgresql"
    return Seeding(backend, learners, answers, rows, seconds, size)


async def run_backend(
    backend: str,
    args: argparse.Namespace,
    store: CourseStore,
    stages: Sequence[tuple[int, int]],
    directory: Path,
    results: Results,
) -> None:
    opened: list[Database] = []
    try:
        main = await open_database(backend, args, directory)
        opened.append(main)
        print(f"\n== {backend}: {main.server}", flush=True)
        now = datetime.now(UTC)
        seeder = Seeder(store.course, now, random.Random(args.seed))
        pop = Population()
        services = Services(sessions=create_sessionmaker(main.engine), courses=store)
        journey = Journey(services, pop, random.Random(args.seed + 1))
        log = StatementLog(main.engine)
        rng = random.Random(args.seed + 2)
        for stage, (learners, answers) in enumerate(stages, 1):
            seeding = await seed(seeder, main, pop, learners, answers)
            results.seedings.append(seeding)
            print(
                f"stage {stage}: seeded {learners:,} learners, {answers:,} answers "
                f"(+{seeding.rows:,} rows, {pop.rows:,} in all) in {seeding.seconds:.1f} s; "
                f"database {seeding.size / 2**20:,.0f} MiB",
                flush=True,
            )
            journeys = {f"stage {stage}": journey}
            if stage > 1:
                # The first stage again, seeded alike in a database of its own, measured in the
                # same rounds: other processes on the machine then slow both sizes alike.
                twin = await open_database(backend, args, directory)
                opened.append(twin)
                twin_pop = Population()
                twin_seeder = Seeder(store.course, now, random.Random(args.seed))
                await seed(twin_seeder, twin, twin_pop, *stages[0])
                twin_services = Services(sessions=create_sessionmaker(twin.engine), courses=store)
                journeys[TWIN] = Journey(twin_services, twin_pop, random.Random(args.seed + 3))
                print(
                    f"  with a twin of stage 1 ({stages[0][0]:,} learners), measured alongside",
                    flush=True,
                )
            start = time.perf_counter()
            times = await measure(journeys, rng, args.samples, args.warmup, args.card_samples)
            for label, by_operation in times.items():
                size = stages[0] if label == TWIN else (learners, answers)
                for operation in OPERATIONS:
                    timing = Timing(backend, label, *size, operation, by_operation[operation])
                    results.timings.append(timing)
                    print(
                        f"  {label:<14} {operation:<12} {len(timing.ms):>5} calls  "
                        f"p50 {timing.p50:6.2f} ms  p99 {timing.p99:6.2f} ms  "
                        f"mean {timing.mean:6.2f} ms  "
                        f"max {max(timing.ms):6.1f} ms",
                        flush=True,
                    )
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"  measured in {time.perf_counter() - start:.1f} s (load average {load})",
                flush=True,
            )
            found = await check_plans(main.engine, log, journey, args.explain)
            for line in found:
                print(f"  FULL SCAN {line}")
            results.scans += [f"{backend} at {learners:,} learners: {line}" for line in found]
    finally:
        for database in reversed(opened):
            await database.close()


# ---------------------------------------------------------------------------------------------
# Report


def _growth(big: Timing, small: Timing) -> tuple[float, float]:
    """(p50, p99) of `big` over `small`."""
    return big.p50 / small.p50, big.p99 / small.p99


def summary(results: Results) -> str:
    timings, scans = results.timings, results.scans
    lines = [
        "| backend | learners | answers | rows added | seed s | database MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in results.seedings:
        lines.append(
            f"| {s.backend} | {s.learners:,} | {s.answers:,} | {s.rows:,} | {s.seconds:.1f} | "
            f"{s.size / 2**20:,.0f} |"
        )
    lines += [
        "",
        "| backend | measured | learners | answers | operation | calls | p50 ms | p99 ms "
        "| mean ms |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(
            f"| {t.backend} | {t.label} | {t.learners:,} | {t.answers:,} | {t.operation} | "
            f"{len(t.ms):,} | {t.p50:.2f} | {t.p99:.2f} | {t.mean:.2f} |"
        )
    by_key: dict[tuple[str, str], dict[str, Timing]] = {}
    for t in timings:
        by_key.setdefault((t.backend, t.operation), {})[t.label] = t
    lines += [
        "",
        f"| backend | operation | p50 growth | p99 growth "
        f"| p99 < {TARGET_P99_MS:g} ms | growth < {TARGET_GROWTH:g}x |",
        "|---|---|---:|---:|---|---|",
    ]
    missed, cautions = [], []
    for (backend, operation), series in by_key.items():
        stages = [t for label, t in series.items() if label != TWIN]
        big = stages[-1]
        fast = big.p99 < TARGET_P99_MS
        if not fast:
            missed.append(f"{backend} {operation}: p99 {big.p99:.1f} ms")
        cells = ["", ""]
        flat = True
        if len(stages) > 1:
            after = _growth(big, stages[0])
            alongside = _growth(big, series[TWIN]) if TWIN in series else after
            cells = [f"{a:.2f}x ({b:.2f}x)" for a, b in zip(alongside, after, strict=True)]
            judged = max(alongside)
            flat = judged < TARGET_GROWTH
            if not flat:
                missed.append(f"{backend} {operation}: grew {judged:.2f}x")
            moved = max(judged, 1 / min(alongside))
            if operation == "card" and moved >= TARGET_GROWTH:
                cautions.append(
                    f"caution: the card does not depend on the data, yet it moved {moved:.2f}x "
                    f"on {backend}: the machine was too unsteady; re-run when it is quiet"
                )
        lines.append(
            f"| {backend} | {operation} | {' | '.join(cells)} | "
            f"{'met' if fast else 'MISSED'} ({big.p99:.1f}) | {'met' if flat else 'MISSED'} |"
        )
    lines.append(
        "(growth: the full size over its twin of the first stage measured in the same rounds, "
        "in brackets over the first stage measured before growing; judged against the twin)"
    )
    lines += cautions
    lines.append("")
    lines.append("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if min(len(t.ms) for t in timings) < 1000:
        lines.append("(fewer than 1,000 calls per operation: the p99 and its growth are noise)")
    if scans:
        lines.append("full table scans in the measured operations:")
        lines += [f"  {line}" for line in scans]
    return "\n".join(lines)


def stages_for(learners: int, answers: int, growth: int) -> list[tuple[int, int]]:
    if growth <= 1:
        return [(learners, answers)]
    return [(max(1, learners // growth), answers // growth), (learners, answers)]


def positive(value: str) -> int:
    number = int(value.replace("_", "").replace(",", ""))
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--learners", type=positive, default=100_000, help="at the full size")
    parser.add_argument("--answers", type=positive, default=1_000_000, help="at the full size")
    parser.add_argument(
        "--growth", type=positive, default=10, help="the first stage is the full size / this"
    )
    parser.add_argument("--samples", type=positive, default=3_000, help="timed calls per op")
    parser.add_argument("--warmup", type=positive, default=300, help="untimed calls per op first")
    parser.add_argument(
        "--card-samples", type=positive, default=1_000, help="cards drawn, among the rounds"
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--explain", action="store_true", help="print every query plan")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 5,000 learners, few samples"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.learners, args.answers = 5_000, 50_000
        args.samples, args.warmup, args.card_samples = 200, 30, 50
    return args


async def run(args: argparse.Namespace, directory: Path) -> None:
    store = CourseStore(default_course_dir())
    stages = stages_for(args.learners, args.answers, args.growth)
    print(
        f"bench_journey {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · Python "
        f"{platform.python_version()} · {platform.machine()} {os.cpu_count()} CPUs · "
        f"stages {', '.join(f'{ls:,} learners/{an:,} answers' for ls, an in stages)} · "
        f"{args.samples} calls per operation after {args.warmup} warm-up",
        flush=True,
    )
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = Results()
    for backend in backends:
        await run_backend(backend, args, store, stages, directory, results)
    print()
    print(summary(results))


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="bench_journey_"))
    try:
        asyncio.run(run(args, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
