"""/admin reload on one worker reloads the others (PostgreSQL NOTIFY, bot/services/course_sync.py).

Two workers stand here as two Services, each with its own course in memory, on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import Services
from bot.services.course_sync import ReloadFollower
from content.store import CourseStore
from tests.admin.support import shorten_part_1
from tests.scheduler.helpers import eventually


@contextlib.asynccontextmanager
async def following(worker: Services) -> AsyncIterator[bool]:
    """The worker's reload follower running (as the admin cog runs it); False on SQLite."""
    follower = worker.status.follow_reloads()
    if follower is None:
        yield False
        return
    async with listening(follower):
        yield True


@contextlib.asynccontextmanager
async def listening(follower: ReloadFollower) -> AsyncIterator[None]:
    """The follower connected and done looking for missed reloads (and reloading)."""
    follower.caught_up.clear()  # set by an earlier connect
    task = asyncio.create_task(follower.run())
    try:
        await asyncio.wait_for(follower.caught_up.wait(), 10)
        await eventually(lambda: not follower._running)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_reload_on_one_worker_reloads_the_others(
    sessions: async_sessionmaker[AsyncSession], course_dir: Path
) -> None:
    first, second = (Services(sessions=sessions, courses=CourseStore(course_dir)) for _ in range(2))
    chunks_before = len(second.courses.course.parts[1].sections)
    async with following(first) as shared, following(second):
        shorten_part_1(course_dir)
        result = await first.status.reload_course(by=1)
        assert result.applied and result.generation == 2
        assert result.others_told is shared
        for _ in range(500):
            if second.courses.generation == 2 or not shared:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # time enough for a wrong second reload to show
    if shared:  # PostgreSQL: the other worker reloaded once; the first ignored its own notice
        assert (first.courses.generation, second.courses.generation) == (2, 2)
        assert "Shorter now." in str(second.courses.course.parts[1].sections)
        assert "were told and reload theirs now" in result.text()
    else:  # SQLite: one process, nobody to tell
        assert second.courses.generation == 1
        assert len(second.courses.course.parts[1].sections) == chunks_before
        assert "keep their course until they reload or restart" in result.text()


Workers = tuple[Services, Services, ReloadFollower]


@pytest.fixture
def workers(sessions: async_sessionmaker[AsyncSession], course_dir: Path) -> Workers:
    """Two workers on one PostgreSQL database and the second's reload follower, not running
    yet (there is nobody to tell on SQLite: the tests using it are skipped there)."""
    first, second = (Services(sessions=sessions, courses=CourseStore(course_dir)) for _ in range(2))
    follower = second.status.follow_reloads()
    if follower is None:
        pytest.skip("one process on SQLite: nobody to tell")
    return first, second, follower


async def test_a_worker_that_could_not_listen_reloads_when_it_listens_again(
    workers: Workers, course_dir: Path
) -> None:
    """Each connect of the listener looks for what it missed (here: the listener stopped and
    started again, which is what its reconnect loop does; a cut connection is tested below)."""
    first, second, follower = workers
    async with listening(follower):
        assert second.courses.generation == 1  # nothing was missed

    shorten_part_1(course_dir)
    assert (await first.status.reload_course(by=1)).applied  # its notice goes out to nobody
    assert second.courses.generation == 1
    assert (await second.status.reload_course(by=1)).applied  # its own, after the other's
    async with listening(follower):
        assert second.courses.generation == 2  # nothing missed since: no reload again
        assert "Shorter now." in str(second.courses.course.parts[1].sections)

    assert (await first.status.reload_course(by=1)).applied  # missed this time
    async with listening(follower):
        assert second.courses.generation == 3


async def test_a_reload_before_a_worker_first_listens_reaches_it(
    workers: Workers, course_dir: Path
) -> None:
    """The course is loaded at start-up, the listener connects later (after the login)."""
    first, second, follower = workers
    shorten_part_1(course_dir)
    assert (await first.status.reload_course(by=1)).applied
    async with listening(follower):
        assert second.courses.generation == 2
        assert "Shorter now." in str(second.courses.course.parts[1].sections)


async def test_a_cut_listening_connection_reconnects_and_the_reload_arrives_once(
    workers: Workers, course_dir: Path
) -> None:
    """Whether the reconnect came before the notice (heard) or after (caught up), once."""
    first, second, follower = workers
    follower.reconnect_after = 1.0
    async with listening(follower):
        await cut_listeners(first.sessions)
        await eventually(lambda: not follower.listening.is_set())
        shorten_part_1(course_dir)
        assert (await first.status.reload_course(by=1)).applied
        await eventually(lambda: follower.listening.is_set() and follower.caught_up.is_set())
        await eventually(lambda: not follower._running)
        assert second.courses.generation == 2


async def cut_listeners(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Terminate every connection that LISTENs for reloads (as a failover would)."""
    async with sessions.begin() as session:
        await session.execute(text(CUT_LISTENERS))


CUT_LISTENERS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND query = 'LISTEN "tutor_course"'
"""
