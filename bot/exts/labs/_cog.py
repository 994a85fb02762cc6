"""/lab review and /lab start: Dockerfile and Compose review anywhere, graded exercises."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.labs._views import ReviewModal, answer_review, task_message
from bot.labs.review import MAX_REVIEW_CHARS
from bot.ui.autocomplete import MAX_CHOICES
from bot.ui.embeds import embed_batches
from bot.ui.items import in_server, services_of


async def _text_of(attachment: discord.Attachment, what: str) -> str:
    if attachment.size > MAX_REVIEW_CHARS:
        raise UserError(
            f"That {what} is {attachment.size} bytes; the review takes up to {MAX_REVIEW_CHARS}."
        )
    try:
        return (await attachment.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"That {what} is not UTF-8 text.") from None


async def exercise_choices(
    interaction: discord.Interaction[TutorBot], typed: str
) -> list[app_commands.Choice[str]]:
    labs = services_of(interaction).labs
    needle = typed.strip().lower()[:100]
    done = await labs.done_ids(interaction.user.id)
    choices = []
    for exercise in labs.exercises():
        label = f"Part {exercise.part} · {exercise.title}"
        if exercise.id in done:
            label += " ✓"
        if needle in label.lower() or needle in exercise.id:
            choices.append(app_commands.Choice(name=label[:100], value=exercise.id))
    return choices[:MAX_CHOICES]


class Labs(commands.GroupCog, group_name="lab", group_description="Hands-on Docker labs"):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self._start_up: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._start_up = asyncio.create_task(
            self.bot.services.labs.start_up(), name="lab-sandbox-start-up"
        )

    async def cog_unload(self) -> None:
        if self._start_up is not None:
            self._start_up.cancel()

    @app_commands.command(
        name="review", description="Review a Dockerfile or a compose file: paste or attach it"
    )
    @app_commands.describe(
        file="A Dockerfile or compose file to attach (leave empty to paste one)",
        dockerignore="The .dockerignore that goes with it, if any",
    )
    async def review(
        self,
        interaction: discord.Interaction[TutorBot],
        file: discord.Attachment | None = None,
        dockerignore: discord.Attachment | None = None,
    ) -> None:
        if file is None:
            await interaction.response.send_modal(ReviewModal())
            return
        await interaction.response.defer(thinking=True, ephemeral=in_server(interaction))
        text = await _text_of(file, "file")
        ignore = await _text_of(dockerignore, ".dockerignore") if dockerignore else None
        await answer_review(interaction, text, ignore)

    @app_commands.command(name="start", description="A graded exercise: build it in the sandbox")
    @app_commands.describe(exercise="The exercise (type to search)")
    @app_commands.autocomplete(exercise=exercise_choices)
    async def start(self, interaction: discord.Interaction[TutorBot], exercise: str) -> None:
        private = in_server(interaction)
        # Answer Discord first: the first lab after the lab daemon comes up waits for its
        # set-up and isolation check (bot/services/labs.py), which may pass the 3 s deadline.
        await interaction.response.defer(thinking=True, ephemeral=private)
        task = await self.bot.services.labs.start(interaction.user.id, exercise)
        embeds, view = task_message(interaction.user.id, task)
        batches = embed_batches(embeds)
        await interaction.edit_original_response(embeds=batches[0], view=view)
        for batch in batches[1:]:
            await interaction.followup.send(embeds=batch, ephemeral=private)
