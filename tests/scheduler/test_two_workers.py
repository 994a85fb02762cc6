"""Two dispatchers on one PostgreSQL database: SKIP LOCKED shares the rows out exactly."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.services import Services
from bot.services.outbox import SENT
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
