"""The discord.py Bot, assembled by bot.app with everything it needs already built."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.exts import walk_extensions
from bot.health import clear_heartbeat, write_heartbeat
from bot.services import Services
from bot.ui.embeds import ERROR_COLOUR

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
DRAIN_SECONDS = 10.0
# Names discord.py gives the tasks that run slash commands, buttons and modals.
_WORK_TASK_PREFIXES = ("CommandTree-invoker", "discord-ui-view-dispatch", "discord-ui-modal")


class TutorTree(app_commands.CommandTree["TutorBot"]):
    """One error handler for every command, and a polite refusal while shutting down."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self.client.draining:
            await _reply(interaction, "The tutor is restarting. Please try again in a minute.")
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the learner what went wrong: their mistake in plain words, ours with an id to quote."""
    original = getattr(error, "original", error)
    if isinstance(original, UserError):
        await _reply(interaction, str(original))
        return
    if isinstance(original, app_commands.CheckFailure | app_commands.TransformerError):
        await _reply(interaction, str(original) or "You can't use this here.")
        return
    error_id = uuid.uuid4().hex[:8]
    command = interaction.command.qualified_name if interaction.command else "component"
    log.error("error %s in %s (user %s)", error_id, command, interaction.user.id, exc_info=original)
    await _reply(
        interaction,
        f"Something went wrong on our side. Nothing you did was lost. "
        f"If it keeps happening, tell the moderators this error id: `{error_id}`.",
    )


async def _reply(interaction: discord.Interaction, text: str) -> None:
    embed = discord.Embed(description=text, colour=ERROR_COLOUR)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about an error", interaction.user.id, exc_info=True)


class TutorBot(commands.Bot):
    def __init__(self, services: Services, *, health_file: Path | None = None) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=TutorTree,
            help_command=None,
        )
        self.services = services
        self.draining = False
        self._health_file = health_file
        self._heartbeat_task: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        for name in walk_extensions():
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        if self._health_file is not None:
            self._heartbeat_task = asyncio.create_task(self._beat(), name="tutor-heartbeat")

    async def on_ready(self) -> None:
        log.info("connected as %s", self.user)
        await self._write_heartbeat()

    async def _beat(self) -> None:
        while True:
            await self._write_heartbeat()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _write_heartbeat(self) -> None:
        if self._health_file is None:
            return
        ready = self.is_ready() and not self.is_closed()
        latency = self.latency if ready else None
        await asyncio.to_thread(write_heartbeat, self._health_file, ready=ready, latency=latency)

    async def drain(self, grace: float = DRAIN_SECONDS) -> int:
        """Refuse new work and wait for commands and button presses already running.

        Returns how many were still running when the timeout ran out.
        """
        self.draining = True
        current = asyncio.current_task()
        running = [
            task
            for task in asyncio.all_tasks()
            if task is not current and task.get_name().startswith(_WORK_TASK_PREFIXES)
        ]
        if not running:
            return 0
        log.info("waiting for %d interaction(s) to finish", len(running))
        _done, pending = await asyncio.wait(running, timeout=grace)
        return len(pending)

    async def close(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None
        if self._health_file is not None:
            clear_heartbeat(self._health_file)
        await super().close()
