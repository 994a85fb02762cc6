"""Several dispatchers on one PostgreSQL database: SKIP LOCKED shares the rows out exactly, and
NOTIFY wakes every one of them when any process enqueues a row."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.delivery.dispatcher import MAX_SLEEP
from bot.services import Services
from bot.services.outbox import SENT
from bot.services.outbox_wakeups import WakeupListener
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from storage.models import OutboxMessage
from tests.conftest import PG_URL, _empty_tables
from tests.fake_discord import FakeDiscord, FakeUser
from tests.scheduler.helpers import count_rows, delivered_tags, insert_due, learner_ids
from tests.scheduler.worker import spawn

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL (set TEST_DATABASE_URL; CI always does): SQLite runs one dispatcher",
)

ROWS = 10_000


@pytest.fixture
async def services(postgres_url: str, courses: CourseStore) -> AsyncIterator[Services]:
    await _empty_tables(postgres_url)  # as the `database_url` fixture does for every test
    engine = create_engine(postgres_url)
    try:
        yield Services(sessions=create_sessionmaker(engine), courses=courses)
    finally:
        await engine.dispose()


async def test_two_dispatchers_share_10000_rows_without_doubles_or_gaps(
    services: Services, postgres_url: str
) -> None:
    """Two processes (tests/scheduler/worker.py), each a dispatcher, on the same rows."""
    users = [FakeUser(username=f"learner{i}") for i in range(100)]
    for user in users:
        await services.learners.start(user.id)
    ids = await learner_ids(services, users)
    tags = await insert_due(services, ids, ROWS, datetime.now(UTC))

    async with FakeDiscord(users=users) as fake:
        workers = [await spawn(postgres_url, fake, lease=60, rate=5000) for _ in range(2)]
        outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 60)
        delivered = delivered_tags(fake, users)

    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()[-2000:]
    sent = [int(out.decode().split("sent ")[1]) for out, _err in outputs]
    assert delivered == Counter(dict.fromkeys(tags, 1))
    assert await count_rows(services, SENT) == ROWS
    assert all(n > ROWS // 10 for n in sent), sent  # both took a real share...
    assert sum(sent) == ROWS  # ...and no row was sent by both
    async with services.sessions() as session:
        claims = await session.scalar(select(func.sum(OutboxMessage.attempts)))
    assert claims == ROWS  # no row was ever claimed twice


async def test_a_row_enqueued_by_another_process_wakes_a_sleeping_worker_at_once(
    services: Services, postgres_url: str
) -> None:
    """The worker has nothing due, so it sleeps for MAX_SLEEP (5 min); NOTIFY wakes it."""
    user = FakeUser(username="learner")
    await services.learners.start(user.id)
    [learner] = await learner_ids(services, [user])
    async with FakeDiscord(users=[user]) as fake:
        worker = await spawn(postgres_url, fake, lease=60, rate=50, until=1)
        assert worker.stdout is not None
        lines = [await asyncio.wait_for(worker.stdout.readline(), 30) for _ in range(2)]
        assert lines == [b"started\n", b"listening\n"]
        await asyncio.sleep(0.5)  # its first round is over: it sleeps now
        enqueued = time.monotonic()
        await services.outbox.enqueue(
            "reminder",
            due_at=datetime.now(UTC),
            payload={"content": "wake up [r1]"},
            learner_id=learner,
        )
        out, err = await asyncio.wait_for(worker.communicate(), 30)
        waited = time.monotonic() - enqueued
        assert worker.returncode == 0, err.decode()[-2000:]
        assert out == b"sent 1\n"
        assert delivered_tags(fake, [user]) == Counter({"r1": 1})
    assert waited < MAX_SLEEP / 10, waited  # in practice well under a second


async def test_every_listening_worker_hears_an_enqueue(
    services: Services, postgres_url: str
) -> None:
    """Each worker listens on a connection of its own; one NOTIFY reaches all of them."""
    heard: list[list[datetime]] = [[], []]
    engines = [create_engine(postgres_url) for _ in heard]
    listeners = [
        WakeupListener(engine, times.append) for engine, times in zip(engines, heard, strict=True)
    ]
    tasks = [asyncio.create_task(listener.run()) for listener in listeners]
    try:
        for listener in listeners:
            await asyncio.wait_for(listener.listening.wait(), 10)
        for times in heard:
            times.clear()  # the wake each listener gives itself on connecting
        due = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
        await services.outbox.enqueue("reminder", due_at=due, payload={"content": "x"})
        for _ in range(200):
            if all(heard):
                break
            await asyncio.sleep(0.01)
        assert heard == [[due], [due]]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines:
            await engine.dispose()
