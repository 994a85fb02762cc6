"""Time /server stats on a large server: the dashboard's queries, its picture, and the command.

    .venv/bin/python bench/bench_server_stats.py [--backend sqlite|postgresql|both]
        [--learners 10000] [--answers 1000000] [--others 5000] [--samples 20] [--explain]

Each backend gets a scratch database (as bench_journey.py makes them), seeded with the rows
bench_journey.py writes for learners (enrollments, reading progress, activity days over twelve
weeks, answers with the choice pressed, review cards) and, for this dashboard:

- the server (`GUILD_ID`): --learners learners with --answers answers between them; a fifth of
  them also use another server; --others learners (and answers in proportion) only in three
  other servers, whose rows the dashboard must never read;
- a daily drill for each server, posted every day of the twelve weeks, answered each day by
  3 to 10% of the server's learners;
- the outbox's history: one digest a day per learner over the twelve weeks (as the bot plans
  them): 2% of learners have closed DMs (failed, no route), the rest are sent or, about one in
  five, cancelled with nothing to say.

Then, timed with time.perf_counter (server-side, after a warm-up):

    dashboard   services.server_stats.dashboard(GUILD_ID, a moderator): every query
    picture     render_dashboard(stats, name), as the command runs it in a thread
    total       both, one after the other, which is what a moderator waits for after the defer
    <panel>     each panel's query alone, in a session of its own (what the total is made of)

and, unless --no-discord, the command end to end through the loopback Discord
(tests/fake_discord.py): the real bot, `/server stats` from the server's owner; the time to the
interaction's first answer (the defer: Discord's 3 s deadline) and to the follow-up with the PNG.

Each statement the dashboard sends is run through EXPLAIN (EXPLAIN QUERY PLAN on SQLite); a full
table scan is reported (on PostgreSQL, of the tables that hold every server's history: answers,
outbox, activity_days), --explain prints every plan. Targets (issue 18): the defer within 3 s,
the picture ready within 1 s of the command, on both backends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import string
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the emulator lives in tests/

from bench_journey import (  # noqa: E402
    DEFAULT_PG_URL,
    DISCORD_ID_BASE,
    GUILD_ID,
    HEATMAP_DAYS,
    Database,
    Population,
    Row,
    Seeder,
    StatementLog,
    Timing,
    open_database,
    positive,
)

from bot.bot import TutorBot  # noqa: E402
from bot.config import default_course_dir  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.services.moderators import Member  # noqa: E402
from bot.services.outbox import CANCELLED, FAILED, NO_ROUTE, SENT  # noqa: E402
from bot.services.server_stats import ServerStats, week_starts  # noqa: E402
from bot.ui.dashboard import render_dashboard  # noqa: E402
from content.store import CourseStore  # noqa: E402
from storage.db import create_sessionmaker  # noqa: E402
from storage.models import (  # noqa: E402
    Drill,
    DrillAnswer,
    DrillPost,
    LearnerServer,
    OutboxMessage,
)

OTHER_GUILDS = (GUILD_ID + 1, GUILD_ID + 2, GUILD_ID + 3)
NOTHING_TO_SAY = "no digest today: nothing due, on pace, or one was sent already"
MODERATOR = Member(1, manage_guild=True)
TARGET_PICTURE_S = 1.0
TARGET_DEFER_S = 3.0
OUTBOX_BATCH = 50_000


class ChoosingSeeder(Seeder):
    """bench_journey's learners, whose quiz answers also say which choice was pressed: the
    right one, or a wrong one with one wrong choice much more tempting than the others."""

    def _history(
        self, index: int, count: int, pop: Population
    ) -> tuple[list[Row], list[Row], list[Row]]:
        activity, answers, cards = super()._history(index, count, pop)
        for row in answers:
            if row["kind"] != "quiz":
                row["choice"] = str(row["rating"])  # as the bot stores a self-rating
                continue
            question = self._question(row["item_id"])
            wrong = [c.letter for c in question.choices if c.letter != question.correct]
            if row["correct"] or not wrong:
                row["choice"] = question.correct or ("had" if row["correct"] else "missed")
            else:
                row["choice"] = self.rng.choices(wrong, [4] + [1] * (len(wrong) - 1))[0]
        return activity, answers, cards

    def _question(self, item_id: str) -> Any:
        index = getattr(self, "_by_id", None)
        if index is None:
            index = self._by_id = {q.id: q for qs in self.questions.values() for q in qs}
        return index[item_id]


class ServerSeeder:
    """Servers, drills and the outbox's digest history over the population."""

    def __init__(self, store: CourseStore, now: datetime, rng: random.Random) -> None:
        self.course = store.course
        self.now = now
        self.rng = rng
        self.today = now.date()
        self.questions = [q for part in self.course.parts.values() for q in part.questions]

    def memberships(self, server: int, total: int) -> list[Row]:
        rows = []
        for index in range(total):
            guilds = [GUILD_ID] if index < server else [OTHER_GUILDS[index % 3]]
            if index < server and self.rng.random() < 0.2:
                guilds.append(OTHER_GUILDS[0])
            rows += [
                {
                    "guild_id": guild,
                    "learner_id": index + 1,
                    "first_seen": self.now - timedelta(days=self.rng.uniform(1, 240)),
                    "last_seen": self.now - timedelta(hours=self.rng.uniform(0, 24 * 30)),
                }
                for guild in guilds
            ]
        return rows

    def drills(self, server: int, total: int) -> list[tuple[Table, list[Row]]]:
        drills, posts, answers = [], [], []
        members = {
            GUILD_ID: range(server),
            **{g: range(server + i, total, 3) for i, g in enumerate(OTHER_GUILDS)},
        }
        for drill_id, (guild, indexes) in enumerate(members.items(), 1):
            drills.append(
                {
                    "id": drill_id,
                    "guild_id": guild,
                    "channel_id": guild + 100,
                    "local_time": "18:00",
                    "time_zone": "UTC",
                    "reveal_after_minutes": 480,
                    "paused": False,
                    "created_by": DISCORD_ID_BASE,
                    "created_at": self.now - timedelta(days=120),
                }
            )
            for back in range(HEATMAP_DAYS):
                day = self.today - timedelta(days=back)
                posted = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=18)
                if posted > self.now:
                    continue
                post_id = len(posts) + 1
                question = self.rng.choice(self.questions)
                posts.append(
                    {
                        "id": post_id,
                        "drill_id": drill_id,
                        "day": day,
                        "question_id": question.id,
                        "message_id": post_id + 10_000,
                        "posted_at": posted,
                        "reveal_at": posted + timedelta(hours=8),
                        "revealed_at": posted + timedelta(hours=8) if back else None,
                        "skipped": False,
                    }
                )
                share = self.rng.uniform(0.03, 0.10)
                for index in self.rng.sample(indexes, round(share * len(indexes))):
                    letter = self.rng.choice(question.choices).letter if question.choices else "A"
                    answers.append(
                        {
                            "post_id": post_id,
                            "discord_id": DISCORD_ID_BASE + index,
                            "letter": letter,
                            "answered_at": posted + timedelta(minutes=self.rng.uniform(1, 470)),
                        }
                    )
        return [
            (Drill.__table__, drills),
            (DrillPost.__table__, posts),
            (DrillAnswer.__table__, answers),
        ]

    def digests(self, learners: Sequence[int], *, as_json: bool) -> Iterable[list[Row]]:
        """One digest a day per learner, day after day as the bot sends them (so a learner's
        rows lie on many pages), in batches; the payload as JSON text for COPY."""
        batch: list[Row] = []
        letters = string.ascii_letters
        closed = {index for index in learners if self.rng.random() < 0.02}
        hours = {index: self.rng.randint(6, 22) for index in learners}
        for back in reversed(range(HEATMAP_DAYS)):
            day = self.today - timedelta(days=back)
            for index in learners:
                due = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=hours[index]
                )
                if due > self.now:
                    continue
                payload = {"learner_id": index + 1, "snoozed": False}
                if index in closed:
                    status, error = FAILED, NO_ROUTE
                elif self.rng.random() < 0.2:
                    status, error = CANCELLED, NOTHING_TO_SAY
                else:
                    status, error = SENT, None
                batch.append(
                    {
                        "kind": "digest",
                        "learner_id": index + 1,
                        "guild_id": None,
                        "channel_id": None,
                        "due_at": due,
                        "payload": json.dumps(payload) if as_json else payload,
                        "status": status,
                        "attempts": 1,
                        "lease_until": None,
                        "nonce": "".join(self.rng.choices(letters, k=24)),
                        "dedupe_key": None,
                        "created_at": due - timedelta(days=1),
                        "sent_at": due if status == SENT else None,
                        "last_error": error,
                    }
                )
                if len(batch) >= OUTBOX_BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch


