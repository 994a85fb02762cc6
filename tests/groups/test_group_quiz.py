"""Live group quizzes on the services layer: scoring by speed, once per member, close once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.services.group_quiz import TimeUp, points_for
from storage.models import Answer, ReviewCard
from tests.groups.support import ANA, BEN, CAT, OTHER_SERVER, OWNER, SERVER, Clock

LIMIT = timedelta(seconds=30)


def test_points_fall_from_1000_to_500_over_the_limit_and_wrong_is_zero() -> None:
    assert points_for(True, timedelta(0), LIMIT) == 1000
    assert points_for(True, timedelta(seconds=15), LIMIT) == 750
    assert points_for(True, timedelta(seconds=30), LIMIT) == 500
    assert points_for(True, timedelta(seconds=31), LIMIT) == 500  # within the grace
    assert points_for(False, timedelta(seconds=1), LIMIT) == 0


async def _group_of_three(services: Services) -> int:
    group = await services.groups.create(SERVER, OWNER, "Quizzers")
    await services.groups.place(group.id, channel_id=5, thread_id=6, join_message_id=7)
    await services.groups.join(SERVER, group.id, ANA)
    await services.groups.join(SERVER, group.id, BEN)
    return group.id


async def test_three_members_at_different_speeds(
    services: Services, learners: list[int], clock: Clock
) -> None:
    group_id = await _group_of_three(services)
    live = await services.group_quizzes.start(SERVER, group_id, OWNER, part=1, count=2)
    assert (live.index, live.total, live.members, live.answered) == (0, 2, 3, 0)
    assert live.deadline == live.started_at + LIMIT
    question = live.question
    wrong = next(c.letter for c in question.choices if c.letter != question.correct)
    assert question.correct is not None

    clock.advance(seconds=3)
    fast = await services.group_quizzes.answer(SERVER, live.quiz_id, 0, ANA, question.correct)
    clock.advance(seconds=9)  # 12 s in
    slow = await services.group_quizzes.answer(SERVER, live.quiz_id, 0, BEN, question.correct)
    clock.advance(seconds=3)  # 15 s in
    bad = await services.group_quizzes.answer(SERVER, live.quiz_id, 0, OWNER, wrong)
    assert (fast.points, slow.points, bad.points) == (950, 800, 0)
    assert not fast.everyone_answered and not slow.everyone_answered
    assert bad.everyone_answered and bad.live.answered == 3

    closed = await services.group_quizzes.close(live.quiz_id, 0)
    assert closed is not None
    assert [(r.user_id, r.points) for r in closed.results] == [(ANA, 950), (BEN, 800), (OWNER, 0)]
    assert closed.following is not None and closed.following.index == 1
    assert closed.following.started_at == clock.now  # the next question's clock starts now
    assert await services.group_quizzes.close(live.quiz_id, 0) is None  # closed once

    clock.advance(seconds=1)
    second = closed.following.question
    await services.group_quizzes.answer(SERVER, live.quiz_id, 1, OWNER, str(second.correct))
    final = await services.group_quizzes.close(live.quiz_id, 1)
    assert final is not None and final.following is None
    board = [(s.user_id, s.points, s.correct) for s in final.scoreboard]
    assert board == [(OWNER, 983, 1), (ANA, 950, 1), (BEN, 800, 1)]
    silent = [r for r in final.results if r.letter is None]
    assert {r.user_id for r in silent} == {ANA, BEN}
    assert await services.group_quizzes.current(live.quiz_id) is None

    # Each member's answers count for their own spaced repetition.
    async with services.sessions() as session:
        sources = list(await session.scalars(select(Answer.source)))
        cards = list(await session.scalars(select(ReviewCard.item_id)))
    assert sources == ["group"] * 4
    assert sorted(cards) == sorted([question.id] * 3 + [second.id])


async def test_once_per_member_members_only_and_within_time(
    services: Services, learners: list[int], clock: Clock
) -> None:
    group_id = await _group_of_three(services)
    live = await services.group_quizzes.start(SERVER, group_id, ANA, part=2)
    letter = live.question.choices[0].letter
    await services.group_quizzes.answer(SERVER, live.quiz_id, 0, ANA, letter)
    with pytest.raises(UserError, match="already answered"):
        await services.group_quizzes.answer(SERVER, live.quiz_id, 0, ANA, letter)
    with pytest.raises(UserError, match="Only members"):
        await services.group_quizzes.answer(SERVER, live.quiz_id, 0, CAT, letter)
    with pytest.raises(UserError, match="not in this server"):
        await services.group_quizzes.answer(OTHER_SERVER, live.quiz_id, 0, BEN, letter)
    with pytest.raises(UserError, match="not one of"):
        await services.group_quizzes.answer(SERVER, live.quiz_id, 0, BEN, "Z")
    with pytest.raises(UserError, match="question is closed"):
        await services.group_quizzes.answer(SERVER, live.quiz_id, 1, BEN, letter)
    clock.advance(seconds=32)
    with pytest.raises(TimeUp):
        await services.group_quizzes.answer(SERVER, live.quiz_id, 0, BEN, letter)
    with pytest.raises(UserError, match="already running"):
        await services.group_quizzes.start(SERVER, group_id, OWNER, part=1)


async def test_a_quiz_needs_a_member_and_a_part_with_choices(
    services: Services, learners: list[int]
) -> None:
    group_id = await _group_of_three(services)
    with pytest.raises(UserError, match="Only members"):
        await services.group_quizzes.start(SERVER, group_id, CAT, part=1)
    live = await services.group_quizzes.start(SERVER, group_id, OWNER, part=0, count=99)
    assert live.total == 4  # every multiple-choice question of Part 0, no more


async def test_after_a_restart_resume_advance_or_end(
    services: Services, learners: list[int], clock: Clock
) -> None:
    group_id = await _group_of_three(services)
    live = await services.group_quizzes.start(SERVER, group_id, OWNER, part=1)
    (running,) = await services.group_quizzes.running()
    assert running.quiz_id == live.quiz_id
    clock.advance(seconds=20)
    assert services.group_quizzes.after_restart(running) == "resume"
    clock.advance(seconds=60)
    assert services.group_quizzes.after_restart(running) == "advance"
    clock.advance(minutes=10)
    assert services.group_quizzes.after_restart(running) == "end"
    ended = await services.group_quizzes.close(live.quiz_id, 0, end=True)
    assert ended is not None and ended.following is None
    assert await services.group_quizzes.running() == []


async def test_the_message_of_each_question_is_remembered(
    services: Services, learners: list[int]
) -> None:
    group_id = await _group_of_three(services)
    live = await services.group_quizzes.start(SERVER, group_id, OWNER, part=1)
    await services.group_quizzes.shown(live.quiz_id, 0, 4242)
    current = await services.group_quizzes.current(live.quiz_id)
    assert current is not None and current.message_id == 4242
    closed = await services.group_quizzes.close(live.quiz_id, 0)
    assert closed is not None and closed.question.message_id == 4242
    assert closed.following is not None and closed.following.message_id is None


async def test_members_answering_at_the_same_moment_all_count(
    services: Services, learners: list[int]
) -> None:
    group_id = await _group_of_three(services)
    live = await services.group_quizzes.start(SERVER, group_id, OWNER, part=1)
    letter = str(live.question.correct)
    outcomes = await asyncio.gather(
        *(
            services.group_quizzes.answer(SERVER, live.quiz_id, 0, user, letter)
            for user in (OWNER, ANA, BEN)
        )
    )
    assert [o.points for o in outcomes] == [1000, 1000, 1000]
    assert sum(o.everyone_answered for o in outcomes) == 1  # the last one in, and only it
    async with services.sessions() as session:
        assert len(list(await session.scalars(select(Answer.id)))) == 3


async def test_two_members_starting_at_once_start_one_quiz(
    services: Services, learners: list[int]
) -> None:
    group_id = await _group_of_three(services)

    async def start(user: int) -> object:
        try:
            return await services.group_quizzes.start(SERVER, group_id, user, part=0)
        except UserError as exc:
            return exc

    results = await asyncio.gather(start(OWNER), start(ANA), start(BEN))
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(refused) == 2 and all("already running" in str(r) for r in refused)
    assert len(await services.group_quizzes.running()) == 1
