"""Spaced repetition with FSRS: every question and card a learner has met, due when it should be.

A right answer rates Good and a wrong one Again (the binary mapping loses little accuracy);
self-rated cards use the learner's own rating (see base.make_fsrs_scheduler for the settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import fsrs
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import ServiceBase, learner_or_none, require_learner
from storage.models import Answer, Learner, ReviewCard

FIRST_QUICKREF_REVIEW = timedelta(days=1)
REVIEW_SESSION_SIZE = 20


def _to_fsrs(row: ReviewCard) -> fsrs.Card:
    return fsrs.Card(
        state=fsrs.State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
    )


def _store(row: ReviewCard, card: fsrs.Card) -> None:
    row.state, row.step = int(card.state), card.step
    row.stability, row.difficulty = card.stability, card.difficulty
    row.due, row.last_review = card.due, card.last_review


async def review_item(
    session: AsyncSession,
    scheduler: fsrs.Scheduler,
    learner: Learner,
    *,
    item_id: str,
    part: int,
    kind: str,
    rating: int,
    now: datetime,
) -> ReviewCard:
    """Apply one rating (1 Again .. 4 Easy) to the learner's card, creating it on first meeting."""
    row = await session.get(ReviewCard, (learner.id, item_id))
    if row is None:
        row = ReviewCard(
            learner_id=learner.id,
            item_id=item_id,
            part=part,
            kind=kind,
            state=int(fsrs.State.Learning),
            due=now,
        )
        session.add(row)
    card, _log = scheduler.review_card(_to_fsrs(row), fsrs.Rating(rating), review_datetime=now)
    _store(row, card)
    row.reviews = (row.reviews or 0) + 1
    if rating == int(fsrs.Rating.Again):
        row.lapses = (row.lapses or 0) + 1
    return row


@dataclass(frozen=True)
class DueItem:
    item_id: str
    part: int
    kind: str
    due: datetime


@dataclass(frozen=True)
class SessionSummary:
    reviewed: int
    correct: int
    next_due: datetime | None


class ReviewService(ServiceBase):
    async def meet_quickref(self, discord_id: int, card_id: str, part: int) -> None:
        """A Quick Reference a learner opened becomes a card, first due a day later.
        (Anyone may look at a Quick Reference; only learners get cards.)"""
        async with self.sessions.begin() as session:
            learner = await learner_or_none(session, discord_id)
            if learner is not None and await session.get(ReviewCard, (learner.id, card_id)) is None:
                session.add(
                    ReviewCard(
                        learner_id=learner.id,
                        item_id=card_id,
                        part=part,
                        kind="quickref",
                        state=int(fsrs.State.Learning),
                        due=self.clock() + FIRST_QUICKREF_REVIEW,
                    )
                )

    async def due(self, discord_id: int, limit: int = REVIEW_SESSION_SIZE) -> list[DueItem]:
        """The learner's due cards, most overdue first, that the course still has."""
        known = self.items()
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            rows = await session.scalars(
                select(ReviewCard)
                .where(ReviewCard.learner_id == learner.id, ReviewCard.due <= self.clock())
                .order_by(ReviewCard.due, ReviewCard.item_id)
                .limit(limit * 2)
            )
            items = [DueItem(r.item_id, r.part, r.kind, r.due) for r in rows if r.item_id in known]
        return items[:limit]

    async def due_count(self, learner_id: int, now: datetime) -> int:
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count()).where(
                    ReviewCard.learner_id == learner_id, ReviewCard.due <= now
                )
            )
        return int(count or 0)

    async def summary(self, discord_id: int, since: datetime) -> SessionSummary:
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            reviewed, correct = (
                await session.execute(
                    select(func.count(), func.count().filter(Answer.correct.is_(True))).where(
                        Answer.learner_id == learner.id,
                        Answer.source == "review",
                        Answer.answered_at >= since,
                    )
                )
            ).one()
            next_due = await session.scalar(
                select(func.min(ReviewCard.due)).where(ReviewCard.learner_id == learner.id)
            )
        return SessionSummary(int(reviewed), int(correct), next_due)

    def _known_items(self) -> set[str]:
        course = self.course
        questions = {q.id for part in course.parts.values() for q in part.questions}
        return questions | {card.id for part in course.parts.values() for card in part.cards}
