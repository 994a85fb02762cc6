"""Debug This accuracy per part: what /progress shows, /practice aims at and the digest flags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer

WEAK_BELOW = 0.6  # a part answered below this accuracy is a weak spot
WEAK_MIN_ANSWERS = 3  # ...once it has this many answers: one slip is not a weak spot


@dataclass(frozen=True)
class PartScore:
    part: int
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    @property
    def weak(self) -> bool:
        return self.answered >= WEAK_MIN_ANSWERS and self.accuracy < WEAK_BELOW


async def part_scores(
    session: AsyncSession, learner_id: int, *, excluding_session: str | None = None
) -> dict[int, PartScore]:
    """The learner's Debug This answers per part; `excluding_session` leaves one quiz or
    practice session's answers out (what the scores were before it)."""
    query = (
        select(
            Answer.part,
            func.count(),
            func.sum(case((Answer.correct.is_(True), 1), else_=0)),
        )
        .where(Answer.learner_id == learner_id, Answer.kind == "quiz")
        .group_by(Answer.part)
    )
    if excluding_session is not None:
        query = query.where(or_(Answer.session.is_(None), Answer.session != excluding_session))
    return {
        int(part): PartScore(int(part), int(total), int(right or 0))
        for part, total, right in (await session.execute(query)).all()
    }


def weakest_first(scores: Iterable[PartScore]) -> list[PartScore]:
    """Lowest accuracy first; among equals, the part with more wrong answers, then the lower."""
    return sorted(scores, key=lambda s: (s.accuracy, -(s.answered - s.correct), s.part))


def weak_spots(scores: Mapping[int, PartScore], known: Iterable[int]) -> list[PartScore]:
    """The weak parts among `known` (the course's parts), weakest first."""
    wanted = set(known)
    return weakest_first(s for s in scores.values() if s.weak and s.part in wanted)
