"""/server reminders: where moderators send reminders that cannot go by DM.
/server stats: how the server learns, as a picture and as text, for its moderators."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.server._stats import stats_embed, stats_file
from bot.services.outbox import ReminderChannel
from bot.ui.access import asking_member, server_of
from bot.ui.dashboard import render_dashboard

NEEDS_MANAGE_SERVER = "Only members with the **Manage Server** permission can change this."
# What the outbox needs in the reminder channel (bot/delivery/discord_sender.py posts digests
# and reminders there, with embeds and buttons), by the names Discord's settings show.
REMINDER_CHANNEL_NEEDS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def cannot_post_reminders(channel: discord.TextChannel, me: discord.Member) -> str | None:
    """Why the outbox could not post in `channel`, naming each permission I lack; None if it can."""
    # As the roles and the channel's overwrites grant them: TextChannel.permissions_for also
    # applies Discord's implicit rules (no View Channel, then nothing; no Send Messages, then no
    # Embed Links), which would name permissions that come back with the one really missing.
    granted = discord.abc.GuildChannel.permissions_for(channel, me)
    missing = [
        f"**{name}**" for flag, name in REMINDER_CHANNEL_NEEDS.items() if not getattr(granted, flag)
    ]
    if not missing:
        return None
    listed = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    them = "those permissions" if len(missing) > 1 else "that permission"
    return (
        f"I can't post reminders in {channel.mention}: I need {listed} there. "
        f"Give me {them} in that channel, or choose another channel."
    )


def describe(chosen: ReminderChannel | None) -> str:
    if chosen is None:
        return (
            "No reminder channel is chosen: learners whose DMs are closed get no reminders. "
            "Choose one with `/server reminders channel:`."
        )
    if not chosen.usable:
        assert chosen.broken_at is not None
        return (
            f"Reminders used to go to <#{chosen.channel_id}>, but I could not post there "
            f"(since {discord.utils.format_dt(chosen.broken_at, 'f')}). "
            "Choose a channel I can write in with `/server reminders channel:`."
        )
    return f"Reminders for learners whose DMs are closed go to <#{chosen.channel_id}>."


class ServerSettings(commands.Cog):
    server = app_commands.Group(
        name="server",
        description="Server settings for moderators",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @server.command(
        name="reminders", description="Where reminders go when a learner's DMs are closed"
    )
    @app_commands.describe(channel="The channel to use; leave it out to see the current one")
    async def reminders(
        self, interaction: discord.Interaction[TutorBot], channel: discord.TextChannel | None = None
    ) -> None:
        guild = interaction.guild
        if guild is None:  # guild_only: Discord never sends it from a DM
            raise UserError("This works in a server only.")
        outbox = self.bot.services.outbox
        if channel is not None:
            # default_permissions only hides the command; server admins can override it.
            if not interaction.permissions.manage_guild:
                raise UserError(NEEDS_MANAGE_SERVER)
            refusal = cannot_post_reminders(channel, guild.me)
            if refusal is not None:
                raise UserError(refusal)
            await outbox.set_reminder_channel(guild.id, channel.id)
        text = describe(await outbox.reminder_channel(guild.id))
        await interaction.response.send_message(text, ephemeral=True)

    # Moderators are members with Manage Server or the moderator role (`/drill role`), checked
    # on every use. The /server group is shown to Manage Server only; a server that wants its
    # moderator role to see it too allows the command for that role (Server Settings →
    # Integrations).
    @server.command(name="stats", description="How this server learns: a dashboard (moderators)")
    async def stats(self, interaction: discord.Interaction[TutorBot]) -> None:
        guild_id = server_of(interaction)
        # The queries and the picture take a moment: answer Discord first, then follow up.
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.services.server_stats.dashboard(guild_id, asking_member(interaction))
        name = interaction.guild.name if interaction.guild is not None else "This server"
        png = await asyncio.to_thread(render_dashboard, stats, name)
        await interaction.followup.send(
            embed=stats_embed(stats), file=stats_file(png), ephemeral=True
        )
