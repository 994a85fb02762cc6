"""The base of the bot's modals: each submission is counted (bot.metrics) and its errors take
the one error path (bot.ui.errors), like commands and persistent items."""

from __future__ import annotations

import discord

from bot.bot import TutorBot
from bot.metrics import OK
from bot.metrics.interactions import feature_of, finished, started
from bot.ui.errors import report_error
from bot.ui.items import as_tutor


class TutorModal(discord.ui.Modal):
    """Subclasses write `submit`; discord.py calls interaction_check, on_submit, on_error."""

    async def submit(self, interaction: discord.Interaction[TutorBot]) -> None:
        raise NotImplementedError

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        started(as_tutor(interaction), feature_of(type(self)))
        return True

    async def on_submit(self, interaction: discord.Interaction) -> None:
        tutor = as_tutor(interaction)
        await self.submit(tutor)
        finished(tutor, OK)

    async def on_error(  # type: ignore[override]  # Modal's on_error takes no item
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await report_error(as_tutor(interaction), error)
