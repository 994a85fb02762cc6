"""/drill: schedule, now, pause, resume, stats, preview, skip and role.

Everything but /drill stats is for moderators: members with Manage Server or the role the
server chose. The command is not hidden with default_permissions, because that would hide it
from the moderator role too; the check is made on every use instead.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.drills._delivery import DrillDelivery, fix_hint, needs
from bot.exts.drills._views import describe, preview_embed, question_embed, stats_embed
from bot.services.drills import MAX_REVEAL, MIN_REVEAL, DrillService
from bot.ui.access import NOBODY, asking_member, server_of
from bot.ui.autocomplete import zone_choices


class Drills(commands.Cog):
    drill = app_commands.Group(
        name="drill", description="The daily Debug This drill", guild_only=True
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.delivery = DrillDelivery(bot)

    @property
    def drills(self) -> DrillService:
        return self.bot.services.drills

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self.delivery.note_message(message)

    async def _moderator(self, interaction: discord.Interaction[TutorBot]) -> int:
        guild_id = server_of(interaction)
        await self.drills.require_moderator(guild_id, asking_member(interaction))
        return guild_id

    @drill.command(name="schedule", description="Post a drill every day at a local time")
    @app_commands.describe(
        channel="Where the drill is posted",
        time="Local time on the 24-hour clock, e.g. 18:00",
        timezone="An IANA time zone, e.g. Europe/Berlin",
        reveal_after="Minutes until the answer is shown (default 480 = 8 h)",
    )
    @app_commands.autocomplete(timezone=zone_choices)
    async def schedule(
        self,
        interaction: discord.Interaction[TutorBot],
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 8],
        timezone: app_commands.Range[str, 1, 64],
        reveal_after: app_commands.Range[int, MIN_REVEAL, MAX_REVEAL] | None = None,
    ) -> None:
        guild_id = await self._moderator(interaction)
        problem = self.delivery.channel_problem(channel.id)
        if problem is not None:
            raise UserError(f"I can't run the drill there: {problem}. {needs(channel.id)}.")
        info = await self.drills.schedule(
            guild_id, interaction.user.id, channel.id, time, timezone, reveal_after
        )
        await interaction.response.send_message(describe(info), ephemeral=True)

    @drill.command(name="now", description="Post today's drill now instead of at its time")
    async def now(self, interaction: discord.Interaction[TutorBot]) -> None:
        info = await self.drills.now(await self._moderator(interaction))
        await interaction.response.send_message(
            f"Posting today's drill in <#{info.channel_id}> now.", ephemeral=True
        )

    @drill.command(name="pause", description="Stop posting the drill until /drill resume")
    async def pause(self, interaction: discord.Interaction[TutorBot]) -> None:
        guild_id = await self._moderator(interaction)
        await self.drills.require(guild_id)
        reason = f"paused by <@{interaction.user.id}>"
        if not await self.drills.pause(guild_id, reason):
            raise UserError("The drill is already paused.")
        await interaction.response.send_message(
            "The drill is paused. `/drill resume` starts it again.", ephemeral=True
        )

    @drill.command(name="resume", description="Start posting the drill again")
    async def resume(self, interaction: discord.Interaction[TutorBot]) -> None:
        guild_id = await self._moderator(interaction)
        current = await self.drills.require(guild_id)
        problem = self.delivery.channel_problem(current.channel_id)
        if problem is not None:
            raise UserError(f"Not yet: {problem}. {fix_hint(current.channel_id)}")
        info = await self.drills.resume(guild_id)
        await interaction.response.send_message(describe(info), ephemeral=True)

    @drill.command(name="stats", description="Participation over the last weeks, best streaks")
    async def stats(self, interaction: discord.Interaction[TutorBot]) -> None:
        stats = await self.drills.stats(server_of(interaction))
        await interaction.response.send_message(
            embed=stats_embed(stats), ephemeral=True, allowed_mentions=NOBODY
        )

    @drill.command(name="preview", description="See the next drill's question (moderators)")
    async def preview(self, interaction: discord.Interaction[TutorBot]) -> None:
        upcoming = await self.drills.preview(await self._moderator(interaction))
        await interaction.response.send_message(embed=preview_embed(upcoming), ephemeral=True)

    @drill.command(name="skip", description="Skip the next drill and set its question aside")
    async def skip(self, interaction: discord.Interaction[TutorBot]) -> None:
        skipped, following = await self.drills.skip(await self._moderator(interaction))
        stamp = int(following.due.timestamp())
        await interaction.response.send_message(
            f"No drill on {skipped.day:%A %d %B}; “{skipped.question.title}” waits for the next "
            f"round. The next drill is <t:{stamp}:f>, with this question:",
            embed=question_embed(following.question),
            ephemeral=True,
        )

    @drill.command(name="role", description="The moderator role for drills and study groups")
    @app_commands.describe(role="Leave it out to see it; only Manage Server can change it")
    async def role(
        self, interaction: discord.Interaction[TutorBot], role: discord.Role | None = None
    ) -> None:
        guild_id = server_of(interaction)
        if role is None:
            chosen = (await self.bot.services.groups.server(guild_id)).moderator_role_id
            text = (
                f"Besides Manage Server, <@&{chosen}> runs drills and manages groups."
                if chosen
                else "Only members with Manage Server run drills; no moderator role is set."
            )
        else:
            if not interaction.permissions.manage_guild:
                raise UserError("Only members with **Manage Server** choose the moderator role.")
            await self.drills.set_moderator_role(guild_id, role.id)
            text = f"<@&{role.id}> now runs drills and manages study groups."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NOBODY)
