"""Who belongs to a server, and the numbers its moderators see (/server stats)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.services.moderators import Member
from bot.services.outbox import FAILED, NO_ROUTE, SENT
from bot.services.server_stats import PRIVATE_BELOW, ServerStats, week_starts
from storage.models import (
    Drill,
    DrillAnswer,
    DrillPost,
    Learner,
    LearnerServer,
    OutboxMessage,
)
from tests.services.conftest import Clock

SERVER, OTHER = 700, 800
MOD = Member(1, manage_guild=True)
LEARNERS = [101, 102, 103, 104, 105, 106]  # six in SERVER
ELSEWHERE = 201  # a learner only in OTHER


async def seat(services: Services) -> None:
    for user in LEARNERS:
        await services.learners.start(user, track="complete" if user % 2 else "security")
        assert await services.server_learners.note(user, SERVER)
    await services.learners.start(ELSEWHERE, track="performance")
    await services.server_learners.note(ELSEWHERE, OTHER)


async def learner_id(services: Services, discord_id: int) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Learner.id).where(Learner.discord_id == discord_id))
    assert found is not None
    return found


async def test_a_learner_is_noted_once_an_hour_per_server(services: Services, clock: Clock) -> None:
    notes = services.server_learners
    assert not await notes.note(999, SERVER)  # not a learner: nothing noted
    await services.learners.start(999)
    assert await notes.note(999, SERVER)  # ...until they are (not remembered before)
    assert not await notes.note(999, SERVER)  # within the hour: no write
    assert await notes.note(999, OTHER)  # another server is another note
    clock.advance(minutes=61)
    assert await notes.note(999, SERVER)
    async with services.sessions() as session:
        rows = (await session.scalars(select(LearnerServer).order_by(LearnerServer.guild_id))).all()
    assert [r.guild_id for r in rows] == [SERVER, OTHER]
    assert rows[0].last_seen - rows[0].first_seen == timedelta(minutes=61)
    # a second process, which remembers nothing, writes the same row again (an upsert)
    fresh = Services(sessions=services.sessions, courses=services.courses, clock=clock)
    assert await fresh.server_learners.note(999, SERVER)


async def test_only_moderators_see_the_dashboard(services: Services) -> None:
    with pytest.raises(UserError, match="Only moderators"):
        await services.server_stats.dashboard(SERVER, Member(5))
    stats = await services.server_stats.dashboard(SERVER, MOD)
    assert stats.learners == 0 and stats.tracks == () and stats.hardest == ()
    assert len(stats.weekly_active) == 12 and stats.drill is None


async def test_the_server_numbers_count_its_learners_only(services: Services, clock: Clock) -> None:
    await seat(services)
    quiz = services.quiz
    first, second, *_ = quiz.questions(3)
    assert first.correct == "B"
    # Part 3's first question: 4 of 6 wrong, 3 of them chose C; the second: 1 of 6 wrong
    for user, letter in zip(LEARNERS, "CCCABB", strict=True):
        await quiz.answer(user, first.id, letter)
    for user in LEARNERS:
        await quiz.answer(user, second.id, second.correct if user != 101 else "A")  # type: ignore[arg-type]
    for _ in range(5):  # the other server's learner fails it many times: never counted here
        await quiz.answer(ELSEWHERE, second.id, "A")
    # reading: all six started Part 0, four finished it; one started Part 1
    for user in LEARNERS:
        await services.reading.open(user, 0)
    for user in LEARNERS[:4]:
        await services.reading.finish(user, 0, confirmed=True)
    await services.reading.open(LEARNERS[0], 1)
    await services.reading.finish(ELSEWHERE, 5, confirmed=True)

    stats = await services.server_stats.dashboard(SERVER, MOD)
    assert stats.learners == 6 and not stats.small
    assert [(t.name, t.learners.count, t.learners.percent) for t in stats.tracks] == [
        ("Complete deep dive", 3, 50),
        ("Security", 3, 50),
    ]
    reach = {p.number: (p.started, p.finished.count, p.finished.percent) for p in stats.funnel}
    assert reach[0] == (6, 4, 67)
    assert reach[1] == (1, 0, None)  # one learner: a count, never a share
    assert reach[5] == (0, 0, None)  # the other server's learner is not here
    assert len(stats.funnel) == 21

    hardest = stats.hardest
    assert [h.question_id for h in hardest] == [first.id, second.id]
    top = hardest[0]
    assert (top.wrong.count, top.wrong.of, top.wrong.people, top.wrong.percent) == (4, 6, 6, 67)
    assert (top.top_wrong, top.top_wrong_count) == ("C", 3)
    assert (hardest[1].wrong.count, hardest[1].wrong.of) == (1, 6)  # ELSEWHERE's 5 not counted

    this_week = stats.weekly_active[-1]
    assert this_week.start == date(2026, 3, 2) and this_week.count == 6

    other = await services.server_stats.dashboard(OTHER, MOD)
    assert other.learners == 1 and other.small
    assert [(t.name, t.learners.count, t.learners.percent) for t in other.tracks] == [
        ("Performance & optimization", 1, None)
    ]
    assert [h.question_id for h in other.hardest] == [second.id]
    assert other.hardest[0].wrong.percent is None  # 5 answers, one learner: counts only
    assert {p.number: p.started for p in other.funnel if p.started} == {5: 1}


async def test_drill_and_reminders_per_server(services: Services, clock: Clock) -> None:
    await seat(services)
    today = clock.now.date()
    question = services.quiz.questions(1)[0]
    async with services.sessions.begin() as session:
        drill = Drill(
            guild_id=SERVER, channel_id=1, local_time="18:00", time_zone="UTC", created_by=1
        )
        other = Drill(
            guild_id=OTHER, channel_id=2, local_time="18:00", time_zone="UTC", created_by=1
        )
        session.add_all([drill, other])
        await session.flush()
        posted = clock.now - timedelta(days=1)
        for drill_id, back, skipped in (
            (drill.id, 1, False),
            (drill.id, 8, False),
            (drill.id, 2, True),
            (other.id, 1, False),
        ):
            post = DrillPost(
                drill_id=drill_id,
                day=today - timedelta(days=back),
                question_id=question.id,
                posted_at=None if skipped else posted,
                reveal_at=posted,
                skipped=skipped,
            )
            session.add(post)
            await session.flush()
            for user in LEARNERS[:3] if drill_id == drill.id else [ELSEWHERE, 7, 8]:
                session.add(DrillAnswer(post_id=post.id, discord_id=user, letter="A"))
        ids = {user: await learner_id(services, user) for user in [*LEARNERS, ELSEWHERE]}
        due = clock.now - timedelta(days=3)
        rows = [
            (ids[101], SENT, None),
            (ids[102], SENT, None),
            (ids[103], FAILED, NO_ROUTE),
            (ids[104], FAILED, "no digest today: nothing due"),
            (ids[ELSEWHERE], FAILED, NO_ROUTE),
        ]
        for learner, status, error in rows:
            session.add(
                OutboxMessage(
                    kind="digest",
                    learner_id=learner,
                    due_at=due,
                    payload={},
                    status=status,
                    nonce="n" * 24,
                    last_error=error,
                )
            )
        session.add(  # older than the twelve weeks: not counted
            OutboxMessage(
                kind="digest",
                learner_id=ids[101],
                due_at=due - timedelta(weeks=13),
                payload={},
                status=SENT,
                nonce="o" * 24,
            )
        )

    stats = await services.server_stats.dashboard(SERVER, MOD)
    assert stats.drill is not None and len(stats.drill) == 12
    this, last = stats.drill[-1], stats.drill[-2]
    assert stats.drill[-1].start == week_starts(today)[-1]
    # today is a Monday: yesterday's post is last week's, so is the one 8 days back
    assert (this.posts, this.answers, this.members) == (0, 0, 0)
    assert (last.posts, last.answers, last.members) == (1, 3, 3)
    assert (stats.drill[-3].posts, stats.drill[-3].answers) == (1, 3)
    reminders = stats.reminders
    assert (reminders.delivered, reminders.failed_dms_closed, reminders.learners) == (2, 1, 3)
    assert reminders.failed.percent is None  # three learners behind it
    other = await services.server_stats.dashboard(OTHER, MOD)
    assert other.drill is not None and sum(w.answers for w in other.drill) == 3
    assert (other.reminders.delivered, other.reminders.failed_dms_closed) == (0, 1)


def test_a_share_needs_enough_people() -> None:
    from bot.services.server_stats import Share

    assert Share(1, 4, PRIVATE_BELOW - 1).percent is None
    assert Share(1, 4, PRIVATE_BELOW).percent == 25
    assert Share(0, 0, 10).percent is None


async def test_a_server_with_a_few_learners_shows_counts_only(services: Services) -> None:
    for user in LEARNERS[:3]:
        await services.learners.start(user, track="complete")
        await services.server_learners.note(user, SERVER)
        await services.reading.finish(user, 0, confirmed=True)
    stats: ServerStats = await services.server_stats.dashboard(SERVER, MOD)
    assert stats.small
    assert all(t.learners.percent is None for t in stats.tracks)
    assert all(p.finished.percent is None for p in stats.funnel)


def test_the_partial_index_of_closed_dms_matches_the_outbox_reason() -> None:
    """ix_outbox_no_route holds the rows whose error starts like NO_ROUTE (told or not)."""
    from storage.models import NO_ROUTE_FAILED

    prefix = NO_ROUTE_FAILED.split("LIKE '", 1)[1].removesuffix("%'")
    assert NO_ROUTE.startswith(prefix) and f"{NO_ROUTE} (learner told)".startswith(prefix)
