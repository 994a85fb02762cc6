"""Daily digests in the outbox: scheduled at the learner's local hour, snoozed, paused.

One pending digest row per learner at a time (rescheduling cancels the old one first). At send
time the digest is composed fresh, the next day's is scheduled, and at most one digest a day
goes out: a second one on the same local day is dropped unless the learner snoozed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from bot.errors import UserError
from bot.services.base import ServiceBase, learner_or_none, require_learner
from bot.services.digest import Digest, DigestService
from bot.services.learners import LearnerService
from bot.services.outbox import PENDING, SENT, OutboxService
from bot.services.reminder_times import local_to_utc
from bot.services.timezones import local_date
from storage.models import Learner, OutboxMessage

DIGEST = "digest"
EVENING_HOUR = 19
PAUSE_DAYS = 7
SWEEP_BATCH = 500
Snooze = Literal["hour", "evening", "tomorrow"]


@dataclass
class ReminderService(ServiceBase):
    outbox: OutboxService | None = None
    digests: DigestService | None = None

    def _outbox(self) -> OutboxService:
        assert self.outbox is not None
        return self.outbox

    async def reschedule(self, discord_id: int) -> datetime | None:
        """Cancel the learner's pending digest and plan the next one from their settings."""
        async with self.sessions() as session:
            learner = await learner_or_none(session, discord_id)
        if learner is None:
            return None
        await self._cancel_pending(learner.id)
        return await self._enqueue(learner, self._digests().next_time(learner))

    async def after_sent(self, learner_id: int, due_at: datetime) -> None:
        """Plan the next digest after the one due at `due_at` (idempotent per day)."""
        async with self.sessions() as session:
            learner = await session.get(Learner, learner_id)
        if learner is not None and not await self._has_pending(learner_id, after=due_at):
            await self._enqueue(learner, self._digests().next_time(learner, due_at))

    async def snooze(self, discord_id: int, until: Snooze) -> datetime:
        now = self.clock()
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
        zone = ZoneInfo(learner.time_zone)
        today = local_date(now, learner.time_zone)
        if until == "hour":
            due = now + timedelta(hours=1)
        elif until == "evening":
            due = local_to_utc(today, EVENING_HOUR, zone)
            if due <= now:
                raise UserError("It is already evening: snooze for an hour or until tomorrow.")
        else:
            due = local_to_utc(today + timedelta(days=1), learner.reminder_hour, zone)
        await self._enqueue(learner, due, snoozed=True)
        return due

    async def pause_week(self, discord_id: int, learners: LearnerService) -> datetime | None:
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
        today = local_date(self.clock(), learner.time_zone)
        profile = await learners.update_settings(
            discord_id, pause_until=today + timedelta(days=PAUSE_DAYS)
        )
        await self.reschedule(discord_id)
        return profile.paused_until

    async def ensure_all(self) -> int:
        """Give every learner without a pending digest their next one (run at start-up)."""
        pending = aliased(OutboxMessage)
        scheduled = 0
        while True:
            async with self.sessions() as session:
                batch = list(
                    await session.scalars(
                        select(Learner)
                        .outerjoin(
                            pending,
                            and_(
                                pending.learner_id == Learner.id,
                                pending.kind == DIGEST,
                                pending.status == PENDING,
                            ),
                        )
                        .where(pending.id.is_(None))
                        .limit(SWEEP_BATCH)
                    )
                )
            for learner in batch:
                await self._enqueue(learner, self._digests().next_time(learner))
            scheduled += len(batch)
            if len(batch) < SWEEP_BATCH:
                return scheduled

    async def digest_to_send(self, learner_id: int, payload: dict[str, object]) -> Digest | None:
        """Today's digest, or None when there is nothing to say or one went out today."""
        digest = await self._digests().compose(learner_id)
        if digest is None or not digest.worth_sending:
            return None
        if not payload.get("snoozed") and await self._sent_on(learner_id, digest.today):
            return None
        return digest

    def _digests(self) -> DigestService:
        assert self.digests is not None
        return self.digests

    async def _enqueue(self, learner: Learner, due: datetime, *, snoozed: bool = False) -> datetime:
        await self._outbox().enqueue(
            DIGEST,
            due_at=due,
            payload={"learner_id": learner.id, "snoozed": snoozed},
            learner_id=learner.id,
        )
        return due

    async def _has_pending(self, learner_id: int, after: datetime) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.learner_id == learner_id,
                    OutboxMessage.kind == DIGEST,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.due_at > after,
                )
                .limit(1)
            )
        return found is not None

    async def _cancel_pending(self, learner_id: int) -> None:
        async with self.sessions() as session:
            ids = list(
                await session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.learner_id == learner_id,
                        OutboxMessage.kind == DIGEST,
                        OutboxMessage.status == PENDING,
                    )
                )
            )
        for row_id in ids:
            await self._outbox().cancel(row_id, reason="rescheduled")

    async def _sent_on(self, learner_id: int, day: date) -> bool:
        async with self.sessions() as session:
            learner = await session.get(Learner, learner_id)
            assert learner is not None
            zone = ZoneInfo(learner.time_zone)
            start = datetime.combine(day, time(0), tzinfo=zone)
            found = await session.scalar(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.learner_id == learner_id,
                    OutboxMessage.kind == DIGEST,
                    OutboxMessage.status == SENT,
                    OutboxMessage.sent_at >= start,
                    OutboxMessage.sent_at < start + timedelta(days=1),
                )
                .limit(1)
            )
        return found is not None
