"""Which Debug This question a server's daily drill asks next.

The pool is every multiple-choice question of the written parts. A drill goes through the
pool without repeating a question until every one has been asked (or set aside with
`/drill skip`); then a new round begins. Within a round it prefers the parts the server's
learners are on: the part each of them touched last, counted per part. Ties go in course
order, so a new server starts at the beginning like its learners do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from content.model import Course, Question
from storage.models import (
    DrillAnswer,
    DrillPost,
    GroupMember,
    Learner,
    ReadingProgress,
    StudyGroup,
)


def drill_pool(course: Course) -> list[Question]:
    return [
        question
        for part in course.parts.values()
        if part.written
        for question in part.questions
        if question.choices and question.correct
    ]


def remaining(pool: Sequence[Question], history: Iterable[str]) -> list[Question]:
    """The pool's questions not asked yet in the current round (`history`: oldest first)."""
    ids = {q.id for q in pool}
    seen: set[str] = set()
    for question_id in history:
        if question_id in ids:
            seen.add(question_id)
            if seen == ids:
                seen = set()  # a round is complete; the next one starts empty
    return [q for q in pool if q.id not in seen]


def pick(candidates: Sequence[Question], learners_on: Counter[int]) -> Question:
    """The candidate from the part most learners are on; course order breaks ties."""
    best = max(range(len(candidates)), key=lambda i: (learners_on[candidates[i].part], -i))
    return candidates[best]


async def history(session: AsyncSession, drill_id: int) -> list[str]:
    rows = await session.scalars(
        select(DrillPost.question_id)
        .where(DrillPost.drill_id == drill_id)
        .order_by(DrillPost.day, DrillPost.id)
    )
    return list(rows)


async def learners_on(session: AsyncSession, guild_id: int, drill_id: int) -> Counter[int]:
    """Parts the server's learners are on: members of its groups, those who answered its
    drill, and those who get their reminders there."""
    in_groups = (
        select(GroupMember.discord_id)
        .join(StudyGroup, StudyGroup.id == GroupMember.group_id)
        .where(StudyGroup.guild_id == guild_id, StudyGroup.disbanded_at.is_(None))
    )
    answered = (
        select(DrillAnswer.discord_id)
        .join(DrillPost, DrillPost.id == DrillAnswer.post_id)
        .where(DrillPost.drill_id == drill_id)
    )
    rows = await session.execute(
        select(ReadingProgress.learner_id, ReadingProgress.part, ReadingProgress.updated_at)
        .join(Learner, Learner.id == ReadingProgress.learner_id)
        .where(
            or_(
                Learner.discord_id.in_(in_groups),
                Learner.discord_id.in_(answered),
                Learner.reminder_guild_id == guild_id,
            )
        )
    )
    latest: dict[int, tuple[object, int]] = {}
    for learner_id, part, updated_at in rows:
        # (type: ignore on the next line) both are datetimes here
        if learner_id not in latest or updated_at > latest[learner_id][0]:  # type: ignore[operator]
            latest[learner_id] = (updated_at, int(part))
    return Counter(part for _when, part in latest.values())
