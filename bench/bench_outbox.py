"""Benchmark the outbox dispatcher: send rate under Discord's limit, lateness, the claim query.

    .venv/bin/python bench/bench_outbox.py [--part rate|lateness|claim|all]
        [--rows 10000] [--cap 45] [--lateness-rows 300] [--lateness-window 150]
        [--claim-sizes 10000,1000000] [--backend sqlite|postgresql|both] [--pg-url URL]

rate      `--rows` reminders, all due, to 100 learners through the loopback Discord
          (tests/fake_discord.py) with Discord's global limit added here: at most 50 requests
          in any second, then a global 429. The dispatcher runs with `send_rate=--cap`.
          Reported: the sustained rate (messages created / time from first to last) as a
          fraction of the cap, 429s seen, duplicates and missing messages (by the tag in each
          reminder; the target is zero of both, and at least 90% of the cap).
lateness  `--lateness-rows` reminders due at random moments over `--lateness-window` seconds
          (scheduled in advance; about 2 a second, well under the cap), sent by the dispatcher
          and, side by side in the same run against the same emulator, the same number by a
          plain loop that polls the outbox every 60 s (paced at 20/s too). Lateness = when
          the emulator received the message - the row's due time. Target: dispatcher p99 <= 1 s.
workers   `--worker-rows` reminders, all due, on PostgreSQL, sent by one worker process at
          `--cap` and then (same rows, fresh database) by two worker processes at `--cap`/2 each
          (tests/scheduler/worker.py: a dispatcher in a process of its own), against one
          emulator with Discord's limit shared by both. Reported per run: seconds, sustained
          rate, each worker's share, 429s, duplicates and missing messages (target: zero of
          both and no 429s), and rows claimed more than once.
claim     The claim query (`OutboxService.claim_due`, 100 rows) and the idle query
          (`next_due`) on outboxes of each size: 98% sent history, 2% pending spread over the
          next day, of which 100 are due now. Each timed 30 times (claimed rows released,
          untimed, in between); median and p95.

Each part uses its own scratch databases: SQLite files in a temporary directory, PostgreSQL
databases `bench_outbox_<random>` on the server --pg-url names (dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import discord
import discord.http
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the emulator lives in tests/

from bot.config import default_course_dir  # noqa: E402
from bot.delivery import DiscordSender, Dispatcher, Renderers  # noqa: E402
from bot.delivery.dispatcher import LEASE, Delivery, Pacer  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.services.outbox import PENDING  # noqa: E402
from content.store import CourseStore  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.fake_discord import FakeDiscord, FakeUser  # noqa: E402
from tests.scheduler.helpers import (  # noqa: E402
    count_rows,
    delivered_tags,
    insert_due,
    learner_ids,
)
from tests.scheduler.worker import spawn  # noqa: E402

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DISCORD_LIMIT = 50  # requests a second, per bot, all routes
POLL_SECONDS = 60.0


class LimitedDiscord(FakeDiscord):
    """The emulator with Discord's global rate limit: 50 requests in any second, then 429."""

    def __init__(self, *args: object, limit: int = DISCORD_LIMIT, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.limit = limit
        self.limited = 0
        self._recent: deque[float] = deque()

    async def _rest(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.limit:
            self.limited += 1
            retry_after = 1.0 - (now - self._recent[0])
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            body |= {"global": True, "code": 0}
            headers = {
                "Content-Type": "application/json",  # exactly: discord.py compares it
                "Retry-After": str(max(1, round(retry_after + 0.5))),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Via": "1.1 google",
            }
            return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)
        self._recent.append(now)
        return await super()._rest(request)


# -- scratch databases -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(backend: str, pg_url: str) -> AsyncIterator[str]:
    """A migrated, empty database of the backend; its URL. Removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench_outbox_") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'outbox.db'}"
            await _migrate(url)
            yield url
        return
    name = f"bench_outbox_{uuid.uuid4().hex[:8]}"
    admin = _plain(pg_url)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        await _migrate(url)
        yield url
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def _plain(url: str) -> str:
    """The asyncpg DSN of an SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def open_services(url: str) -> AsyncIterator[Services]:
    engine = create_engine(url)
    try:
        yield Services(sessions=create_sessionmaker(engine), courses=COURSES)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def logged_in(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """A client that talks REST only (sending needs no gateway)."""
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(fake.token)
        yield client
    finally:
        await client.close()


async def add_learners(services: Services, users: list[FakeUser]) -> list[int]:
    for user in users:
        await services.learners.start(user.id)
    return await learner_ids(services, users)


async def until(check: Callable[[], Awaitable[bool]], every: float = 0.2) -> None:
    while True:
        if await check():
            return
        await asyncio.sleep(every)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- rate --------------------------------------------------------------------------------


async def bench_rate(rows: int, cap: float) -> None:
    users = [FakeUser(username=f"learner{i}") for i in range(100)]
    async with (
        scratch_database("sqlite", "") as url,
        open_services(url) as services,
        LimitedDiscord(users=users) as fake,
    ):
        tags = await insert_due(services, await add_learners(services, users), rows, _now())
        with fake.patch_discord():
            async with logged_in(fake) as client:
                sender = DiscordSender(client, Renderers())
                dispatcher = Dispatcher(services.outbox, sender, send_rate=cap)
                started = time.monotonic()
                dispatcher.start()
                await until(lambda: _none_pending(services))
                elapsed = time.monotonic() - started
                await dispatcher.stop()
        created = sorted(
            r.time for r in fake.find_requests("POST", "/channels/*/messages") if r.status == 200
        )
        opened = len(fake.find_requests("POST", "/users/@me/channels"))
        delivered = delivered_tags(fake, users)
    sustained = (len(created) - 1) / (created[-1] - created[0])
    doubled = sum(n - 1 for n in delivered.values() if n > 1)
    missing = sum(1 for tag in tags if tag not in delivered)
    print(f"rate: {rows} reminders, cap {cap:g}/s, emulator limit {DISCORD_LIMIT}/s")
    print(
        f"  messages: sustained {sustained:.2f}/s = {sustained / cap:.1%} of the cap; "
        f"{elapsed:.1f} s in all, {opened} DMs opened too (paced like messages)"
    )
    print(f"  429s {fake.limited}; duplicates {doubled}; missing {missing}")


async def _none_pending(services: Services) -> bool:
    return await count_rows(services, PENDING) == 0


def _now() -> datetime:
    return datetime.now(UTC)


# -- lateness ----------------------------------------------------------------------------


async def poll_every_minute(services: Services, sender: DiscordSender) -> None:
    """The plain alternative: wake every 60 s, send whatever is due (paced like the
    dispatcher, so its bursts draw no 429s on both), go back to sleep."""
    pacer = Pacer(20.0, _now, asyncio.sleep)
    while True:
        for item in await services.outbox.claim_due(_now(), 1000, LEASE):
            assert item.recipient is not None
            await pacer.wait()
            await sender.send_dm(item.recipient.discord_id, Delivery(item, pace=pacer.wait))
            await services.outbox.mark_sent(item.id)
        await asyncio.sleep(POLL_SECONDS)


async def bench_lateness(count: int, window: float) -> None:
    rng = random.Random(7)
    users = [FakeUser(username=f"learner{i}") for i in range(40)]
    start = _now() + timedelta(seconds=5)
    # The emulator stamps requests with the wall clock, to compare with due times.
    async with (
        scratch_database("sqlite", "") as url_a,
        scratch_database("sqlite", "") as url_b,
        open_services(url_a) as dispatched,
        open_services(url_b) as polled,
        LimitedDiscord(users=users, clock=time.time) as fake,
    ):
        due: dict[str, datetime] = {}
        for services, half in ((dispatched, users[:20]), (polled, users[20:])):
            ids = await add_learners(services, half)
            for _ in range(count):
                when = start + timedelta(seconds=rng.uniform(0, window))
                await services.outbox.enqueue(
                    "reminder",
                    due_at=when,
                    payload={"content": "Review"},
                    learner_id=rng.choice(ids),
                )
            due |= await _nonces(services)
        with fake.patch_discord():
            async with logged_in(fake) as client_a, logged_in(fake) as client_b:
                dispatcher = Dispatcher(dispatched.outbox, DiscordSender(client_a, Renderers()))
                dispatcher.start()
                poller = asyncio.create_task(
                    poll_every_minute(polled, DiscordSender(client_b, Renderers()))
                )
                await until(lambda: _both_done(dispatched, polled), every=1.0)
                poller.cancel()
                await dispatcher.stop()
        late = {"dispatcher": [], "60 s polling": []}
        mine = set(await _nonces(dispatched))
        for request in fake.find_requests("POST", "/channels/*/messages"):
            nonce = request.json["nonce"]
            who = "dispatcher" if nonce in mine else "60 s polling"
            late[who].append(request.time - due[nonce].timestamp())
    print(
        f"lateness: {count} reminders each, due at random over {window:g} s "
        f"(~{count / window:.0f}/s each); 429s {fake.limited}"
    )
    print(f"  {'':14} {'sent':>5} {'p50':>9} {'p99':>9} {'max':>9}")
    for who, values in late.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {who:14} {len(values):5} {p50:8.3f}s {p99:8.3f}s {max(values):8.3f}s")


async def _nonces(services: Services) -> dict[str, datetime]:
    async with services.sessions() as session:
        rows = await session.execute(text("SELECT nonce, due_at FROM outbox"))
        return {nonce: _utc(due_at) for nonce, due_at in rows}


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite, read without the model's type
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def _both_done(*services: Services) -> bool:
    return all([await _none_pending(s) for s in services])


# -- workers -----------------------------------------------------------------------------


async def bench_workers(rows: int, cap: float, pg_url: str) -> None:
    print(f"workers: {rows} reminders on PostgreSQL, emulator limit {DISCORD_LIMIT}/s shared")
    print(
        f"  {'':24} {'seconds':>7} {'sent':>8} {'peak':>5} {'shares':>11} {'429s':>5} "
        f"{'dup':>4} {'miss':>5} {'reclaim':>7}"
    )
    for count in (1, 2):
        await _run_workers(rows, count, cap / count, pg_url)


async def _run_workers(rows: int, count: int, rate: float, pg_url: str) -> None:
    users = [FakeUser(username=f"learner{i}") for i in range(100)]
    async with (
        scratch_database("postgresql", pg_url) as url,
        open_services(url) as services,
        LimitedDiscord(users=users) as fake,
    ):
        tags = await insert_due(services, await add_learners(services, users), rows, _now())
        started = time.monotonic()
        workers = [await spawn(url, fake, lease=60, rate=rate) for _ in range(count)]
        outputs = [await worker.communicate() for worker in workers]
        elapsed = time.monotonic() - started
        for worker, (_out, err) in zip(workers, outputs, strict=True):
            if worker.returncode:
                raise SystemExit(f"a worker failed:\n{err.decode()[-2000:]}")
        shares = [int(out.decode().rsplit("sent ", 1)[1]) for out, _err in outputs]
        created = sorted(
            r.time for r in fake.find_requests("POST", "/channels/*/messages") if r.status == 200
        )
        requests = sorted(r.time for r in fake.find_requests("POST", "*") if r.status == 200)
        delivered = delivered_tags(fake, users)
        async with services.sessions() as session:
            claims = await session.scalar(text("SELECT sum(attempts) FROM outbox"))
    sustained = (len(created) - 1) / (created[-1] - created[0])
    doubled = sum(n - 1 for n in delivered.values() if n > 1)
    missing = sum(1 for tag in tags if tag not in delivered)
    label = f"{count} worker{'s' if count > 1 else ''} at {rate:g}/s each"
    print(
        f"  {label:24} {elapsed:7.1f} {sustained:6.2f}/s {_busiest_second(requests):5} "
        f"{'+'.join(map(str, shares)):>11} {fake.limited:5} {doubled:4} {missing:5} "
        f"{claims - rows:7}"
    )


def _busiest_second(times: list[float]) -> int:
    """The most requests in any one-second window (Discord's limit is 50)."""
    window: deque[float] = deque()
    busiest = 0
    for t in times:
        window.append(t)
        while t - window[0] >= 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    return busiest


# -- the claim query ---------------------------------------------------------------------


def sqlite_fill(path: str, size: int, now: datetime) -> None:
    """Rows straight into the file with sqlite3 (SQLAlchemy's storage format for times)."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    stamp = now.replace(tzinfo=None).strftime(fmt)

    def rows() -> object:
        for x in range(1, size + 1):
            status, due = _shape(x, now)
            yield ("reminder", due.replace(tzinfo=None).strftime(fmt), "{}", status, f"n{x}", stamp)

    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executemany(
            "INSERT INTO outbox (kind, due_at, payload, status, attempts, nonce, created_at)"
            " VALUES (?, ?, ?, ?, 0, ?, ?)",
            rows(),
        )
        db.execute("ANALYZE")
        db.commit()


async def postgres_fill(url: str, size: int, now: datetime) -> None:
    connection = await asyncpg.connect(_plain(url))
    try:
        records = (
            ("reminder", _shape(x, now)[1], "{}", _shape(x, now)[0], 0, f"n{x}", now)
            for x in range(1, size + 1)
        )
        columns = ["kind", "due_at", "payload", "status", "attempts", "nonce", "created_at"]
        await connection.copy_records_to_table("outbox", records=records, columns=columns)
        await connection.execute("VACUUM ANALYZE outbox")
    finally:
        await connection.close()


def _shape(x: int, now: datetime) -> tuple[str, datetime]:
    """98% sent history; 2% pending over the next day, of which 100 rows due a minute ago."""
    if x % 50:
        return "sent", now - timedelta(seconds=x)
    if x <= 100 * 50:
        return PENDING, now - timedelta(minutes=1)
    return PENDING, now + timedelta(seconds=(x // 50) % 86_400)


async def bench_claim(backend: str, sizes: list[int], pg_url: str, repeat: int = 30) -> None:
    for size in sizes:
        now = _now()
        async with scratch_database(backend, pg_url) as url:
            started = time.monotonic()
            if backend == "sqlite":
                await asyncio.to_thread(sqlite_fill, make_url(url).database or "", size, now)
            else:
                await postgres_fill(url, size, now)
            filled = time.monotonic() - started
            async with open_services(url) as services:
                claim, idle, claimed = [], [], 0
                for _ in range(repeat + 3):
                    t0 = time.perf_counter()
                    items = await services.outbox.claim_due(now, 100, LEASE)
                    t1 = time.perf_counter()
                    await services.outbox.next_due(now)
                    t2 = time.perf_counter()
                    await services.outbox.release([i.id for i in items])
                    claim.append(t1 - t0)
                    idle.append(t2 - t1)
                    claimed = len(items)
                claim, idle = claim[3:], idle[3:]  # warm-up
        print(
            f"  {backend:10} {size:>9,} rows  claim ({claimed} rows) median "
            f"{statistics.median(claim) * 1e3:6.2f} ms p95 {percentile(claim, 0.95) * 1e3:6.2f} ms"
            f"   next_due median {statistics.median(idle) * 1e3:6.2f} ms"
            f"   (filled in {filled:.0f} s)"
        )


# -- main --------------------------------------------------------------------------------

COURSES = CourseStore(default_course_dir())


async def main(args: argparse.Namespace) -> None:
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    if args.part in ("rate", "all"):
        await bench_rate(args.rows, args.cap)
    if args.part in ("lateness", "all"):
        await bench_lateness(args.lateness_rows, args.lateness_window)
    if args.part in ("workers", "all"):
        await bench_workers(args.worker_rows, args.cap, args.pg_url)
    if args.part in ("claim", "all"):
        print("claim query:")
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        sizes = [int(s) for s in args.claim_sizes.split(",")]
        for backend in backends:
            await bench_claim(backend, sizes, args.pg_url)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parts = ["rate", "lateness", "workers", "claim", "all"]
    parser.add_argument("--part", choices=parts, default="all")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cap", type=float, default=45.0)
    parser.add_argument("--worker-rows", type=int, default=2000)
    parser.add_argument("--lateness-rows", type=int, default=300)
    parser.add_argument("--lateness-window", type=float, default=150.0)
    parser.add_argument("--claim-sizes", default="10000,1000000")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
