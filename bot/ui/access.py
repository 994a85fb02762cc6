"""Who is asking, for features whose buttons many members press (groups and the drill).

The buttons themselves build on bot.ui.items.SharedItem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.errors import UserError
from bot.services.moderators import Member

if TYPE_CHECKING:
    from bot.bot import TutorBot

NOBODY = discord.AllowedMentions.none()


def server_of(interaction: discord.Interaction[TutorBot]) -> int:
    if interaction.guild_id is None:
        raise UserError("This works in a server, not in direct messages.")
    return interaction.guild_id


def asking_member(interaction: discord.Interaction[TutorBot]) -> Member:
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
