"""Telling a learner that something failed: their mistake in plain words, ours with an id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import UserError
from bot.metrics import ERROR, REFUSED
from bot.metrics.interactions import finished
from bot.ui.embeds import ERROR_COLOUR

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger("bot.bot")

RESTARTING = "The tutor is restarting. Please try again in a minute."


async def report_error(interaction: discord.Interaction[TutorBot], error: BaseException) -> None:
    """Tell the learner what went wrong: their mistake in plain words, ours with an id to quote."""
    original = getattr(error, "original", error)
    if isinstance(original, UserError):
        await reply_error(interaction, str(original))
        finished(interaction, REFUSED)
        return
    if isinstance(original, app_commands.CheckFailure | app_commands.TransformerError):
        await reply_error(interaction, str(original) or "You can't use this here.")
        finished(interaction, REFUSED)
        return
    error_id = uuid.uuid4().hex[:8]
    command = interaction.command.qualified_name if interaction.command else "component"
    log.error("error %s in %s (user %s)", error_id, command, interaction.user.id, exc_info=original)
    await reply_error(
        interaction,
        f"Something went wrong on our side. Nothing you did was lost. "
        f"If it keeps happening, tell the moderators this error id: `{error_id}`.",
    )
    finished(interaction, ERROR)


async def admitted(interaction: discord.Interaction[TutorBot], check: Awaitable[bool]) -> bool:
    """The verdict of an interaction check. discord.py only logs an exception raised in one,
    and the learner sees "The application did not respond": here it takes the error path, and
    the interaction goes no further."""
    try:
        return await check
    except Exception as exc:
        await report_error(interaction, exc)
        return False


async def reply_error(
    interaction: discord.Interaction[TutorBot], text: str, files: Sequence[discord.File] = ()
) -> None:
    if interaction.type is discord.InteractionType.autocomplete:
        return  # suggestions cannot be answered with a message: the list stays empty
    embed = discord.Embed(description=text, colour=ERROR_COLOUR)
    attached = list(files) or discord.utils.MISSING  # no empty attachment list in the request
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, files=attached, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, files=attached, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about an error", interaction.user.id, exc_info=True)
