"""Course reloads across workers: `/admin reload` answered by one worker reloads them all.

Each worker holds its own course in memory. On PostgreSQL a reload that succeeded is written
down (a `course_reloads` row) and announced with `NOTIFY tutor_course, '<worker> <row id>'`, in
one transaction; every other worker LISTENs (pg_listen.py) and reloads its own course from its
CONTENT_DIR when it hears one. A notice sent while a worker's listening connection was down is
lost, so each time it (re)connects the worker compares the latest row with the last it knows
of, and reloads if it missed one. SQLite runs one bot process, so there is nobody to tell.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.pg_listen import ChannelListener, notify
from storage.models import CourseReload

log = logging.getLogger(__name__)

CHANNEL = "tutor_course"


async def announce_reload(sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
    """Tell the other workers; `worker` names this one, whose follower ignores its own notice."""
    async with sessions.begin() as session:
        row = CourseReload(worker=worker)
        session.add(row)
        await session.flush()
        await notify(session, CHANNEL, f"{worker} {row.id}")


class ReloadFollower(ChannelListener):
    """Runs `reload()` whenever another worker announces that it reloaded its course, and when
    it reconnects after missing such an announcement."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        worker: str,
        reload: Callable[[], Awaitable[object]],
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
        self.known: int | None = None  # the latest reload this worker knows of (its row id)
        self._running: set[asyncio.Task[object]] = set()

    def _heard_reload(self, payload: str) -> None:
        worker, _, row = payload.partition(" ")
        self._know(int(row) if row.isdigit() else None)
        if worker != self.worker:
            self._in_background(self.reload())

    def _connected(self) -> None:
        self._in_background(self._catch_up())

    async def _catch_up(self) -> None:
        async with self.sessions() as session:
            latest = await session.scalar(select(func.max(CourseReload.id)))
        missed = self.known is not None and latest is not None and latest > self.known
        self._know(latest)
        if missed:
            log.info("course reloads: another worker reloaded while this one could not listen")
            await self.reload()

    def _know(self, row: int | None) -> None:
        if row is not None and (self.known is None or row > self.known):
            self.known = row
        elif self.known is None:
            self.known = 0  # none yet: any row from now on is news

    def _in_background(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
