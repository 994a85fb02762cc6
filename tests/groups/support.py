"""Shared by the group and drill tests: services on a real database, the clock injected.

SQLite always, and PostgreSQL with TEST_DATABASE_URL (the `sessions` fixture of tests/conftest).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import default_course_dir
from bot.services import Services
from bot.services.moderators import Member
from content.store import CourseStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
SERVER, OTHER_SERVER = 1001, 2002
OWNER, ANA, BEN, CAT = 11, 12, 13, 14


class Clock:
    """A settable UTC clock: time is injected, never slept on."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def member(user_id: int, *, manage: bool = False, roles: tuple[int, ...] = ()) -> Member:
    return Member.of(user_id, manage_guild=manage, role_ids=roles)


@pytest.fixture(scope="session")
def course_store() -> CourseStore:
    return CourseStore(default_course_dir())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(
    sessions: async_sessionmaker[AsyncSession], course_store: CourseStore, clock: Clock
) -> Services:
    return Services(sessions=sessions, courses=course_store, clock=clock)


@pytest.fixture
async def learners(services: Services) -> list[int]:
    """Four learners who have run /start: the owner in Berlin, the others in UTC."""
    await services.learners.start(OWNER, track="performance", time_zone="Europe/Berlin")
    for user in (ANA, BEN, CAT):
        await services.learners.start(user, track="complete")
    return [OWNER, ANA, BEN, CAT]
