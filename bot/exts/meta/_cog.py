"""/about: what this bot is."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.bot import TutorBot
from bot.ui.embeds import BRAND_COLOUR


class Meta(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What this tutor teaches, and its version")
    async def about(self, interaction: discord.Interaction[TutorBot]) -> None:
        course = self.bot.services.courses.course
        embed = discord.Embed(
            title=course.title,
            description=(
                f"A {len(course.parts)}-part Docker course, taught right here in Discord: "
                "read in short chunks, find the bug, do hands-on labs, and get reminded "
                "to review at the right time.\nStart with `/start`."
            ),
            colour=BRAND_COLOUR,
        )
        embed.add_field(name="Parts", value=str(len(course.parts)))
        embed.add_field(name="Tracks", value=str(len(course.tracks)))
        embed.set_footer(text=f"tutorbot {__version__}")
        in_server = interaction.guild is not None
        await interaction.response.send_message(embed=embed, ephemeral=in_server)
