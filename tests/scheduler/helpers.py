"""Plain helpers for the outbox tests and its benchmark: a virtual clock, rows, counting."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.services import Services
from bot.services.outbox import PENDING, new_nonce
from storage.models import Learner, OutboxMessage
from tests.fake_discord import FakeChannel, FakeDiscord, FakeUser

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TAG = re.compile(r"\[(r\d+)\]")


class VirtualTime:
    """A UTC clock that moves only when the code under test sleeps on it.

    The dispatcher's pacing, back-offs and lease waits then cost no real time. A long sleep
    (an idle dispatcher) still yields for a millisecond so an empty loop does not spin hot.
    """

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0.001 if seconds >= 1 else 0)


def delivered_tags(
    fake: FakeDiscord, users: Iterable[FakeUser], channels: Iterable[FakeChannel] = ()
) -> Counter[str]:
    """How many messages carry each `[rN]` tag, over the users' DMs and the channels."""
    messages = [m for u in users for m in fake.dm_messages(u)]
    messages += [m for c in channels for m in fake.messages_in(c.id)]
    return Counter(tag for m in messages for tag in TAG.findall(m["content"]))


async def learner_ids(services: Services, users: Iterable[FakeUser]) -> list[int]:
    """The learner ids of users who ran /start, in the same order."""
    by_discord_id = {user.id: user for user in users}
    query = select(Learner.discord_id, Learner.id).where(Learner.discord_id.in_(by_discord_id))
    async with services.sessions() as session:
        found = {discord_id: id_ for discord_id, id_ in await session.execute(query)}
    return [found[discord_id] for discord_id in by_discord_id]


async def insert_due(
    services: Services, learners: list[int], count: int, due_at: datetime
) -> list[str]:
    """`count` reminders tagged r0..r{count-1}, round-robin over the learners, in one go."""
    tags = [f"r{i}" for i in range(count)]
    rows = [
        {
            "kind": "reminder",
            "learner_id": learners[i % len(learners)],
            "due_at": due_at,
            "payload": {"content": f"Time to review [{tag}]"},
            "nonce": new_nonce(),
            "status": PENDING,
            "attempts": 0,
            "created_at": due_at,
        }
        for i, tag in enumerate(tags)
    ]
    async with services.sessions.begin() as session:
        await session.execute(insert(OutboxMessage), rows)
    return tags


async def count_rows(services: Services, status: str = PENDING) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
    async with services.sessions() as session:
        return int(await session.scalar(query) or 0)


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    """Poll an (async) condition in real time; fail with a clear message after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.01)
