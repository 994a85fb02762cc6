"""Onboarding, tracks and settings of a learner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.base import (
    ServiceBase,
    current_track,
    learner_or_none,
    lock_learner,
)
from bot.services.timezones import parse_zone
from bot.services.tracks import find_track
from content.model import Track
from storage.models import Enrollment, Learner

DELIVERIES = ("dm", "server")
MAX_PAUSE_DAYS = 366


class _Keep:
    """Marks a setting the caller leaves as it is (None would mean "clear it")."""


KEEP: Final = _Keep()


@dataclass(frozen=True)
class Profile:
    discord_id: int
    track: Track | None
    time_zone: str
    reminder_hour: int
    quiet_hours: tuple[int, int] | None
    delivery: str
    guild_id: int | None
    paused_until: datetime | None
    dm_unreachable: bool


class LearnerService(ServiceBase):
    def find_track(self, text: str) -> Track:
        """A track by slug or name, case-insensitive."""
        return find_track(self.course, text)

    async def profile(self, discord_id: int) -> Profile | None:
        async with self.sessions() as session:
            learner = await learner_or_none(session, discord_id)
            return None if learner is None else await self._profile(session, learner)

    async def start(
        self,
        discord_id: int,
        *,
        track: str | None = None,
        time_zone: str | None = None,
        reminder_hour: int | None = None,
        delivery: str | None = None,
        guild_id: int | None = None,
    ) -> Profile:
        """Create the learner, or change the choices given; nothing already done is lost."""
        chosen = self.find_track(track) if track is not None else None
        zone = parse_zone(time_zone).key if time_zone is not None else None
        _check_hour(reminder_hour)
        _check_delivery(delivery)
        async with self.sessions.begin() as session:
            learner = await learner_or_none(session, discord_id)
            if learner is None:
                learner = Learner(discord_id=discord_id)
                session.add(learner)
            if zone:
                learner.time_zone = zone
            if reminder_hour is not None:
                learner.reminder_hour = reminder_hour
            if delivery:
                learner.reminder_delivery = delivery
            if guild_id is not None:
                learner.reminder_guild_id = guild_id
            await session.flush()
            if chosen:
                await self._enroll(session, learner, chosen)
            return await self._profile(session, learner)

    async def set_track(self, discord_id: int, track: str) -> Profile:
        chosen = self.find_track(track)
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)
            await self._enroll(session, learner, chosen)
            return await self._profile(session, learner)

    async def update_settings(
        self,
        discord_id: int,
        *,
        time_zone: str | _Keep = KEEP,
        reminder_hour: int | _Keep = KEEP,
        quiet_hours: tuple[int, int] | _Keep | None = KEEP,
        delivery: str | _Keep = KEEP,
        pause_until: date | _Keep | None = KEEP,
    ) -> Profile:
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)
            if not isinstance(time_zone, _Keep):
                learner.time_zone = parse_zone(time_zone).key
            if not isinstance(reminder_hour, _Keep):
                _check_hour(reminder_hour)
                learner.reminder_hour = reminder_hour
            if not isinstance(quiet_hours, _Keep):
                for hour in quiet_hours or ():
                    _check_hour(hour)
                learner.quiet_start, learner.quiet_end = quiet_hours or (None, None)
            if not isinstance(delivery, _Keep):
                _check_delivery(delivery)
                learner.reminder_delivery = delivery
                if delivery == "dm":  # a learner who asks for DMs gets them tried again
                    learner.dm_unreachable = False
            if not isinstance(pause_until, _Keep):
                learner.reminders_paused_until = self._pause_end(pause_until, learner.time_zone)
            return await self._profile(session, learner)

    def _pause_end(self, until: date | None, zone: str) -> datetime | None:
        """Reminders resume at the start of `until` in the learner's zone."""
        if until is None:
            return None
        today = self.clock().astimezone(ZoneInfo(zone)).date()
        if until <= today:
            raise UserError(f"Pick a date after today ({today.isoformat()}) to pause until.")
        if until > today + timedelta(days=MAX_PAUSE_DAYS):
            raise UserError("Reminders can be paused for a year at most.")
        return datetime.combine(until, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)

    async def _enroll(self, session: AsyncSession, learner: Learner, track: Track) -> None:
        current = await session.scalar(
            select(Enrollment).where(
                Enrollment.learner_id == learner.id, Enrollment.ended_at.is_(None)
            )
        )
        if current is not None and current.track == track.slug:
            return
        if current is not None:
            current.ended_at = self.clock()
            await session.flush()  # the partial unique index allows one current enrollment
        session.add(Enrollment(learner_id=learner.id, track=track.slug, started_at=self.clock()))
        await session.flush()

    async def _profile(self, session: AsyncSession, learner: Learner) -> Profile:
        slug = await current_track(session, learner.id)
        quiet = None
        if learner.quiet_start is not None and learner.quiet_end is not None:
            quiet = (learner.quiet_start, learner.quiet_end)
        return Profile(
            discord_id=learner.discord_id,
            track=self.course.track(slug) if slug else None,
            time_zone=learner.time_zone,
            reminder_hour=learner.reminder_hour,
            quiet_hours=quiet,
            delivery=learner.reminder_delivery,
            guild_id=learner.reminder_guild_id,
            paused_until=learner.reminders_paused_until,
            dm_unreachable=learner.dm_unreachable,
        )


def _check_hour(hour: int | None) -> None:
    if hour is not None and not 0 <= hour <= 23:
        raise UserError("Hours go from 0 to 23 (your local time).")


def _check_delivery(delivery: str | None) -> None:
    if delivery is not None and delivery not in DELIVERIES:
        raise UserError("Reminders come by `dm` or in the `server`.")