async def seed(
    database: Database, store: CourseStore, args: argparse.Namespace, now: datetime
) -> tuple[int, float]:
    """Seed the population and the servers; (rows written, seconds)."""
    start = time.perf_counter()
    rng = random.Random(args.seed)
    seeder = ChoosingSeeder(store.course, now, rng)
    pop = Population()
    total = args.learners + args.others
    other_answers = args.answers * args.others // max(1, args.learners)
    rows = await seeder.grow(database.writer, pop, args.learners, args.answers)
    if args.others:
        rows += await seeder.grow(database.writer, pop, total, args.answers + other_answers)
    servers = ServerSeeder(store, now, random.Random(args.seed + 1))
    rows += await database.writer.write(
        [(LearnerServer.__table__, servers.memberships(args.learners, total))]
    )
    rows += await database.writer.write(servers.drills(args.learners, total))
    as_json = database.engine.dialect.name == "postgresql"
    for batch in servers.digests(list(range(total)), as_json=as_json):
        rows += await database.writer.write([(OutboxMessage.__table__, batch)])
    await database.writer.settle()
    return rows, time.perf_counter() - start


def timing(backend: str, label: str, args: argparse.Namespace, ms: list[float]) -> Timing:
    return Timing(backend, "", args.learners, args.answers, label, ms)


