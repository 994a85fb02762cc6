"""Course reloads across workers: `/admin reload` answered by one worker reloads them all.

Each worker holds its own course in memory. On PostgreSQL a reload that succeeded is written
down (a `course_reloads` row) and announced with `NOTIFY tutor_course, '<worker>'`, in one
transaction; every other worker LISTENs (pg_listen.py) and reloads its own course from its
CONTENT_DIR when it hears one. A notice sent while a worker was not listening (its connection
down, or not yet up after a start) is lost, so each time the worker (re)connects it looks for a
reload by another worker written after its own course was loaded, and reloads if it finds one.
SQLite runs one bot process, so there is nobody to tell.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.pg_listen import ChannelListener, notify
from storage.models import CourseReload

log = logging.getLogger(__name__)

CHANNEL = "tutor_course"
CATCH_UP_FAILED = "course reloads: could not look for reloads missed while not listening"


async def announce_reload(sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
    """Tell the other workers; `worker` names this one, whose follower ignores its own notice."""
    async with sessions.begin() as session:
        session.add(CourseReload(worker=worker))
        await notify(session, CHANNEL, worker)


class ReloadFollower(ChannelListener):
    """Runs `reload()` whenever another worker announces that it reloaded its course, and on
    (re)connecting when another worker reloaded after `loaded_at()`, the time this worker's
    course was loaded (a clock skew between hosts costs at most a needless reload)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        worker: str,
        reload: Callable[[], Awaitable[object]],
        loaded_at: Callable[[], datetime],
    ) -> None:
        super().__init__(
            engine,
            CHANNEL,
            self._heard_reload,
            what="course reloads",
            missed="a reload on another worker reaches this one only once it listens again",
            on_connect=self._connected,
        )
        self.sessions = sessions
        self.worker = worker
        self.reload = reload
        self.loaded_at = loaded_at
        self.caught_up = asyncio.Event()  # set once a connect's look for missed reloads is done
        self._running: set[asyncio.Task[object]] = set()

    def _heard_reload(self, payload: str) -> None:
        if payload != self.worker:
            self._in_background(self.reload())

    def _connected(self) -> None:
        self.caught_up.clear()
        self._in_background(self._catch_up())

    async def _catch_up(self) -> None:
        try:
            async with self.sessions() as session:
                missed = await session.scalar(
                    select(CourseReload.id)
                    .where(
                        CourseReload.worker != self.worker,
                        CourseReload.reloaded_at > self.loaded_at(),
                    )
                    .limit(1)
                )
            if missed is not None:
                log.info("course reloads: another worker reloaded while this one was not listening")
                await self.reload()
        except Exception:
            log.exception(CATCH_UP_FAILED)
        finally:
            self.caught_up.set()

    def _in_background(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
