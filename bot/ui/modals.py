"""The base of the bot's modals: each submission is counted (bot.metrics) and its errors take
the one error path (bot.ui.errors), like commands and persistent items.

While the bot restarts, a submission is refused like a command, but what the learner typed
comes back as files: a modal's text is lost once it is answered, and it may be a whole
Dockerfile."""

from __future__ import annotations

import io
import re

import discord

from bot.bot import TutorBot
from bot.metrics import OK, REFUSED
from bot.metrics.interactions import feature_of, finished, started
from bot.ui.errors import RESTARTING, reply_error, report_error
from bot.ui.items import as_tutor

GIVEN_BACK = "What you typed is attached, so you can paste it again."


class TutorModal(discord.ui.Modal):
    """Subclasses write `submit`; discord.py calls interaction_check, on_submit, on_error."""

    async def submit(self, interaction: discord.Interaction[TutorBot]) -> None:
        raise NotImplementedError

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        tutor = as_tutor(interaction)
        started(tutor, feature_of(type(self)))
        if not tutor.client.draining:
            return True
        await reply_error(tutor, f"{RESTARTING}\n{GIVEN_BACK}", self.typed_files())
        finished(tutor, REFUSED)
        return False

    def typed_files(self) -> list[discord.File]:
        """Each filled-in text field as a text file named after its field."""
        return [
            discord.File(io.BytesIO(field.value.encode()), filename=f"{_file_stem(field)}.txt")
            for field in self.children
            if isinstance(field, discord.ui.TextInput) and field.value
        ]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        tutor = as_tutor(interaction)
        await self.submit(tutor)
        finished(tutor, OK)

    async def on_error(  # type: ignore[override]  # Modal's on_error takes no item
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await report_error(as_tutor(interaction), error)


def _file_stem(field: discord.ui.TextInput[TutorModal]) -> str:
    """`file:.dockerignore` → `dockerignore`: the submitted file's name, one every client saves."""
    name = field.custom_id.removeprefix("file:")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "text"
