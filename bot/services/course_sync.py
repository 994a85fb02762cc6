"""Course reloads across workers: `/admin reload` answered by one worker reloads them all.

Each worker holds its own course in memory. On PostgreSQL a reload that succeeded sends
`NOTIFY tutor_course, '<worker id>'`; every other worker LISTENs (pg_listen.py) and reloads its
own course from its CONTENT_DIR when it hears one. A notification missed while a listening
connection is down is not caught up: that worker keeps its course until the next reload or a
restart. SQLite runs one bot process, so there is nobody to tell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.pg_listen import ChannelListener, notify

CHANNEL = "tutor_course"


async def announce_reload(sessions: async_sessionmaker[AsyncSession], worker: str) -> None:
    """Tell the other workers; `worker` names this one, whose follower ignores its own notice."""
    async with sessions.begin() as session:
        await notify(session, CHANNEL, worker)


class ReloadFollower(ChannelListener):
    """Runs `reload()` whenever another worker announces that it reloaded its course."""

    def __init__(
        self, engine: AsyncEngine, worker: str, reload: Callable[[], Awaitable[object]]
    ) -> None:
        super().__init__(
            engine,
            CHANNEL,
            self._heard_reload,
            what="course reloads",
            missed="a reload on another worker will not reach this one",
        )
        self.worker = worker
        self.reload = reload
        self._running: set[asyncio.Task[object]] = set()

    def _heard_reload(self, payload: str) -> None:
        if payload == self.worker:
            return
        task = asyncio.ensure_future(self.reload())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
