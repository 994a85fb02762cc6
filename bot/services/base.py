"""What every service shares: a session factory, the course, and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.errors import NotStarted, UnknownPart, UnwrittenPart
from content.model import Course, Part
from content.store import CourseStore
from storage.models import Enrollment, Learner


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceBase:
    sessions: async_sessionmaker[AsyncSession]
    courses: CourseStore
    clock: Callable[[], datetime] = utc_now

    @property
    def course(self) -> Course:
        return self.courses.course

    def find_part(self, text: str) -> int:
        """A part from what a learner typed: "5", "Part 5", "5 · Dockerfile...", or a title."""
        cleaned = text.strip().lower().removeprefix("part").strip()
        digits = cleaned.split(" ", 1)[0].split("·", 1)[0].strip()
        if digits.isdecimal() and int(digits) in self.course.parts:
            return int(digits)
        for number, part in self.course.parts.items():
            if cleaned and cleaned == part.info.title.lower():
                return number
        raise UnknownPart(text.strip()[:40], max(self.course.parts))

    def part(self, number: int, *, written: bool = True) -> Part:
        part = self.course.parts.get(number)
        if part is None:
            raise UnknownPart(str(number), max(self.course.parts))
        if written and not part.written:
            raise UnwrittenPart(number, part.info.title)
        return part


async def learner_or_none(session: AsyncSession, discord_id: int) -> Learner | None:
    return await session.scalar(select(Learner).where(Learner.discord_id == discord_id))


async def require_learner(session: AsyncSession, discord_id: int) -> Learner:
    learner = await learner_or_none(session, discord_id)
    if learner is None:
        raise NotStarted()
    return learner


async def current_track(session: AsyncSession, learner_id: int) -> str | None:
    return await session.scalar(
        select(Enrollment.track).where(
            Enrollment.learner_id == learner_id, Enrollment.ended_at.is_(None)
        )
    )
