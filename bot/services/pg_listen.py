"""PostgreSQL LISTEN/NOTIFY between worker processes (bot/services/outbox_wakeups.py,
bot/services/course_sync.py).

`notify` sends inside the caller's transaction, so listeners hear it only if it commits.
`ChannelListener` keeps one connection that LISTENs on a channel; a notification sent while
that connection is down is lost, so `on_connect` runs on every (re)connect for the listener to
catch up on what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

log = logging.getLogger(__name__)

RECONNECT_AFTER = 5.0  # seconds between attempts while the database is unreachable
PING_EVERY = 60.0  # seconds between checks that the listening connection still answers
PING_TIMEOUT = 10.0


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    """Send `payload` on `channel` to every listening worker when `session` commits."""
    await session.execute(select(func.pg_notify(channel, payload)))


class ChannelListener:
    """Calls `on_payload(payload)` for every notification on `channel`, until cancelled.
    `what` names the listener in log lines ("outbox wake-ups")."""

    def __init__(
        self,
        engine: AsyncEngine,
        channel: str,
        on_payload: Callable[[str], None],
        *,
        what: str,
        missed: str,
        on_connect: Callable[[], None] = lambda: None,
        reconnect_after: float = RECONNECT_AFTER,
        ping_every: float = PING_EVERY,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.on_payload = on_payload
        self.what = what
        self.missed = missed  # what the operator loses while it cannot listen
        self.on_connect = on_connect
        self.reconnect_after = reconnect_after
        self.ping_every = ping_every
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
                    "%s: cannot listen (%s); %s; retrying in %gs",
                    self.what,
                    exc,
                    self.missed,
                    self.reconnect_after,
                )
            else:
                log.warning("%s: the listening connection closed; reconnecting", self.what)
            self.listening.clear()
            await asyncio.sleep(self.reconnect_after)

    async def _listen_once(self) -> None:
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection  # an asyncpg Connection
            closed = asyncio.Event()
            driver.add_termination_listener(lambda _conn: closed.set())
            try:
                await driver.add_listener(self.channel, self._heard)
                self.listening.set()
                self.on_connect()
                while not closed.is_set():
                    # A half-open connection (a failover, an idle timeout on the way) reports
                    # nothing: a query that does not come back is the only sign of it.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), self.ping_every)
                    if not closed.is_set():
                        await asyncio.wait_for(driver.execute("SELECT 1"), PING_TIMEOUT)
            finally:
                self.listening.clear()
                # A connection that LISTENs must not go back to the pool for other work.
                await connection.invalidate()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.on_payload(payload)
