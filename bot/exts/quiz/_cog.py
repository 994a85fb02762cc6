"""/quiz, /interview and /quickref."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.exts.quiz._views import (
    card_message,
    due_message,
    learn_session,
    question_message,
    review_session,
)
from bot.ui.autocomplete import part_choices
from bot.ui.embeds import BRAND_COLOUR, embed_batches, fit
from bot.ui.items import in_server


class Quiz(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def _part(self, interaction: discord.Interaction[TutorBot], part: str | None) -> int:
        quiz = self.bot.services.quiz
        if part:
            return quiz.find_part(part)
        return await quiz.default_part(interaction.user.id)

    @app_commands.command(name="quiz", description="Debug This: find the bug in a part's snippets")
    @app_commands.describe(part="A part number or title (default: the part you read last)")
    @app_commands.autocomplete(part=part_choices)
    async def quiz(
        self, interaction: discord.Interaction[TutorBot], part: str | None = None
    ) -> None:
        services = self.bot.services
        number = await self._part(interaction, part)
        first = services.quiz.questions(number)[0]
        embed, view = question_message(interaction.user.id, services, first, learn_session())
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )

    @app_commands.command(name="interview", description="Practise a part's interview questions")
    @app_commands.describe(part="A part number or title (default: the part you read last)")
    @app_commands.autocomplete(part=part_choices)
    async def interview(
        self, interaction: discord.Interaction[TutorBot], part: str | None = None
    ) -> None:
        number = await self._part(interaction, part)
        first = self.bot.services.quiz.interview_cards(number)[0]
        embed, view = card_message(
            interaction.user.id, first, show_back=False, session=learn_session()
        )
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )

    @app_commands.command(name="quickref", description="A part's Quick Reference card")
    @app_commands.describe(part="A part number or title")
    @app_commands.autocomplete(part=part_choices)
    async def quickref(self, interaction: discord.Interaction[TutorBot], part: str) -> None:
        quiz = self.bot.services.quiz
        number = quiz.find_part(part)
        card = quiz.quickref(number)  # a clear error when the part has none
        await self.bot.services.review.meet_quickref(interaction.user.id, card.id, number)
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

    @app_commands.command(name="review", description="Review what is due: spaced repetition")
    async def review(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = self.bot.services
        due = await services.review.due(interaction.user.id, limit=1)
        private = in_server(interaction)
        if not due:
            summary = await services.review.summary(interaction.user.id, since=services.clock())
            text = "Nothing is due right now. 🎉"
            if summary.next_due is not None:
                text += f" The next card is due <t:{int(summary.next_due.timestamp())}:R>."
            else:
                text += " Answer a `/quiz` or `/interview` and the cards will come back here."
            embed = discord.Embed(description=text, colour=BRAND_COLOUR)
            await interaction.response.send_message(embed=embed, ephemeral=private)
            return
        session = review_session(services.clock())
        embed, view = due_message(interaction.user.id, services, due[0], session)
        await interaction.response.send_message(
            embed=embed, view=view or discord.utils.MISSING, ephemeral=private
        )
