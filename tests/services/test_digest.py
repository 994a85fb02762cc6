"""What the daily digest says, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.services import Services
from bot.services.digest import DigestService
from storage.models import Learner
from tests.services.conftest import Clock

ME = 99


@pytest.fixture
def digests(services: Services) -> DigestService:
    shared = (services.sessions, services.courses, services.clock, services.fsrs_scheduler)
    return DigestService(*shared)


async def learner_id(services: Services) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Learner.id).where(Learner.discord_id == ME))
    assert found is not None
    return found


async def test_a_new_learner_is_behind_pace_and_told_what_is_next(
    services: Services, digests: DigestService
) -> None:
    await services.learners.start(ME, track="security")
    digest = await digests.compose(await learner_id(services))
    assert digest is not None
    assert digest.due_cards == 0 and digest.revisit == ()
    assert digest.next_part is not None and digest.next_part.number == 0
    assert digest.behind_pace and digest.worth_sending


async def test_review_schedule_days_and_due_cards(
    services: Services, digests: DigestService, clock: Clock
) -> None:
    await services.learners.start(ME, track="security", time_zone="Asia/Tokyo")
    await services.reading.open(ME, 1)
    await services.reading.finish(ME, 1, confirmed=True)
    question = services.quiz.questions(1)[0]
    assert question.correct is not None
    wrong = next(c.letter for c in question.choices if c.letter != question.correct)
    await services.quiz.answer(ME, question.id, wrong)
    offsets = services.courses.course.parts[1].review_offsets
    clock.advance(days=offsets[0])
    digest = await digests.compose(await learner_id(services))
    assert digest is not None
    assert [(info.number, step.day) for info, step in digest.revisit] == [(1, offsets[0])]
    assert digest.due_cards == 1
    clock.advance(days=1)
    later = await digests.compose(await learner_id(services))
    assert later is not None and later.revisit == ()


async def test_pace_counts_this_local_week(
    services: Services, digests: DigestService, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday
    await services.learners.start(ME, track="complete")
    for part in (0, 1):
        await services.reading.finish(ME, part, confirmed=True)
    digest = await digests.compose(await learner_id(services))
    assert digest is not None and digest.done_this_week == 2
    assert not digest.behind_pace
    clock.now = datetime(2026, 3, 9, 12, tzinfo=UTC)  # next Monday
    monday = await digests.compose(await learner_id(services))
    assert monday is not None and monday.done_this_week == 0 and monday.behind_pace


async def test_monthly_quick_reference_review(
    services: Services, digests: DigestService, clock: Clock
) -> None:
    await services.learners.start(ME, track="complete")
    await services.reading.finish(ME, 0, confirmed=True)
    clock.advance(days=30)
    digest = await digests.compose(await learner_id(services))
    assert digest is not None
    assert [info.number for info in digest.monthly_quickrefs] == [0]
    clock.advance(days=1)
    assert (await digests.compose(await learner_id(services))).monthly_quickrefs == ()  # type: ignore[union-attr]


async def test_a_deleted_learner_has_no_digest(digests: DigestService) -> None:
    assert await digests.compose(12345) is None


async def test_a_part_below_60_percent_is_suggested_for_practice(
    services: Services, digests: DigestService
) -> None:
    await services.learners.start(ME, track="complete")
    for part in (0, 1, 2, 3):  # on pace: finished this week, so only the weak spot speaks
        await services.reading.finish(ME, part, confirmed=True)
    quiz = services.quiz
    for question in quiz.questions(3):  # 1 of 3 right: 33%
        wrong = next(c.letter for c in question.choices if c.letter != question.correct)
        first = question is quiz.questions(3)[0]
        await quiz.answer(ME, question.id, question.correct if first else wrong)  # type: ignore[arg-type]
    for question in quiz.questions(2)[:2]:  # 0 of 2: too few answers to judge
        wrong = next(c.letter for c in question.choices if c.letter != question.correct)
        await quiz.answer(ME, question.id, wrong)
    for question in quiz.questions(1):  # 3 of 3
        await quiz.answer(ME, question.id, question.correct)  # type: ignore[arg-type]
    digest = await digests.compose(await learner_id(services))
    assert digest is not None
    assert [(info.number, round(accuracy, 2)) for info, accuracy in digest.weak_parts] == [
        (3, 0.33)
    ]
    assert digest.due_cards == 0 and not digest.behind_pace
    assert digest.worth_sending  # the weak spot alone is worth the day's one digest
