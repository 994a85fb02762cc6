"""/server reminders: moderators choose the fallback channel; everyone else is refused."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import Services
from content.store import CourseStore
from tests.scheduler.helpers import VirtualTime
from tests.scheduler.world import World, open_world


async def test_the_command_is_for_moderators_in_servers(world: World) -> None:
    await world.bot.tree.sync()
    (server,) = [c for c in world.fake.commands() if c["name"] == "server"]
    assert int(server["default_member_permissions"]) == 1 << 5  # Manage Server
    assert server["dm_permission"] is False  # guild only
    reminders, stats = server["options"]  # /server stats: the dashboard (tests/server)
    assert (reminders["name"], stats["name"]) == ("reminders", "stats")
    assert stats.get("options", []) == []
    assert [o["name"] for o in reminders["options"]] == ["channel"]
    assert reminders["options"][0]["required"] is False


async def test_a_moderator_chooses_the_channel_and_sees_it(world: World) -> None:
    await world.bot.tree.sync()
    fake, outbox, guild = world.fake, world.services.outbox, world.fake.guild
    before = await fake.slash("server reminders", user=world.moderator)
    assert before.ephemeral and "No reminder channel is chosen" in before.content

    chosen = await fake.slash(
        "server reminders", {"channel": world.reminders}, user=world.moderator
    )
    assert chosen.ephemeral and f"<#{world.reminders.id}>" in chosen.content
    current = await outbox.reminder_channel(guild.id)
    assert current is not None and current.channel_id == world.reminders.id

    await outbox.mark_channel_broken(guild.id, world.reminders.id)
    broken = await fake.slash("server reminders", user=world.learners[0])
    assert "could not post there" in broken.content


async def test_without_manage_server_the_choice_is_refused(world: World) -> None:
    await world.bot.tree.sync()
    refused = await world.fake.slash(
        "server reminders", {"channel": world.reminders}, user=world.learners[0]
    )
    assert refused.ephemeral
    assert "Manage Server" in refused.embeds[0]["description"]
    assert await world.services.outbox.reminder_channel(world.fake.guild.id) is None


async def test_a_channel_the_bot_cannot_write_in_is_refused(
    sessions: async_sessionmaker[AsyncSession], courses: CourseStore, vt: VirtualTime
) -> None:
    services = Services(sessions=sessions, courses=courses, clock=vt)
    async with open_world(services, vt, mute=True) as world:
        await world.bot.tree.sync()
        refused = await world.fake.slash(
            "server reminders", {"channel": world.reminders}, user=world.owner
        )
    assert "I need **Send Messages** there." in refused.embeds[0]["description"]
    assert await services.outbox.reminder_channel(world.fake.guild.id) is None
