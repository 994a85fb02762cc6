"""Persistent buttons and selects that belong to one learner and survive restarts.

Each concrete item is a discord.py DynamicItem whose custom_id carries everything it needs
(`read:<owner>:<part>:next`), so a press after a restart is handled like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

import discord

from bot.bot import TutorBot
from bot.ui.errors import RESTARTING, reply_error, report_error

if TYPE_CHECKING:
    from bot.services import Services

NOT_YOURS = (
    "These buttons belong to someone else's lesson. Use `/read`, `/quiz` or `/interview` "
    "to get your own."
)


def services_of(interaction: discord.Interaction[TutorBot]) -> Services:
    return interaction.client.services


def as_tutor(interaction: discord.Interaction) -> discord.Interaction[TutorBot]:
    """The interaction typed for this bot. discord.py's own hooks (an item's from_custom_id,
    interaction_check and callback, a modal's on_submit) are generic in the client, so an
    override cannot narrow their `discord.Interaction`; this does, checked: here the client is
    always a TutorBot."""
    if _from_tutor(interaction):
        return interaction
    raise TypeError(f"an interaction of a {type(interaction.client).__name__}, not a TutorBot")


def _from_tutor(interaction: discord.Interaction) -> TypeGuard[discord.Interaction[TutorBot]]:
    return isinstance(interaction.client, TutorBot)


class SharedItem:
    """Mixin for a DynamicItem anyone may press (a group's Join button, a drill's answers):
    a polite refusal while restarting, a press in DMs that opens DMs again, and errors that
    reach the member who pressed.

    discord.py calls interaction_check and callback; subclasses write allowed and run."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await self.allowed(as_tutor(interaction))

    async def callback(self, interaction: discord.Interaction) -> None:
        tutor = as_tutor(interaction)
        try:
            await self.run(tutor)
        except Exception as exc:
            await report_error(tutor, exc)

    async def allowed(self, interaction: discord.Interaction[TutorBot]) -> bool:
        if interaction.client.draining:
            await reply_error(interaction, RESTARTING)
            return False
        await interaction.client.note_dms_used(interaction)
        return True

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        raise NotImplementedError


class OwnedItem(SharedItem):
    """Mixin for a DynamicItem that belongs to one learner: only its owner may press it."""

    owner_id: int

    async def allowed(self, interaction: discord.Interaction[TutorBot]) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return await super().allowed(interaction)


def in_server(interaction: discord.Interaction[TutorBot]) -> bool:
    """Lessons are private (ephemeral) in a server and plain messages in DMs."""
    return interaction.guild is not None
