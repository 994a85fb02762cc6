"""/read: the learner's current article, chunk by chunk."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.exts.reading._views import page_message
from bot.ui.autocomplete import part_choices
from bot.ui.items import in_server


class Reading(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="read", description="Read your current article, where you left off")
    @app_commands.describe(part="A part number or title (default: where you left off)")
    @app_commands.autocomplete(part=part_choices)
    async def read(
        self, interaction: discord.Interaction[TutorBot], part: str | None = None
    ) -> None:
        services = self.bot.services
        number = services.reading.find_part(part) if part else None
        page = await services.reading.open(interaction.user.id, number)
        embed, view = page_message(interaction.user.id, page)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )
