"""Fixtures for the outbox tests: a virtual clock and the world (see world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import default_course_dir
from bot.services import Services
from content.store import CourseStore
from tests.scheduler.helpers import VirtualTime
from tests.scheduler.world import World, open_world


@pytest.fixture(scope="session")
def courses() -> CourseStore:
    return CourseStore(default_course_dir())


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], courses: CourseStore, vt: VirtualTime
) -> AsyncIterator[World]:
    services = Services(sessions=sessions, courses=courses, clock=vt)
    async with open_world(services, vt) as world:
        yield world
