from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import default_course_dir
from bot.services import Services
from content.store import CourseStore


class Clock:
    """A settable clock for services: time is injected, never slept on."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def course_store() -> CourseStore:
    return CourseStore(default_course_dir())


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def services(
    sessions: async_sessionmaker[AsyncSession], course_store: CourseStore, clock: Clock
) -> Services:
    return Services(sessions=sessions, courses=course_store, clock=clock)
