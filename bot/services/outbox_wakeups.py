"""Wake-ups across processes: PostgreSQL NOTIFY when a row is enqueued, LISTEN in every worker.

A dispatcher sleeps until the earliest row it knows of. Rows enqueued in its own process wake
it directly (`OutboxService.subscribe`); rows enqueued by another worker (or `tutorbot` run by
hand) would wait for its next scheduled wake, up to `MAX_SLEEP`. So on PostgreSQL the enqueuing
transaction also sends `NOTIFY tutor_outbox, '<due time>'`, delivered at commit to every
listening connection, and each dispatcher keeps one connection that LISTENs.

A notification can be missed while the listening connection is down; on every (re)connect the
listener therefore wakes its dispatcher once, whose next round looks at the table itself.
SQLite has one process per database (bot/app.py), so it needs none of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)

CHANNEL = "tutor_outbox"
RECONNECT_AFTER = 5.0  # seconds between attempts while the database is unreachable


async def notify_workers(session: AsyncSession, due_at: datetime) -> None:
    """Tell every listening worker, when `session` commits, that a row falls due at `due_at`."""
    await session.execute(select(func.pg_notify(CHANNEL, due_at.isoformat())))


class WakeupListener:
    """Holds a LISTEN connection and calls `on_due(due_at)` for every notification."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_due: Callable[[datetime], None],
        *,
        reconnect_after: float = RECONNECT_AFTER,
    ) -> None:
        self.engine = engine
        self.on_due = on_due
        self.reconnect_after = reconnect_after
        self.listening = asyncio.Event()  # set while notifications can arrive

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after a lost connection."""
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "outbox wake-ups: cannot listen (%s); other workers' rows may wait for the "
                    "next scheduled check; retrying in %gs",
                    exc,
                    self.reconnect_after,
                )
            else:
                log.warning("outbox wake-ups: the listening connection closed; reconnecting")
            self.listening.clear()
            await asyncio.sleep(self.reconnect_after)

    async def _listen_once(self) -> None:
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection  # an asyncpg Connection
            closed = asyncio.Event()
            driver.add_termination_listener(lambda _conn: closed.set())
            try:
                await driver.add_listener(CHANNEL, self._heard)
                self.listening.set()
                self.on_due(datetime.now(UTC))  # whatever was enqueued before we listened
                await closed.wait()
            finally:
                self.listening.clear()
                # A connection that LISTENs must not go back to the pool for other work.
                await connection.invalidate()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            due_at = datetime.fromisoformat(payload)
        except ValueError:
            log.warning("outbox wake-ups: ignored a notification that is no time: %.40r", payload)
            return
        self.on_due(due_at)
