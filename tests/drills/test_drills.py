"""The daily drill on the services layer: schedule, one post a day, answers, reveal, streaks."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.services.drill_rotation import drill_pool
from bot.services.drill_stats import run_lengths
from bot.services.drills import POST_KIND, REVEAL_KIND, NotPosting, PostPlan
from bot.services.outbox import CANCELLED, PENDING
from storage.models import OutboxMessage
from tests.groups.support import ANA, BEN, CAT, OTHER_SERVER, OWNER, SERVER, Clock, member

CHANNEL = 900


async def outbox_rows(services: Services, kind: str, status: str = PENDING) -> list[OutboxMessage]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind, OutboxMessage.status == status)
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
        )
        return list(rows)


async def send_post(services: Services, *, retry: bool = False) -> PostPlan:
    """What the outbox renderer does with the earliest pending post row (and mark it sent)."""
    row = (await outbox_rows(services, POST_KIND))[0]
    payload = row.payload
    try:
        return await services.drills.open_post(
            payload["drill_id"],
            payload["plan"],
            date.fromisoformat(payload["day"]),
            row.due_at,
            retry=retry,
        )
    finally:
        await services.outbox.mark_sent(row.id)


async def schedule(services: Services, at: str = "18:00", zone: str = "Europe/Berlin") -> None:
    await services.drills.schedule(SERVER, OWNER, CHANNEL, at, zone, 120)


async def test_scheduling_validates_and_plans_exactly_one_post(services: Services) -> None:
    with pytest.raises(UserError, match="not a time zone"):
        await services.drills.schedule(SERVER, OWNER, CHANNEL, "18:00", "Mars/Base")
    with pytest.raises(UserError, match="24-hour"):
        await services.drills.schedule(SERVER, OWNER, CHANNEL, "6pm", "UTC")
    with pytest.raises(UserError, match="5 minutes to 23 hours"):
        await services.drills.schedule(SERVER, OWNER, CHANNEL, "18:00", "UTC", 24 * 60)
    await schedule(services)
    info = await services.drills.info(SERVER)
    assert info is not None and info.at == time(18) and info.time_zone == "Europe/Berlin"
    assert info.next_post == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 18:00 CET today
    (row,) = await outbox_rows(services, POST_KIND)
    assert row.due_at == info.next_post and row.channel_id == CHANNEL
    # Rescheduling replaces the planned post instead of adding one.
    await schedule(services, "07:15", "america/new_york")
    (moved,) = await outbox_rows(services, POST_KIND)
    assert moved.due_at == datetime(2026, 3, 2, 12, 15, tzinfo=UTC)
    assert [r.id for r in await outbox_rows(services, POST_KIND, CANCELLED)] == [row.id]
    assert await services.drills.info(OTHER_SERVER) is None


async def test_a_post_asks_for_its_reveal_and_the_next_day_once(
    services: Services, clock: Clock
) -> None:
    await schedule(services)
    clock.now = datetime(2026, 3, 2, 17, 0, 2, tzinfo=UTC)
    plan = await send_post(services)
    assert plan.day == date(2026, 3, 2) and plan.channel_id == CHANNEL
    assert plan.reveal_at == clock.now + timedelta(minutes=120)
    again = await services.drills.open_post(
        *_args(await services.drills.info(SERVER), plan.day), retry=True
    )
    assert again == plan  # a retried send shows the same post (same nonce, same message)
    (reveal,) = await outbox_rows(services, REVEAL_KIND)
    assert reveal.due_at == plan.reveal_at and reveal.payload == {"post_id": plan.post_id}
    (following,) = await outbox_rows(services, POST_KIND)
    assert following.due_at == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    with pytest.raises(NotPosting, match="already out"):
        await services.drills.open_post(
            *_args(await services.drills.info(SERVER), plan.day), retry=False
        )


def _args(info: object, day: date) -> tuple[int, str, date, datetime]:
    assert info is not None
    return info.id, info.plan, day, datetime.combine(day, time(17), UTC)  # type: ignore[attr-defined]


async def test_paused_obsolete_and_very_late_rows_do_not_post(
    services: Services, clock: Clock
) -> None:
    await schedule(services)
    info = await services.drills.info(SERVER)
    assert info is not None
    stale = (info.id, "elsewhere|18:00|UTC", date(2026, 3, 2), clock.now)
    with pytest.raises(NotPosting, match="obsolete"):
        await services.drills.open_post(*stale, retry=False)
    clock.now = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)  # the bot was down for a day
    with pytest.raises(NotPosting, match="too late"):
        await send_post(services)
    (following,) = await outbox_rows(services, POST_KIND)
    assert following.due_at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    assert await services.drills.pause(SERVER, "holidays")
    assert not await services.drills.pause(SERVER, "again")  # told once
    assert await outbox_rows(services, POST_KIND) == []
    with pytest.raises(NotPosting, match="paused"):
        await services.drills.open_post(*_args(info, date(2026, 3, 4)), retry=False)
    resumed = await services.drills.resume(SERVER)
    assert not resumed.paused and resumed.next_post is not None
    assert [r.due_at for r in await outbox_rows(services, POST_KIND)] == [resumed.next_post]


async def test_now_posts_today_early_and_only_once(services: Services, clock: Clock) -> None:
    await schedule(services)
    await services.drills.now(SERVER)
    (row,) = await outbox_rows(services, POST_KIND)
    assert row.due_at == clock.now
    plan = await send_post(services)
    assert plan.day == date(2026, 3, 2)
    (following,) = await outbox_rows(services, POST_KIND)
    assert following.due_at == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # not again at 18:00
    with pytest.raises(UserError, match="already out"):
        await services.drills.now(SERVER)


async def test_answers_change_until_the_reveal_which_happens_once(
    services: Services, clock: Clock
) -> None:
    await schedule(services)
    plan = await send_post(services)
    right = str(plan.question.correct)
    wrong = next(c.letter for c in plan.question.choices if c.letter != right)
    first = await services.drills.answer(SERVER, plan.post_id, ANA, wrong)
    assert (first.letter, first.previous, first.reveal_at) == (wrong, None, plan.reveal_at)
    changed = await services.drills.answer(SERVER, plan.post_id, ANA, right)
    assert (changed.letter, changed.previous) == (right, wrong)
    await services.drills.answer(SERVER, plan.post_id, BEN, wrong)
    with pytest.raises(UserError, match="not in this server"):
        await services.drills.answer(OTHER_SERVER, plan.post_id, CAT, right)
    with pytest.raises(UserError, match="not one of"):
        await services.drills.answer(SERVER, plan.post_id, CAT, "Q")

    clock.now = plan.reveal_at
    with pytest.raises(UserError, match="closed"):
        await services.drills.answer(SERVER, plan.post_id, CAT, right)
    reveal = await services.drills.reveal(plan.post_id)
    assert reveal is not None and reveal.first
    assert (reveal.total, reveal.right) == (2, 1)
    assert reveal.counts[right] == 1 and reveal.counts[wrong] == 1
    assert set(reveal.counts) == {c.letter for c in plan.question.choices}
    again = await services.drills.reveal(plan.post_id)
    assert again is not None and not again.first and again.counts == reveal.counts


async def test_the_rotation_uses_the_whole_pool_before_repeating(
    services: Services, clock: Clock
) -> None:
    await schedule(services)
    pool = drill_pool(services.drills.course)
    asked = []
    for _day in range(len(pool) + 2):
        plan = await send_post(services)
        asked.append(plan.question.id)
        clock.now = (await outbox_rows(services, POST_KIND))[0].due_at
    first_round = asked[: len(pool)]
    assert sorted(first_round) == sorted(q.id for q in pool)
    assert asked[len(pool) :] == first_round[:2]  # the next round, same preferences


async def test_questions_from_the_parts_learners_are_on_come_first(
    services: Services, learners: list[int]
) -> None:
    for user in (ANA, BEN):
        await services.learners.start(user, guild_id=SERVER)
        await services.reading.open(user, 3)
    await schedule(services)
    assert (await services.drills.preview(SERVER)).question.part == 3
    skipped, following = await services.drills.skip(SERVER)
    assert skipped.question.part == 3 and skipped.day == date(2026, 3, 2)
    assert following.day == date(2026, 3, 3)
    assert following.question.part == 3 and following.question.id != skipped.question.id
    # The planned post for the skipped day does not go out, and the next day is planned.
    with pytest.raises(NotPosting, match="skipped"):
        await send_post(services)
    (row,) = await outbox_rows(services, POST_KIND)
    assert row.due_at == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)


def test_run_lengths_skip_todays_open_drill() -> None:
    posts = [1, 2, 3, 4, 5]
    assert run_lengths(posts, {1, 2, 4, 5}, None) == (2, 2)
    assert run_lengths(posts, {1, 2, 3, 4}, open_post=5) == (4, 4)
    assert run_lengths(posts, {1, 2, 3, 4}, open_post=None) == (0, 4)
    assert run_lengths([], set(), None) == (0, 0)


async def test_streaks_and_weekly_participation(services: Services, clock: Clock) -> None:
    await schedule(services, "09:00", "UTC")
    for day in range(4):
        clock.now = datetime(2026, 3, 3 + day, 9, 0, tzinfo=UTC)
        plan = await send_post(services)
        await services.drills.answer(SERVER, plan.post_id, ANA, str(plan.question.correct))
        wrong = next(c.letter for c in plan.question.choices if c.letter != plan.question.correct)
        if day != 2:
            await services.drills.answer(SERVER, plan.post_id, BEN, wrong)
        clock.now = plan.reveal_at
        await services.drills.reveal(plan.post_id)
    ana = await services.drills.streak(SERVER, ANA)
    ben = await services.drills.streak(SERVER, BEN)
    assert ana is not None and (ana.current, ana.best) == (4, 4)
    assert ben is not None and (ben.current, ben.best) == (1, 2)
    stats = await services.drills.stats(SERVER)
    assert stats.answers == 7
    last = stats.weeks[-1]
    assert (last.posts, last.answers, last.members, last.right) == (4, 7, 2, 4)
    assert [(s.user_id, s.best) for s in stats.streaks] == [(ANA, 4), (BEN, 2)]
    assert sum(w.posts for w in stats.weeks) == 4


async def test_moderators_are_checked_per_server(services: Services) -> None:
    with pytest.raises(UserError, match="Manage Server"):
        await services.drills.require_moderator(SERVER, member(ANA))
    await services.drills.require_moderator(SERVER, member(ANA, manage=True))
    await services.drills.set_moderator_role(SERVER, 55)
    await services.drills.require_moderator(SERVER, member(BEN, roles=(55,)))
    with pytest.raises(UserError):
        await services.drills.require_moderator(OTHER_SERVER, member(BEN, roles=(55,)))


async def test_two_servers_rotate_independently(services: Services) -> None:
    await schedule(services)
    await services.drills.schedule(OTHER_SERVER, CAT, 901, "18:00", "Europe/Berlin")
    rows = await outbox_rows(services, POST_KIND)
    assert Counter(r.guild_id for r in rows) == {SERVER: 1, OTHER_SERVER: 1}
    await services.drills.pause(OTHER_SERVER, "quiet week")
    assert [r.guild_id for r in await outbox_rows(services, POST_KIND)] == [SERVER]
    mine = await services.drills.info(SERVER)
    assert mine is not None and not mine.paused


async def test_members_answering_at_the_same_moment_all_count(
    services: Services, clock: Clock
) -> None:
    await schedule(services)
    plan = await send_post(services)
    crowd = range(100, 116)
    await asyncio.gather(
        *(services.drills.answer(SERVER, plan.post_id, user, "A") for user in crowd)
    )
    clock.now = plan.reveal_at
    reveal = await services.drills.reveal(plan.post_id)
    assert reveal is not None and reveal.total == len(crowd)