async def measure(
    services: Services, backend: str, args: argparse.Namespace
) -> tuple[list[Timing], ServerStats]:
    """The dashboard, the picture and their sum; then each panel's query alone."""
    name = "Docker study server"
    dashboard, picture, total = [], [], []
    stats = await services.server_stats.dashboard(GUILD_ID, MODERATOR)
    for round_ in range(-args.warmup, args.samples):
        start = time.perf_counter()
        stats = await services.server_stats.dashboard(GUILD_ID, MODERATOR)
        queried = time.perf_counter()
        await asyncio.to_thread(render_dashboard, stats, name)
        drawn = time.perf_counter()
        if round_ >= 0:
            dashboard.append((queried - start) * 1000)
            picture.append((drawn - queried) * 1000)
            total.append((drawn - start) * 1000)
    timings = [
        timing(backend, "dashboard", args, dashboard),
        timing(backend, "picture", args, picture),
        timing(backend, "total", args, total),
    ]
    service = services.server_stats
    starts = week_starts(service.clock().date())
    panels: dict[str, Any] = {
        "  tracks": lambda s: service._tracks(s, GUILD_ID, stats.learners),
        "  funnel": lambda s: service._funnel(s, GUILD_ID),
        "  weekly active": lambda s: service._weekly_active(s, GUILD_ID, starts),
        "  hardest": lambda s: service._hardest(s, GUILD_ID),
        "  drill": lambda s: service._drill(s, GUILD_ID, starts),
        "  reminders": lambda s: service._reminders(s, GUILD_ID, starts[0]),
    }
    for label, panel in panels.items():
        ms = []
        for round_ in range(-1, max(3, args.samples // 2)):
            async with services.sessions() as session:
                start = time.perf_counter()
                await panel(session)
                if round_ >= 0:
                    ms.append((time.perf_counter() - start) * 1000)
        timings.append(timing(backend, label, args, ms))
    return timings, stats


# PostgreSQL rightly reads a small table, or one whose rows are mostly this server's (here
# learner_servers, enrollments, reading_progress, review_cards, the drill's), from end to end;
# a scan of these would read every server's history.
BIG_TABLES = ("answers", "outbox", "activity_days")


def _full_scan(line: str) -> bool:
    if line.startswith("SCAN "):  # SQLite; a subquery's own rows are no table
        return not line.startswith(("SCAN anon_", "SCAN (subquery"))
    return "Seq Scan on" in line and line.split("Seq Scan on ", 1)[1].split()[0] in BIG_TABLES


async def check_plans(database: Database, services: Services, verbose: bool) -> list[str]:
    """EXPLAIN every statement the dashboard sends; the full table scans among them."""
    log = StatementLog(database.engine)
    log.recording = "dashboard"
    await services.server_stats.dashboard(GUILD_ID, MODERATOR)
    log.recording = None
    sqlite_backend = database.engine.dialect.name == "sqlite"
    scans = []
    for statement, parameters in log.seen.get("dashboard", {}).items():
        async with database.engine.connect() as conn:
            prefix = "EXPLAIN QUERY PLAN " if sqlite_backend else "EXPLAIN "
            result = await conn.exec_driver_sql(prefix + statement, parameters)
            lines = [str(row[-1] if sqlite_backend else row[0]) for row in result]
            await conn.rollback()
        flat = " ".join(statement.split())
        scans += [f"{line.strip()}  <- {flat[:140]}" for line in lines if _full_scan(line)]
        if verbose:
            print(f"    {flat}")
            for line in lines:
                print(f"        {line}")
    return scans


async def through_discord(services: Services, samples: int) -> tuple[list[float], list[float]]:
    """`/server stats` from the owner through the loopback Discord: seconds to the first
    answer (the defer) and to the follow-up carrying the picture."""
    from tests.fake_discord import FakeChannel, FakeDiscord, FakeGuild, FakeUser

    # the bot's start-up checks the lab sandbox, which this bench has no use for
    logging.getLogger("bot.services.labs").setLevel(logging.CRITICAL)
    owner = FakeUser(username="owner")
    guild = FakeGuild(id=GUILD_ID, name="Docker study server", owner_id=owner.id)
    guild.channels = [FakeChannel(name="general")]
    deferred, answered = [], []
    async with FakeDiscord(guilds=[guild], users=[owner]) as fake:
        bot = TutorBot(services)
        async with fake.running(bot):
            await bot.tree.sync()
            for round_ in range(-1, samples):
                start = time.perf_counter()
                result = await fake.slash("server stats", user=owner, guild_id=GUILD_ID)
                await result.wait(lambda r: r.acknowledged, timeout=30)
                acked = time.perf_counter()
                await result.wait(lambda r: bool(r.followups), timeout=30)
                done = time.perf_counter()
                assert result.rejections == [], result.rejections
                assert result.followups[0]["attachments"], "no picture"
                if round_ >= 0:
                    deferred.append(acked - start)
                    answered.append(done - start)
    return deferred, answered


def row(timing: Timing) -> str:
    return (
        f"  {timing.operation:<16} {len(timing.ms):>3} calls  p50 {timing.p50:7.1f} ms  "
        f"p95 {timing.quantile(timing.ms, 0.95):7.1f} ms  max {max(timing.ms):7.1f} ms"
    )


async def run_backend(
    backend: str, args: argparse.Namespace, store: CourseStore, directory: Path
) -> list[str]:
    database = await open_database(backend, args, directory)
    try:
        now = datetime.now(UTC)
        print(f"\n== {backend}: {database.server}", flush=True)
        rows, seconds = await seed(database, store, args, now)
        size = await database.writer.size()
        print(
            f"seeded {args.learners:,} learners with {args.answers:,} answers in the server, "
            f"{args.others:,} in others: {rows:,} rows in {seconds:.0f} s; "
            f"database {size / 2**20:,.0f} MiB",
            flush=True,
        )
        services = Services(sessions=create_sessionmaker(database.engine), courses=store)
        timings, stats = await measure(services, backend, args)
        print(
            f"  (the server: {stats.learners:,} learners, {len(stats.hardest)} hardest "
            f"questions, {sum(w.count for w in stats.weekly_active):,} learner-weeks active, "
            f"{stats.reminders.delivered:,} digests delivered, "
            f"{stats.reminders.failed_dms_closed:,} failed)"
        )
        for measured in timings:
            print(row(measured), flush=True)
        total = next(t for t in timings if t.operation == "total")
        verdicts = [
            f"{backend}: picture ready p95 {total.quantile(total.ms, 0.95) / 1000:.2f} s "
            f"(target {TARGET_PICTURE_S:g} s): "
            + ("met" if total.quantile(total.ms, 0.95) / 1000 < TARGET_PICTURE_S else "MISSED")
        ]
        if args.discord:
            deferred, answered = await through_discord(services, args.discord_samples)
            print(
                f"  through the loopback Discord, {len(answered)} commands: defer max "
                f"{max(deferred):.3f} s, picture sent p50 "
                f"{sorted(answered)[len(answered) // 2]:.2f} s, max {max(answered):.2f} s",
                flush=True,
            )
            verdicts.append(
                f"{backend}: defer max {max(deferred):.3f} s (target {TARGET_DEFER_S:g} s): "
                + ("met" if max(deferred) < TARGET_DEFER_S else "MISSED")
            )
        for scan in await check_plans(database, services, args.explain):
            print(f"  FULL SCAN {scan}")
        return verdicts
    finally:
        await database.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--learners", type=positive, default=10_000, help="in the server")
    parser.add_argument("--answers", type=positive, default=1_000_000, help="of those learners")
    parser.add_argument(
        "--others", type=int, default=5_000, help="learners only in other servers (0: none)"
    )
    parser.add_argument("--samples", type=positive, default=20, help="timed dashboards")
    parser.add_argument("--warmup", type=positive, default=2)
    parser.add_argument("--discord-samples", type=positive, default=5)
    parser.add_argument(
        "--no-discord", dest="discord", action="store_false", help="skip the end-to-end run"
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--explain", action="store_true", help="print every query plan")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, directory: Path) -> None:
    store = CourseStore(default_course_dir())
    print(
        f"bench_server_stats {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · Python "
        f"{platform.python_version()} · {platform.machine()} {os.cpu_count()} CPUs · "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    verdicts = []
    for backend in backends:
        verdicts += await run_backend(backend, args, store, directory)
    print()
    print("\n".join(verdicts))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_server_stats_") as directory:
        asyncio.run(run(args, Path(directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
