"""What every service shares: a session factory, the course, and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fsrs
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.errors import NotStarted, UnknownPart, UnwrittenPart
from content.model import Card, Course, Part, Question
from content.store import CourseStore
from storage.models import Enrollment, Learner


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_fsrs_scheduler(*, fuzz: bool = True) -> fsrs.Scheduler:
    """FSRS without learning steps: the tutor sees learners once a day, so minute-level steps
    would only make cards due before the learner is back."""
    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=fuzz)


class ItemIndex:
    """Questions and cards by id, for one version of the course."""

    def __init__(self, course: Course) -> None:
        self.questions: dict[str, Question] = {}
        self.cards: dict[str, Card] = {}
        for part in course.parts.values():
            self.questions.update((q.id, q) for q in part.questions)
            self.cards.update((c.id, c) for c in part.cards)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.questions or item_id in self.cards


@dataclass
class ServiceBase:
    sessions: async_sessionmaker[AsyncSession]
    courses: CourseStore
    clock: Callable[[], datetime] = utc_now
    fsrs_scheduler: fsrs.Scheduler = field(default_factory=make_fsrs_scheduler)
    _items: tuple[int, ItemIndex] | None = field(default=None, init=False, repr=False)

    def items(self) -> ItemIndex:
        """The index of the course in use, rebuilt once after each reload."""
        generation = self.courses.generation
        if self._items is None or self._items[0] != generation:
            self._items = (generation, ItemIndex(self.course))
        return self._items[1]

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


async def lock_learner(session: AsyncSession, discord_id: int) -> Learner:
    """The learner, with this transaction made a writer first (an UPDATE that changes nothing):
    two interactions of one learner then queue instead of failing (see services.contention)."""
    await session.execute(
        update(Learner)
        .where(Learner.discord_id == discord_id)
        .values(updated_at=Learner.updated_at)
        .execution_options(synchronize_session=False)
    )
    return await require_learner(session, discord_id)


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
