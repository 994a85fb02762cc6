"""/quiz, /interview and /quickref."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.exts.quiz._views import card_message, question_message
from bot.ui.autocomplete import part_choices
from bot.ui.embeds import BRAND_COLOUR, embed_batches, fit
from bot.ui.items import in_server


class Quiz(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def _part(self, interaction: discord.Interaction, part: str | None) -> int:
        quiz = self.bot.services.quiz
        if part:
            return quiz.find_part(part)
        return await quiz.default_part(interaction.user.id)

    @app_commands.command(name="quiz", description="Debug This: find the bug in a part's snippets")
    @app_commands.describe(part="A part number or title (default: the part you read last)")
    @app_commands.autocomplete(part=part_choices)
    async def quiz(self, interaction: discord.Interaction, part: str | None = None) -> None:
        quiz = self.bot.services.quiz
        number = await self._part(interaction, part)
        first = quiz.questions(number)[0]
        embed, view = question_message(interaction.user.id, quiz, first)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )

    @app_commands.command(name="interview", description="Practise a part's interview questions")
    @app_commands.describe(part="A part number or title (default: the part you read last)")
    @app_commands.autocomplete(part=part_choices)
    async def interview(self, interaction: discord.Interaction, part: str | None = None) -> None:
        number = await self._part(interaction, part)
        first = self.bot.services.quiz.interview_cards(number)[0]
        embed, view = card_message(interaction.user.id, first, show_back=False)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )

    @app_commands.command(name="quickref", description="A part's Quick Reference card")
    @app_commands.describe(part="A part number or title")
    @app_commands.autocomplete(part=part_choices)
    async def quickref(self, interaction: discord.Interaction, part: str) -> None:
        quiz = self.bot.services.quiz
        number = quiz.find_part(part)
        quiz.quickref(number)  # a clear error when the part has none
        chunks = [
            c for s in quiz.part(number).sections if s.name == "Quick Reference" for c in s.chunks
        ]
        title = f"Quick Reference · Part {number} · {quiz.part(number).info.title}"
        embeds = [
            discord.Embed(
                title=fit(title, 256) if i == 0 else None,
                description=chunk.text,
                colour=BRAND_COLOUR,
            )
            for i, chunk in enumerate(chunks)
        ]
        private = in_server(interaction)
        batches = embed_batches(embeds)
        await interaction.response.send_message(embeds=batches[0], ephemeral=private)
        for batch in batches[1:]:
            await interaction.followup.send(embeds=batch, ephemeral=private)
