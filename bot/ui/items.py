"""Persistent buttons and selects that belong to one learner and survive restarts.

Each concrete item is a discord.py DynamicItem whose custom_id carries everything it needs
(`read:<owner>:<part>:next`), so a press after a restart is handled like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord

from bot.ui.errors import RESTARTING, reply_error, report_error

if TYPE_CHECKING:
    from bot.services import Services

NOT_YOURS = (
    "These buttons belong to someone else's lesson. Use `/read`, `/quiz` or `/interview` "
    "to get your own."
)


def services_of(interaction: discord.Interaction) -> Services:
    # (type: ignore on the next line) the client is always a TutorBot
    return cast("Services", interaction.client.services)  # type: ignore[attr-defined]


class SharedItem:
    """Mixin for a DynamicItem anyone may press (a group's Join button, a drill's answers):
    a polite refusal while restarting, and errors that reach the member who pressed."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if getattr(interaction.client, "draining", False):
            await reply_error(interaction, RESTARTING)
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class OwnedItem(SharedItem):
    """Mixin for a DynamicItem that belongs to one learner: only its owner may press it."""

    owner_id: int

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return await super().interaction_check(interaction)


def in_server(interaction: discord.Interaction) -> bool:
    """Lessons are private (ephemeral) in a server and plain messages in DMs."""
    return interaction.guild is not None
