"""/practice: a short session of due cards and questions from the learner's weakest parts."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.exts.practice._views import step_message
from bot.services.practice import new_session
from bot.ui.autocomplete import part_choices
from bot.ui.items import in_server


class Practice(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="practice", description="A short practice: due cards and your weakest parts"
    )
    @app_commands.describe(part="Practise one part (default: the parts you find hardest)")
    @app_commands.autocomplete(part=part_choices)
    async def practice(
        self, interaction: discord.Interaction[TutorBot], part: str | None = None
    ) -> None:
        services = self.bot.services
        practice = services.practice
        number = practice.check_part(practice.find_part(part)) if part else None
        session = new_session(number)
        step = await practice.step(interaction.user.id, session)
        embed, view = step_message(interaction.user.id, services, session, step)
        await interaction.response.send_message(
            embed=embed, view=view or discord.utils.MISSING, ephemeral=in_server(interaction)
        )
