"""Who is asking, for features whose buttons many members press (groups and the drill).

OwnedItem (bot.ui.items) serves buttons that belong to one learner; a group's Join button or
a drill's answer buttons belong to everyone in the server, so they only share the rest: the
polite refusal while restarting, and errors that reach the member who pressed.
"""

from __future__ import annotations

import discord

from bot.errors import UserError
from bot.services.moderators import Member
from bot.ui.errors import RESTARTING, reply_error, report_error

NOBODY = discord.AllowedMentions.none()


def server_of(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserError("This works in a server, not in direct messages.")
    return interaction.guild_id


def asking_member(interaction: discord.Interaction) -> Member:
    """The facts a moderator check needs: Manage Server and the member's roles."""
    roles = getattr(interaction.user, "roles", ())
    return Member.of(
        interaction.user.id,
        manage_guild=interaction.permissions.manage_guild,
        role_ids=(role.id for role in roles),
    )


def only(user_id: int) -> discord.AllowedMentions:
    """Mentions that ping this one user and nobody else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=user_id)], replied_user=False
    )


class SharedItem:
    """Mixin for a DynamicItem anyone in the server may press."""

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
