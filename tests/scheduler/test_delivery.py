"""Where reminders go and who they may ping, through the real bot and the loopback Discord."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import Rendered
from bot.services import Services
from bot.services.outbox import FAILED, NO_ROUTE, SENT, OutboxItem
from content.store import CourseStore
from tests.scheduler.helpers import VirtualTime, eventually
from tests.scheduler.world import World, open_world

NOBODY = {"parse": []}  # no @everyone, @here, roles or users


async def test_a_due_reminder_arrives_once_by_dm(world: World) -> None:
    user = world.learners[0]
    row_id = await world.remind(user, "Part 3 is due for review [r1]")
    message = await world.fake.wait_for_message(
        lambda m: "[r1]" in m["content"], channel_id=world.fake.dm_channel_id(user)
    )
    await eventually(lambda: _status(world, row_id, SENT))
    row = await world.row(row_id)
    assert message["content"] == "Part 3 is due for review [r1]"
    assert message["nonce"] == row.nonce
    assert message["allowed_mentions"] == NOBODY
    assert row.attempts == 1 and row.sent_at is not None and row.sent_at >= row.due_at
    assert world.delivered() == {"r1": 1}


async def test_everyone_here_and_roles_in_a_reminder_ping_nobody(world: World) -> None:
    text = "@everyone @here <@&123456789012345678> <@987654321098765432> look [r2]"
    await world.services.outbox.set_reminder_channel(world.fake.guild.id, world.reminders.id)
    await world.remind(world.learners[0], text)
    await world.remind(world.closed, text.replace("r2", "r3"))
    await eventually(lambda: world.delivered() == {"r2": 1, "r3": 1})
    (dm,) = world.fake.dm_messages(world.learners[0])
    (post,) = world.fake.messages_in(world.reminders.id)
    assert dm["allowed_mentions"] == NOBODY
    # In the server channel, the learner it falls back for, and nobody else.
    assert post["allowed_mentions"] == {**NOBODY, "users": [world.closed.id]}
    assert text in dm["content"]


async def test_closed_dms_fall_back_to_the_server_channel_and_are_not_retried(
    world: World,
) -> None:
    await world.services.outbox.set_reminder_channel(world.fake.guild.id, world.reminders.id)
    first = await world.remind(world.closed, "Review Part 2 [r1]")
    await eventually(lambda: len(world.fake.messages_in(world.reminders.id)) == 1)
    second = await world.remind(world.closed, "Review Part 5 [r2]")
    await eventually(lambda: len(world.fake.messages_in(world.reminders.id)) == 2)
    posts = world.fake.messages_in(world.reminders.id)
    assert posts[0]["content"].startswith(f"<@{world.closed.id}> your DMs are closed to me")
    assert "Review Part 2 [r1]" in posts[0]["content"]
    assert all(p["allowed_mentions"]["users"] == [world.closed.id] for p in posts)
    dm_tries = [a for a in world.sender.attempts if a.where == "dm"]
    assert len(dm_tries) == 1  # 50007 is never retried, nor tried again for the next one
    assert world.fake.find_requests("POST", f"/channels/{dm_tries[0].target}/messages") == []
    closed_dm = world.fake.find_requests("POST", "/channels/*/messages")[0]
    assert (closed_dm.status, closed_dm.error and closed_dm.error["code"]) == (403, 50007)
    profile = await world.services.learners.profile(world.closed.id)
    assert profile is not None and profile.dm_unreachable
    for row_id in (first, second):
        assert (await world.row(row_id)).status == SENT
    assert "use any command in a DM with me" in posts[0]["content"]  # how to open them


async def test_dms_are_tried_again_after_the_learner_chooses_them_or_writes_in_dms(
    world: World,
) -> None:
    learners, outbox = world.services.learners, world.services.outbox
    closed = world.closed.id
    await outbox.set_reminder_channel(world.fake.guild.id, world.reminders.id)
    await world.remind(world.closed, "Review [r1]")
    await eventually(lambda: len(world.fake.messages_in(world.reminders.id)) == 1)
    assert (await learners.profile(closed)).dm_unreachable
    await learners.update_settings(closed, delivery="dm")  # /settings: DMs, please
    assert not (await learners.profile(closed)).dm_unreachable
    await world.remind(world.closed, "Review [r2]")
    await eventually(lambda: len(world.fake.messages_in(world.reminders.id)) == 2)
    assert len([a for a in world.sender.attempts if a.where == "dm"]) == 2  # tried again


async def test_dms_are_tried_again_when_the_learner_uses_the_bot_in_dms(world: World) -> None:
    fake, closed = world.fake, world.closed
    await world.services.outbox.set_reminder_channel(fake.guild.id, world.reminders.id)
    await world.bot.tree.sync()

    async def dms_closed_after(text: str) -> bool:
        await world.remind(closed, text)
        await eventually(
            lambda: any(text in m["content"] for m in fake.messages_in(world.reminders.id))
        )
        profile = await world.services.learners.profile(closed.id)
        return profile is not None and profile.dm_unreachable

    assert await dms_closed_after("Review [r1]")
    lesson = await fake.slash("read", user=closed, dm=True)  # a command in DMs
    assert lesson.rejections == [] and not lesson.ephemeral
    assert not (await world.services.learners.profile(closed.id)).dm_unreachable

    assert await dms_closed_after("Review [r2]")  # still closed: back to the channel
    closed.accepts_dms = True  # they open their DMs and press a button on the lesson there
    pressed = await fake.click(lesson.message, f"read:{closed.id}:0:next")
    assert pressed.rejections == []
    assert not (await world.services.learners.profile(closed.id)).dm_unreachable
    await world.remind(closed, "Review [r3]")
    await eventually(lambda: any("[r3]" in m["content"] for m in fake.dm_messages(closed)))
    assert not any("[r3]" in m["content"] for m in fake.messages_in(world.reminders.id))


async def test_closed_dms_and_no_channel_fail_with_a_reason_the_learner_is_told(
    world: World,
) -> None:
    row_id = await world.remind(world.closed, "Review [r1]")
    await eventually(lambda: _status(world, row_id, FAILED))
    row = await world.row(row_id)
    assert row.last_error == NO_ROUTE
    notice = await world.services.outbox.unreachable_notice(world.closed.id)
    assert notice is not None and "direct messages are closed" in notice
    assert world.delivered() == {}


async def test_a_channel_that_refuses_is_reported_once_and_dropped(world: World) -> None:
    outbox = world.services.outbox
    guild = world.fake.guild
    await outbox.set_reminder_channel(guild.id, world.reminders.id)
    path = f"/channels/{world.reminders.id}/messages"
    world.fake.fail_next("POST", path, status=403, code=50013)
    first = await world.remind(world.closed, "Review [r1]")
    await eventually(lambda: _status(world, first, FAILED))
    second = await world.remind(world.closed, "Review [r2]")
    await eventually(lambda: _status(world, second, FAILED))

    (told,) = world.fake.dm_messages(world.owner)
    assert f"<#{world.reminders.id}>" in told["content"] and "50013" in told["content"]
    assert told["allowed_mentions"] == NOBODY
    assert len(world.fake.find_requests("POST", path)) == 1  # not used again
    assert (await world.row(second)).last_error == NO_ROUTE
    chosen = await outbox.reminder_channel(guild.id)
    assert chosen is not None and not chosen.usable

    # A moderator picks a channel again: it is used, and a later failure is reported again.
    await outbox.set_reminder_channel(guild.id, world.general.id)
    third = await world.remind(world.closed, "Review [r3]")
    await eventually(lambda: _status(world, third, SENT))
    assert world.delivered() == {"r3": 1}


async def test_a_deleted_channel_is_reported_too(world: World) -> None:
    gone = 1_111_111_111_111_111
    await world.services.outbox.set_reminder_channel(world.fake.guild.id, gone)
    row_id = await world.remind(world.closed, "Review [r1]")
    await eventually(lambda: _status(world, row_id, FAILED))
    (told,) = world.fake.dm_messages(world.owner)
    assert f"<#{gone}>" in told["content"] and "404" in told["content"]


async def test_a_row_for_a_channel_posts_there_mentioning_nobody(world: World) -> None:
    row_id = await world.services.outbox.enqueue(
        "drill",
        due_at=world.vt(),
        payload={"content": "Drill time @everyone [r7]"},
        guild_id=world.fake.guild.id,
        channel_id=world.general.id,
    )
    await eventually(lambda: _status(world, row_id, SENT))
    (post,) = world.fake.messages_in(world.general.id)
    assert post["content"] == "Drill time @everyone [r7]"
    assert post["allowed_mentions"] == NOBODY


async def test_a_registered_renderer_shapes_its_kind(world: World) -> None:
    seen = []

    async def render_nudge(item: OutboxItem) -> Rendered:
        seen.append(item)
        return Rendered(content="Nudge [r9]")

    world.bot.outbox_renderers.register("nudge", render_nudge)
    row_id = await world.remind(world.learners[1], "ignored", kind="nudge")
    await eventually(lambda: _status(world, row_id, SENT))
    assert [m["content"] for m in world.fake.dm_messages(world.learners[1])] == ["Nudge [r9]"]
    assert len(seen) == 1


async def test_discord_refusing_the_message_fails_the_row_with_its_reason(world: World) -> None:
    row_id = await world.services.outbox.enqueue(
        "reminder",
        due_at=world.vt(),
        payload={"embeds": [{"title": "x" * 300}]},  # Discord allows 256
        learner_id=await world.learner_id(world.learners[0]),
    )
    await eventually(lambda: _status(world, row_id, FAILED))
    row = await world.row(row_id)
    assert row.last_error is not None and row.last_error.startswith("400/50035")
    assert row.attempts == 1  # a 400 is not retried


async def _status(world: World, row_id: int, status: str) -> bool:
    return (await world.row(row_id)).status == status


async def _break_the_reminder_channel(world: World) -> None:
    """Two rows for the closed-DM learner hit a reminder channel that refuses with 403."""
    await world.services.outbox.set_reminder_channel(world.fake.guild.id, world.reminders.id)
    world.fake.fail_next("POST", f"/channels/{world.reminders.id}/messages", status=403, code=50013)
    for tag in ("r1", "r2"):
        row_id = await world.remind(world.closed, f"Review [{tag}]")
        await eventually(lambda r=row_id: _status(world, r, FAILED))


async def test_with_the_owners_dms_closed_the_system_channel_hears_it(
    sessions: async_sessionmaker[AsyncSession], courses: CourseStore, vt: VirtualTime
) -> None:
    services = Services(sessions=sessions, courses=courses, clock=vt)
    async with open_world(services, vt, owner_dms=False, system_channel=True) as world:
        await _break_the_reminder_channel(world)
        (told,) = [m for m in world.fake.messages_in(world.general.id) if "50013" in m["content"]]
    assert f"<#{world.reminders.id}>" in told["content"] and "/server reminders" in told["content"]
    assert told["allowed_mentions"] == NOBODY


async def test_with_no_way_to_reach_the_moderators_it_is_logged_once(
    sessions: async_sessionmaker[AsyncSession],
    courses: CourseStore,
    vt: VirtualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = Services(sessions=sessions, courses=courses, clock=vt)
    with caplog.at_level(logging.WARNING, logger="bot.delivery.discord_sender"):
        async with open_world(services, vt, owner_dms=False) as world:
            await _break_the_reminder_channel(world)
    notes = [r.getMessage() for r in caplog.records if "moderators" in r.getMessage()]
    assert notes == [f"outbox: found no way to tell the moderators of guild {world.fake.guild.id}"]
