"""Daily digests through the outbox, the real bot and the loopback Discord, on virtual time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.exts.reminders._views import NOTHING_TO_SAY
from bot.services.outbox import CANCELLED, PENDING
from bot.services.reminders import DIGEST
from storage.models import OutboxMessage
from tests.scheduler.helpers import eventually
from tests.scheduler.world import World

TITLE = "Your Docker practice for today"


def digests_in(world: World, user: Any) -> list[dict[str, Any]]:
    return [
        m
        for m in world.fake.dm_messages(user)
        if m.get("embeds") and m["embeds"][0]["title"] == TITLE
    ]


async def digest_rows(world: World, status: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == DIGEST).order_by(OutboxMessage.id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    async with world.services.sessions() as session:
        return list(await session.scalars(query))


def component_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def test_a_digest_arrives_at_the_local_hour_and_plans_the_next(world: World) -> None:
    user = world.learners[0]
    await world.services.learners.update_settings(
        user.id, time_zone="Europe/Berlin", reminder_hour=8
    )
    due = await world.services.reminders.reschedule(user.id)
    # 09:00 UTC on 2 March is 10:00 in Berlin: the next 08:00 is tomorrow, 07:00 UTC.
    assert due == datetime(2026, 3, 3, 7, tzinfo=UTC)
    await eventually(lambda: len(digests_in(world, user)) == 1)
    (message,) = digests_in(world, user)
    text = message["embeds"][0]["description"]
    assert "Next: Part 0 · How to use this series" in text
    assert component_ids(message) == [
        f"digest:{user.id}:{action}" for action in ("hour", "evening", "tomorrow", "pause")
    ]
    assert message["allowed_mentions"] == {"parse": []}
    # The next day's digest is planned before this one is sent. (On virtual time an idle
    # dispatcher may already have jumped ahead and sent it, so look at every status.)
    await world.bot.dispatcher.stop(grace=0)
    learner_id = await world.learner_id(user)
    planned = {r.due_at for r in await digest_rows(world) if r.learner_id == learner_id}
    assert datetime(2026, 3, 4, 7, tzinfo=UTC) in planned
    assert all(d.hour == 7 for d in planned)  # 08:00 Berlin, every day


async def test_snooze_sends_it_again_today_but_a_second_plain_digest_is_dropped(
    world: World,
) -> None:
    user = world.learners[1]
    await world.services.learners.update_settings(user.id, time_zone="UTC", reminder_hour=12)
    await world.services.reminders.reschedule(user.id)
    await eventually(lambda: len(digests_in(world, user)) == 1)
    (first,) = digests_in(world, user)
    pressed = await world.fake.click(first, f"digest:{user.id}:hour", user=user)
    assert "Snoozed" in (pressed.content or "")
    await eventually(lambda: len(digests_in(world, user)) == 2)

    learner_id = await world.learner_id(user)
    same_day = await world.services.outbox.enqueue(
        DIGEST, due_at=world.vt(), payload={"learner_id": learner_id}, learner_id=learner_id
    )
    await eventually(lambda: _has_status(world, same_day, CANCELLED))  # not a failed delivery
    assert (await world.row(same_day)).last_error == NOTHING_TO_SAY
    assert len(digests_in(world, user)) == 2


async def test_pause_a_week_moves_the_next_digest_past_the_pause(world: World) -> None:
    user = world.learners[2]
    await world.services.learners.update_settings(user.id, time_zone="UTC", reminder_hour=12)
    await world.services.reminders.reschedule(user.id)
    await eventually(lambda: len(digests_in(world, user)) == 1)
    (message,) = digests_in(world, user)
    pressed = await world.fake.click(message, f"digest:{user.id}:pause", user=user)
    assert "paused for a week" in (pressed.content or "")
    profile = await world.services.learners.profile(user.id)
    assert profile is not None and profile.paused_until is not None
    learner_id = await world.learner_id(user)
    pending = [r for r in await digest_rows(world, PENDING) if r.learner_id == learner_id]
    assert len(pending) == 1 and pending[0].due_at >= profile.paused_until


async def test_someone_else_cannot_snooze_my_digest(world: World) -> None:
    user, other = world.learners[0], world.learners[1]
    await world.services.reminders.reschedule(user.id)
    await eventually(lambda: len(digests_in(world, user)) == 1)
    (message,) = digests_in(world, user)
    pressed = await world.fake.click(message, f"digest:{user.id}:hour", user=other)
    assert "someone else's" in (pressed.content or "")


async def test_ensure_all_plans_one_digest_per_learner(world: World) -> None:
    first = await world.services.reminders.ensure_all()
    assert first == len(world.learners)
    assert await world.services.reminders.ensure_all() == 0


async def _has_status(world: World, row_id: int, status: str) -> bool:
    return (await world.row(row_id)).status == status
