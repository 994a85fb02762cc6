"""Spaced repetition with FSRS on a real database."""

from __future__ import annotations

from datetime import timedelta

import fsrs
import pytest
from sqlalchemy import select

from bot.services import Services
from storage.models import ReviewCard
from tests.services.conftest import Clock

ME = 777


@pytest.fixture
def steady(services: Services) -> Services:
    """No fuzzing: intervals are exact, so tests can compare them."""
    return Services(
        sessions=services.sessions,
        courses=services.courses,
        clock=services.clock,
        fsrs_scheduler=fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False),
    )


async def cards(services: Services) -> dict[str, ReviewCard]:
    async with services.sessions() as session:
        return {c.item_id: c for c in await session.scalars(select(ReviewCard))}


async def test_right_answers_come_back_later_than_wrong_ones(
    steady: Services, clock: Clock
) -> None:
    await steady.learners.start(ME, track="complete")
    first, second = steady.quiz.questions(1)[:2]
    wrong = next(c.letter for c in second.choices if c.letter != second.correct)
    assert first.correct is not None
    await steady.quiz.answer(ME, first.id, first.correct)
    await steady.quiz.answer(ME, second.id, wrong)
    stored = await cards(steady)
    right_card, wrong_card = stored[first.id], stored[second.id]
    assert right_card.due > wrong_card.due > clock.now
    assert right_card.due - clock.now >= timedelta(days=1)
    assert (right_card.reviews, right_card.lapses) == (1, 0)
    assert (wrong_card.reviews, wrong_card.lapses) == (1, 1)
    assert right_card.state == int(fsrs.State.Review)


async def test_due_cards_most_overdue_first_and_a_summary(steady: Services, clock: Clock) -> None:
    await steady.learners.start(ME, track="complete")
    questions = steady.quiz.questions(2)[:3]
    for question in questions:
        assert question.correct is not None
        await steady.quiz.answer(ME, question.id, question.correct)
        clock.advance(hours=1)
    assert await steady.review.due(ME) == []
    clock.advance(days=60)
    due = await steady.review.due(ME)
    assert [d.item_id for d in due] == [q.id for q in questions]  # answered first, due first

    started = clock.now
    first = questions[0]
    assert first.correct is not None
    await steady.quiz.answer(ME, first.id, first.correct, source="review")
    wrong = next(c.letter for c in questions[1].choices if c.letter != questions[1].correct)
    await steady.quiz.answer(ME, questions[1].id, wrong, source="review")
    summary = await steady.review.summary(ME, since=started)
    assert (summary.reviewed, summary.correct) == (2, 1)
    assert summary.next_due is not None and summary.next_due <= clock.now
    remaining = await steady.review.due(ME)
    assert remaining[0].item_id == questions[2].id


async def test_interview_ratings_and_quickrefs_become_cards(steady: Services, clock: Clock) -> None:
    await steady.learners.start(ME, track="complete")
    hard, easy = steady.quiz.interview_cards(3)[:2]
    await steady.quiz.rate_card(ME, hard.id, 1)
    await steady.quiz.rate_card(ME, easy.id, 4)
    quickref = steady.quiz.quickref(3)
    await steady.review.meet_quickref(ME, quickref.id, 3)
    await steady.review.meet_quickref(ME, quickref.id, 3)  # meeting twice changes nothing
    stored = await cards(steady)
    assert stored[easy.id].due > stored[hard.id].due
    assert stored[quickref.id].due == clock.now + timedelta(days=1)
    assert stored[quickref.id].reviews == 0


async def test_cards_for_items_removed_from_the_course_are_skipped(
    steady: Services, clock: Clock
) -> None:
    await steady.learners.start(ME, track="complete")
    question = steady.quiz.questions(1)[0]
    assert question.correct is not None
    await steady.quiz.answer(ME, question.id, question.correct)
    async with steady.sessions.begin() as session:
        row = await session.get(ReviewCard, (1, question.id))
        assert row is not None
        session.add(
            ReviewCard(
                learner_id=row.learner_id,
                item_id="p01-gone",
                part=1,
                kind="quiz",
                state=2,
                due=clock.now - timedelta(days=1),
            )
        )
    clock.advance(days=365)
    assert [d.item_id for d in await steady.review.due(ME)] == [question.id]


async def test_quickref_for_someone_who_never_started_is_no_card(steady: Services) -> None:
    await steady.review.meet_quickref(ME, steady.quiz.quickref(1).id, 1)
    assert await cards(steady) == {}
