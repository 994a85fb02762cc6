"""What groups and drills need from the outbox: "send this later", and "forget what I asked".

Study groups (the weekly note) and drills (the post, the reveal) put their future messages in
the outbox like every other feature; bot.delivery delivers them through the renderers their
adapters register. `Jobs` is the narrow slice of OutboxService they use, plus one question
OutboxService does not answer yet: which rows of a kind are still pending for a server
(to cancel a drill's next post when it is paused or moved).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from bot.services.outbox import PENDING, OutboxService
from storage.models import OutboxMessage


class Jobs(Protocol):
    async def later(
        self,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any],
        *,
        key: str,
        guild_id: int,
        channel_id: int | None,
    ) -> int:
        """Ask for one message of `kind` at `due_at`; the same `key` twice is one message."""
        ...

    async def forget(self, kind: str, *, guild_id: int, channel_id: int | None = None) -> int:
        """Cancel every pending row of `kind` for the server (and channel); how many."""
        ...


class OutboxJobs:
    """`Jobs` on the outbox table, through OutboxService (so its dispatcher is woken)."""

    def __init__(self, outbox: OutboxService) -> None:
        self.outbox = outbox

    async def later(
        self,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any],
        *,
        key: str,
        guild_id: int,
        channel_id: int | None,
    ) -> int:
        return await self.outbox.enqueue(
            kind,
            due_at=due_at,
            payload=payload,
            guild_id=guild_id,
            channel_id=channel_id,
            dedupe_key=key,
        )

    async def forget(self, kind: str, *, guild_id: int, channel_id: int | None = None) -> int:
        query = select(OutboxMessage.id).where(
            OutboxMessage.kind == kind,
            OutboxMessage.guild_id == guild_id,
            OutboxMessage.status == PENDING,
        )
        if channel_id is not None:
            query = query.where(OutboxMessage.channel_id == channel_id)
        async with self.outbox.sessions() as session:
            row_ids = list(await session.scalars(query))
        cancelled = 0
        for row_id in row_ids:
            cancelled += await self.outbox.cancel(row_id, reason=f"{kind}: no longer wanted")
        return cancelled
