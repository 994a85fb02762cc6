"""The learner's journey on the services layer, on a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import UserError
from bot.services import Services
from bot.services.errors import NotStarted, UnknownPart, UnknownTrack
from bot.services.learners import KEEP
from bot.services.quiz import AlreadyAnswered
from bot.services.reading import UnfinishedPart
from content.store import CourseStore
from tests.services.conftest import Clock

ME = 4242


async def test_nothing_works_before_start_and_says_so(services: Services) -> None:
    with pytest.raises(NotStarted, match="/start"):
        await services.reading.open(ME)
    assert await services.learners.profile(ME) is None


async def test_start_then_start_again_keeps_choices(services: Services) -> None:
    first = await services.learners.start(ME, track="security", time_zone="europe/berlin")
    assert first.track is not None and first.track.slug == "security"
    assert first.time_zone == "Europe/Berlin"
    again = await services.learners.start(ME, reminder_hour=7)
    assert again.track == first.track and again.time_zone == "Europe/Berlin"
    assert again.reminder_hour == 7


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/" + "x" * 100, "../etc"])
async def test_unknown_time_zones_are_refused_clearly(services: Services, zone: str) -> None:
    with pytest.raises(UserError, match="time zone"):
        await services.learners.start(ME, time_zone=zone)


async def test_unknown_track_lists_the_real_ones(services: Services) -> None:
    with pytest.raises(UnknownTrack, match="performance, security, production, complete"):
        await services.learners.start(ME, track="fastest")


async def test_changing_track_keeps_reading(services: Services) -> None:
    await services.learners.start(ME, track="performance")
    await services.reading.open(ME, 1)
    page = await services.reading.turn(ME, 1, 3)
    profile = await services.learners.set_track(ME, "Security")
    assert profile.track is not None and profile.track.slug == "security"
    again = await services.reading.open(ME, 1)
    assert again.position == page.position == 3
    report = await services.progress.report(ME)
    assert [p.info.number for p in report.parts] == [0, 1, 7, 8, 12]


async def test_reading_resumes_and_stops_at_both_ends(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    page = await services.reading.open(ME)
    assert page.part.number == 0 and page.position == 0 and page.at_start
    back = await services.reading.turn(ME, 0, -1)
    assert back.position == 0
    end = await services.reading.turn(ME, 0, 10_000)
    assert end.at_end and end.position == end.total - 1
    resumed = await services.reading.open(ME)
    assert resumed.position == end.position


async def test_jump_to_a_section(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    page = await services.reading.jump(ME, 1, "Deep Dive")
    assert page.chunk.section == "Deep Dive"
    assert dict(page.sections)["Deep Dive"] == page.position
    with pytest.raises(UserError, match="no section"):
        await services.reading.jump(ME, 1, "Nope")


async def test_unknown_parts_and_unwritten_parts_of_a_draft(
    services: Services, sessions: async_sessionmaker[AsyncSession], draft_course: Path
) -> None:
    await services.learners.start(ME, track="complete")
    with pytest.raises(UnknownPart, match="parts 0 to 20"):
        await services.reading.open(ME, 42)
    assert services.reading.course.parts[20].written  # the shipped course is whole
    draft = Services(sessions=sessions, courses=CourseStore(draft_course))
    with pytest.raises(UserError, match="Part 20 · Cheatsheet and decision guide is coming soon"):
        await draft.reading.open(ME, 20)


async def test_finishing_suggests_quiz_and_next_part(services: Services) -> None:
    await services.learners.start(ME, track="security")
    await services.reading.open(ME, 1)
    finished = await services.reading.finish(ME, 1, confirmed=True)
    assert finished.questions >= 3
    assert finished.next_part is not None and finished.next_part.number == 7
    report = await services.progress.report(ME)
    assert report.parts_done == 1
    assert report.next_up is not None and report.next_up.number == 0


async def test_done_before_the_last_chunk_asks_first_and_counts_what_was_read(
    services: Services,
) -> None:
    await services.learners.start(ME, track="complete")
    page = await services.reading.open(ME, 3)
    with pytest.raises(UnfinishedPart, match=f"read 1 of {page.total} chunks") as asked:
        await services.reading.finish(ME, 3)
    assert (asked.value.read, asked.value.total) == (1, page.total)
    assert (await services.progress.report(ME)).parts_done == 0  # nothing was marked
    await services.reading.finish(ME, 3, confirmed=True)
    await services.reading.finish(ME, 3)  # done already: nothing to ask
    report = await services.progress.report(ME)
    (part3,) = [p for p in report.parts if p.info.number == 3]
    assert part3.done and part3.read_fraction == 1 / page.total  # not the part's full time
    assert report.hours_read == round(part3.info.minutes / page.total / 60, 1)
    resumed = await services.reading.open(ME, 3)
    assert resumed.position == 0 and resumed.completed  # still where they stopped


async def test_what_was_read_counts_up_to_the_furthest_chunk(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    first = await services.reading.open(ME, 2)
    for _ in range(4):
        await services.reading.turn(ME, 2, 1)
    await services.reading.jump(ME, 2, first.chunk.section)  # back to the start
    report = await services.progress.report(ME)
    (part2,) = [p for p in report.parts if p.info.number == 2]
    assert part2.read_fraction == 5 / first.total  # going back does not unread

    for _ in range(first.total):
        page = await services.reading.turn(ME, 2, 1)
    assert page.at_end
    await services.reading.jump(ME, 2, first.chunk.section)
    finished = await services.reading.finish(ME, 2)  # the last chunk was reached: no question
    assert finished.part.number == 2
    report = await services.progress.report(ME)
    (part2,) = [p for p in report.parts if p.info.number == 2]
    assert part2.done and part2.read_fraction == 1.0


async def test_quiz_answers_are_stored_and_graded(services: Services, clock: Clock) -> None:
    await services.learners.start(ME, track="complete")
    await services.reading.open(ME, 1)
    assert await services.quiz.default_part(ME) == 1
    first, second = services.quiz.questions(1)[:2]
    assert first.correct is not None
    wrong = next(c.letter for c in first.choices if c.letter != first.correct)
    right = await services.quiz.answer(ME, first.id, first.correct)
    assert right.correct and right.next_id == second.id
    assert not (await services.quiz.answer(ME, first.id, wrong)).correct
    with pytest.raises(UserError, match="not one of"):
        await services.quiz.answer(ME, first.id, "Z")
    report = await services.progress.report(ME)
    part1 = next(p for p in report.parts if p.info.number == 1)
    assert (part1.answered, part1.correct) == (2, 1)
    assert report.quiz_accuracy == 0.5


async def test_interview_cards_and_ratings(services: Services) -> None:
    await services.learners.start(ME)
    cards = services.quiz.interview_cards(1)
    following = await services.quiz.rate_card(ME, cards[0].id, 3)
    assert following == cards[1]
    assert await services.quiz.rate_card(ME, cards[-1].id, 1) is None
    with pytest.raises(UserError):
        await services.quiz.rate_card(ME, cards[0].id, 9)
    assert services.quiz.quickref(1).kind == "quickref"


async def test_streak_counts_days_in_the_learners_zone(services: Services, clock: Clock) -> None:
    # 23:30 in Tokyo on 2 March is 14:30 UTC; the next event, 01:00 UTC on 3 March, is 10:00
    # in Tokyo on 3 March: two different local days although UTC also changed days once.
    await services.learners.start(ME, track="complete", time_zone="Asia/Tokyo")
    clock.now = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    await services.reading.open(ME)
    clock.now = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    await services.reading.turn(ME, 0, 1)
    report = await services.progress.report(ME)
    assert report.today == date(2026, 3, 3)
    assert set(report.activity) == {date(2026, 3, 2), date(2026, 3, 3)}
    assert (report.current_streak, report.best_streak) == (2, 2)


async def test_settings_quiet_hours_and_pause(services: Services, clock: Clock) -> None:
    await services.learners.start(ME, time_zone="America/New_York")
    profile = await services.learners.update_settings(
        ME, quiet_hours=(22, 7), pause_until=date(2026, 3, 10), delivery="server"
    )
    assert profile.quiet_hours == (22, 7)
    assert profile.delivery == "server"
    # Reminders resume at midnight New York time: UTC-4, as DST began on 8 March 2026.
    assert profile.paused_until == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    assert profile.paused_until.tzinfo is UTC
    cleared = await services.learners.update_settings(ME, quiet_hours=None, pause_until=None)
    assert cleared.quiet_hours is None and cleared.paused_until is None
    assert cleared.delivery == "server"
    with pytest.raises(UserError, match="after today"):
        await services.learners.update_settings(ME, pause_until=date(2026, 3, 1))
    with pytest.raises(UserError, match="0 to 23"):
        await services.learners.update_settings(ME, reminder_hour=24, time_zone=KEEP)


async def test_reading_debug_this_hides_the_answers(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    page = await services.reading.jump(ME, 1, "Debug This")
    questions = services.quiz.questions(1)
    seen = []
    while page.chunk.section == "Debug This":
        seen.append(page.chunk.text)
        page = await services.reading.turn(ME, 1, 1)
    assert len(seen) == len(questions)
    for text, question in zip(seen, questions, strict=True):
        assert question.prompt in text and "/quiz 1" in text
        assert question.explanation not in text
        assert "**Answer:**" not in text


async def test_simultaneous_answers_of_one_learner_all_count(services: Services) -> None:
    """Presses that arrive together queue for the write lock instead of failing as "locked"."""
    await services.learners.start(ME, track="complete")
    questions = services.quiz.questions(1) + services.quiz.questions(2)
    await asyncio.gather(
        *(services.quiz.answer(ME, q.id, q.choices[0].letter) for q in questions),
        services.reading.turn(ME, 1, 1),
        services.reading.turn(ME, 2, 1),
    )
    report = await services.progress.report(ME)
    assert sum(p.answered for p in report.parts) == len(questions)


async def test_a_question_takes_one_answer_per_session(services: Services) -> None:
    """Two presses 10 ms apart (a double click, a stale message): the first answer counts."""
    await services.learners.start(ME, track="complete")
    question = next(q for q in services.quiz.questions(1) if q.correct is not None)
    wrong = next(c.letter for c in question.choices if c.letter != question.correct)

    async def press(letter: str, delay: float) -> object:
        await asyncio.sleep(delay)
        try:
            return await services.quiz.answer(ME, question.id, letter, session="la1b2c3d4")
        except AlreadyAnswered as exc:
            return exc

    first, second = await asyncio.gather(press(wrong, 0), press(question.correct, 0.01))
    assert not first.correct  # type: ignore[attr-defined]
    assert isinstance(second, AlreadyAnswered) and second.choice == wrong
    assert f"you chose **{wrong}**" in str(second)
    report = await services.progress.report(ME)
    assert sum(p.answered for p in report.parts) == 1  # nothing of the second press stored
    due = await services.review.due(ME)
    assert [d.item_id for d in due].count(question.id) <= 1

    # another session (the quiz taken again) takes a new answer; so does an unlimited press
    assert (await services.quiz.answer(ME, question.id, question.correct, session="l0")).correct
    await services.quiz.answer(ME, question.id, wrong)


async def test_self_grades_and_ratings_take_one_answer_per_session(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    card = services.quiz.interview_cards(1)[0]
    await services.quiz.rate_card(ME, card.id, 1, session="r1700000000")
    with pytest.raises(AlreadyAnswered, match="you chose \\*\\*Again\\*\\*"):
        await services.quiz.rate_card(ME, card.id, 4, session="r1700000000")
    reveal = next(
        (q for n in (1, 2, 3, 4) for q in services.quiz.questions(n) if q.correct is None), None
    )
    if reveal is not None:
        await services.quiz.self_grade(ME, reveal.id, True, session="l42")
        with pytest.raises(AlreadyAnswered, match="you chose \\*\\*had\\*\\*"):
            await services.quiz.self_grade(ME, reveal.id, False, session="l42")
    choice = next(q for q in services.quiz.questions(1) if q.correct is not None)
    with pytest.raises(UserError, match="answer it with a letter"):
        await services.quiz.self_grade(ME, choice.id, True)
