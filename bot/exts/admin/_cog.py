"""/admin status: this process's health, for the bot's owner and a server's moderators.
/admin reload: the course read again from disk, for the bot's owner only."""

from __future__ import annotations

import asyncio
import contextlib

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.admin._views import process_facts, reload_embed, status_embed
from bot.ui.access import asking_member

OWNER_ONLY = "Only the bot's owner can reload the course: it changes the course for every server."


class Admin(commands.Cog):
    # Shown by default to Manage Server only, like /server: other members would be refused
    # anyway. The checks below decide, on every use; a server may show the group to its
    # moderator role (Server Settings → Integrations), and the owner can use it in DMs.
    admin = app_commands.Group(
        name="admin",
        description="The bot's status and course reload (owner and moderators)",
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self._following: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # PostgreSQL: a reload on another worker reloads this one's course too.
        follower = self.bot.services.status.follow_reloads()
        if follower is not None:
            self._following = asyncio.create_task(follower.run(), name="course-reloads")

    async def cog_unload(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following

    @admin.command(
        name="status", description="This bot process: uptime, gateway, outbox, database, labs"
    )
    async def status(self, interaction: discord.Interaction[TutorBot]) -> None:
        # The lab daemon and the database may take a moment: answer Discord first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = self.bot.services.status
        owner = await self.bot.is_owner(interaction.user)
        await status.require_viewer(interaction.guild_id, asking_member(interaction), owner=owner)
        report = await status.status(process_facts(self.bot), owner=owner)
        await interaction.followup.send(embed=status_embed(report), ephemeral=True)

    @admin.command(name="reload", description="Read the course again from disk (bot owner only)")
    async def reload(self, interaction: discord.Interaction[TutorBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if not await self.bot.is_owner(interaction.user):
            raise UserError(OWNER_ONLY)
        result = await self.bot.services.status.reload_course(interaction.user.id)
        await interaction.followup.send(embed=reload_embed(result), ephemeral=True)
