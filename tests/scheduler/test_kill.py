"""Kill -9 a dispatcher process mid-run; a new one finishes the job without duplicates."""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import Services
from bot.services.outbox import PENDING, SENT
from content.store import CourseStore
from tests.fake_discord import FakeDiscord, FakeUser
from tests.scheduler.helpers import (
    count_rows,
    delivered_tags,
    eventually,
    insert_due,
    learner_ids,
)
from tests.scheduler.worker import spawn

ROWS = 1000


async def test_a_killed_process_loses_and_doubles_nothing(
    database_url: str, sessions: async_sessionmaker[AsyncSession], courses: CourseStore
) -> None:
    users = [FakeUser(username=f"learner{i}") for i in range(5)]
    services = Services(sessions=sessions, courses=courses)
    for user in users:
        await services.learners.start(user.id)
    tags = await insert_due(services, await learner_ids(services, users), ROWS, datetime.now(UTC))
    kill_after = random.Random().randint(100, 600)

    async with FakeDiscord(users=users) as fake:
        # A 1 s lease so the second process need not wait long for the dead one's rows.
        first = await spawn(database_url, fake, lease=1, rate=400)
        await eventually(lambda: sum(delivered_tags(fake, users).values()) >= kill_after, 20)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        before = sum(delivered_tags(fake, users).values())
        assert first.returncode == -signal.SIGKILL
        assert before < ROWS, f"the first process finished before the kill at {kill_after}"

        second = await spawn(database_url, fake, lease=1, rate=400)
        _out, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, err.decode()[-2000:]
        delivered = delivered_tags(fake, users)

    assert delivered == Counter(dict.fromkeys(tags, 1))
    assert await count_rows(services, SENT) == ROWS
    assert await count_rows(services, PENDING) == 0
