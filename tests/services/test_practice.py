"""/practice on the services layer: aimed at the weakest parts, each item once, a summary."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.services.practice import (
    SESSION_SIZE,
    SOURCE,
    PracticeItem,
    PracticeSummary,
    new_session,
    session_part,
)
from bot.services.quiz import AlreadyAnswered
from content.model import Question
from storage.models import Answer
from tests.services.conftest import Clock

ME = 5151


def wrong_letter(question: Question) -> str:
    return next(c.letter for c in question.choices if c.letter != question.correct)


async def fail_part_3_and_ace_part_2(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    for question in services.quiz.questions(3):
        await services.quiz.answer(ME, question.id, wrong_letter(question))
    for question in services.quiz.questions(2):
        assert question.correct is not None
        await services.quiz.answer(ME, question.id, question.correct)


async def run_session(
    services: Services, session: str, *, right: bool = True
) -> tuple[list[PracticeItem], PracticeSummary]:
    """Answer every item the session offers (right or wrong) until its summary."""
    items: list[PracticeItem] = []
    index = services.practice.items()
    while True:
        step = await services.practice.step(ME, session)
        if isinstance(step, PracticeSummary):
            return items, step
        items.append(step)
        assert len(items) <= SESSION_SIZE
        question = index.questions.get(step.item_id)
        if question is None:
            await services.quiz.rate_card(ME, step.item_id, 3 if right else 1, session=session)
        elif question.correct is None:
            await services.quiz.self_grade(ME, step.item_id, right, session=session)
        else:
            letter = question.correct if right else wrong_letter(question)
            await services.quiz.answer(ME, step.item_id, letter, source=SOURCE, session=session)


async def test_practice_picks_the_part_failed_not_the_part_aced(services: Services) -> None:
    await fail_part_3_and_ace_part_2(services)
    session = new_session()
    first = await services.practice.step(ME, session)
    assert isinstance(first, PracticeItem)
    assert (first.part, first.kind, first.due, first.position) == (3, "quiz", False, 1)
    assert first.accuracy == 0.0
    items, summary = await run_session(services, session)
    part_3 = {q.id for q in services.quiz.questions(3)}
    assert [item.part for item in items] == [3, 3, 3]
    assert {item.item_id for item in items} == part_3  # each once, none of Part 2
    assert [item.position for item in items] == [1, 2, 3]
    assert {item.size for item in items} == {3}
    assert (summary.answered, summary.right) == (3, 3)
    assert summary.line == "Practice done: 3 of 3 right. Improved: Part 3 0% → 50%."
    # the answers are stored as practice, under the session
    async with services.sessions() as db:
        sources = set(await db.scalars(select(Answer.source).where(Answer.session == session)))
    assert sources == {SOURCE}


async def test_due_cards_and_weak_questions_take_turns_and_never_repeat(
    services: Services, clock: Clock
) -> None:
    await fail_part_3_and_ace_part_2(services)
    card = services.quiz.interview_cards(2)[0]
    await services.quiz.rate_card(ME, card.id, 1)
    clock.advance(days=60)  # every card is due now
    session = new_session()
    items, summary = await run_session(services, session, right=False)
    ids = [item.item_id for item in items]
    # 3 questions of Part 3 (weak, and due), 3 of Part 2 and a card (due): each once
    assert len(ids) == len(set(ids)) == 7 == summary.answered
    assert [item.due for item in items[:4]] == [False, True, False, True]
    assert all(item.part == 3 for item in items if not item.due)
    assert card.id in ids  # the interview card came back among the due ones
    assert summary.right == 0
    assert "No part's accuracy rose" in summary.line


async def test_a_part_asked_for_is_the_only_one_practised(services: Services) -> None:
    await fail_part_3_and_ace_part_2(services)
    session = new_session(5)
    assert session_part(session) == 5
    items, summary = await run_session(services, session)
    assert {item.part for item in items} == {5}
    assert {item.accuracy for item in items} == {None}
    assert summary.line.endswith("Improved: Part 5 first scored 100%.")


async def test_nothing_to_practise_and_bad_sessions_are_explained(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    with pytest.raises(UserError, match="Nothing to practise yet"):
        await services.practice.step(ME, new_session())
    with pytest.raises(UserError, match="not one I know"):
        await services.practice.step(ME, "l3f9a0c1d")
    with pytest.raises(UserError, match=r"no part '99'"):
        services.practice.check_part(99)


async def test_an_item_answers_once_per_session(services: Services) -> None:
    await fail_part_3_and_ace_part_2(services)
    session = new_session()
    step = await services.practice.step(ME, session)
    assert isinstance(step, PracticeItem)
    question = services.quiz.question(step.item_id)
    assert question.correct is not None
    await services.quiz.answer(ME, step.item_id, question.correct, session=session)
    with pytest.raises(AlreadyAnswered):
        await services.quiz.answer(ME, step.item_id, wrong_letter(question), session=session)
    following = await services.practice.step(ME, session)
    assert isinstance(following, PracticeItem) and following.item_id != step.item_id
