"""Wake-ups across processes: PostgreSQL NOTIFY when a row is enqueued, LISTEN in every worker.

A dispatcher sleeps until the earliest row it knows of. Rows enqueued in its own process wake
it directly (`OutboxService.subscribe`); rows enqueued by another worker (or `tutorbot` run by
hand) would wait for its next scheduled wake, up to `MAX_SLEEP`. So on PostgreSQL the enqueuing
transaction also sends `NOTIFY tutor_outbox, '<due time>'`, delivered at commit to every
listening connection, and each dispatcher keeps one connection that LISTENs (pg_listen.py).

A notification can be missed while the listening connection is down; on every (re)connect the
listener therefore wakes its dispatcher once, whose next round looks at the table itself.
SQLite has one dispatching process per database (bot/app.py) and no NOTIFY: rows a second,
non-dispatching process enqueues wait for the dispatcher's next scheduled wake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.services.pg_listen import RECONNECT_AFTER, ChannelListener, notify

log = logging.getLogger(__name__)

CHANNEL = "tutor_outbox"


async def notify_workers(session: AsyncSession, due_at: datetime) -> None:
    """Tell every listening worker, when `session` commits, that a row falls due at `due_at`."""
    await notify(session, CHANNEL, due_at.isoformat())


class WakeupListener(ChannelListener):
    """Calls `on_due(due_at)` for every row any process enqueues (and once on each connect)."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_due: Callable[[datetime], None],
        *,
        reconnect_after: float = RECONNECT_AFTER,
    ) -> None:
        super().__init__(
            engine,
            CHANNEL,
            self._heard_due,
            what="outbox wake-ups",
            missed="other workers' rows may wait for the next scheduled check",
            on_connect=lambda: on_due(datetime.now(UTC)),  # what was enqueued before we listened
            reconnect_after=reconnect_after,
        )
        self.on_due = on_due

    def _heard_due(self, payload: str) -> None:
        try:
            due_at = datetime.fromisoformat(payload)
        except ValueError:
            log.warning("outbox wake-ups: ignored a notification that is no time: %.40r", payload)
            return
        self.on_due(due_at)
