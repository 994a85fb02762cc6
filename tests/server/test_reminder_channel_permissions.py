"""/server reminders checks every permission the outbox needs in the channel chosen, as the
channel's own overwrites leave them, and names each one missing."""

from __future__ import annotations

import discord

from tests.groups.world import World

VIEW, EMBED = (
    discord.Permissions(**{flag: True}).value for flag in ("view_channel", "embed_links")
)


async def choose(world: World, channel: object) -> str:
    result = await world.slash(
        "server reminders", {"channel": channel}, user=world.a.owner, guild_id=world.a.id
    )
    assert result.ephemeral
    return world.text(result)


async def test_a_channel_without_embed_links_or_view_channel_is_refused_by_name(
    world: World,
) -> None:
    fake, outbox, home = world.fake, world.services.outbox, world.a.home
    async with world.running():
        await fake.set_overwrite(home, fake.bot_user, deny=EMBED)
        said = await choose(world, home)
        assert f"I can't post reminders in <#{home.id}>: I need **Embed Links** there." in said
        assert "Give me that permission in that channel" in said
        assert await outbox.reminder_channel(world.a.id) is None

        await fake.set_overwrite(home, fake.bot_user, deny=EMBED | VIEW)
        said = await choose(world, home)
        assert "I need **View Channel** and **Embed Links** there." in said
        assert "Give me those permissions" in said
        assert await outbox.reminder_channel(world.a.id) is None

        await fake.set_overwrite(home, fake.bot_user, allow=EMBED | VIEW)
        said = await choose(world, home)
        assert f"Reminders for learners whose DMs are closed go to <#{home.id}>." in said
        chosen = await outbox.reminder_channel(world.a.id)
        assert chosen is not None and chosen.channel_id == home.id
