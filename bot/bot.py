"""The discord.py Bot, assembled by bot.app with everything it needs already built."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import OUTBOX_SEND_RATE
from bot.delivery import DiscordSender, Dispatcher, Renderers
from bot.exts import walk_extensions
from bot.health import clear_heartbeat, write_heartbeat
from bot.metrics import OK, REFUSED, Metrics
from bot.metrics.interactions import finished, started
from bot.services import Services
from bot.ui.errors import RESTARTING, admitted, reply_error, report_error

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
DRAIN_SECONDS = 10.0
# Names discord.py gives the tasks that run slash commands, buttons and modals.
_WORK_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-dynamic-item",
    "discord-ui-modal",
)


class TutorTree(app_commands.CommandTree["TutorBot"]):
    """One error handler for every command, and a polite refusal while shutting down."""

    async def interaction_check(self, interaction: discord.Interaction[TutorBot]) -> bool:
        started(interaction)
        return await admitted(interaction, self._admit(interaction))

    async def _admit(self, interaction: discord.Interaction[TutorBot]) -> bool:
        if self.client.draining:
            await reply_error(interaction, RESTARTING)
            finished(interaction, REFUSED)
            return False
        if interaction.type is discord.InteractionType.autocomplete:
            return True  # suggestions while someone types: no bookkeeping per keystroke
        # Reminders that could not reach this learner: say so after the command has answered.
        notice = await self.client.services.outbox.unreachable_notice(interaction.user.id)
        await self.client.note_dms_used(interaction)
        if notice:
            interaction.extras["unreachable_notice"] = notice
        return True

    async def on_error(
        self, interaction: discord.Interaction[TutorBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class TutorBot(commands.AutoShardedBot):
    """One worker of the bot: the shards `shard_ids` of `shard_count` (all of them by default,
    as many as Discord recommends), and, when `dispatch` is true, an outbox dispatcher."""

    def __init__(
        self,
        services: Services,
        *,
        health_file: Path | None = None,
        outbox_send_rate: float = OUTBOX_SEND_RATE,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
        dispatch: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(
            # None (all shards) is discord.py's own default, though its annotation omits it
            shard_ids=None if shard_ids is None else list(shard_ids),  # type: ignore[arg-type]
            shard_count=shard_count,
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=TutorTree,
            help_command=None,
        )
        self.services = services
        self.started_at = services.clock()  # for /admin status: this process's uptime
        self.draining = False
        self.dispatch_outbox = dispatch
        self._health_file = health_file
        self._heartbeat_task: asyncio.Task[None] | None = None
        # Features register how their outbox kinds look (see bot.delivery); the dispatcher
        # starts once connected (never for `tutorbot sync`, which only logs in).
        self.outbox_renderers = Renderers()
        # This bot's own registry (bot.metrics); /metrics is served by bot.app while it runs.
        self.metrics = metrics or Metrics()
        self.metrics.watch(self.gateway_latencies, services.outbox)
        services.labs.job_observer = self.metrics.lab_job
        self.dispatcher = Dispatcher(
            services.outbox,
            DiscordSender(self, self.outbox_renderers),
            send_rate=outbox_send_rate,
            observer=self.metrics,
        )

    async def setup_hook(self) -> None:
        for name in walk_extensions():
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        if self._health_file is not None:
            self._heartbeat_task = asyncio.create_task(self._beat(), name="tutor-heartbeat")

    async def note_dms_used(self, interaction: discord.Interaction[TutorBot]) -> None:
        """A learner who reaches us in DMs (a command or a button): try their DMs again.
        In a server: note that they learn there (its /server stats counts them)."""
        if interaction.guild is None:
            await self.services.outbox.dms_open_again(interaction.user.id)
        elif interaction.guild_id is not None:
            try:  # bookkeeping (at most once an hour): never what fails a learner's command
                await self.services.server_learners.note(interaction.user.id, interaction.guild_id)
            except Exception:
                log.exception(
                    "could not note user %s in guild %s", interaction.user.id, interaction.guild_id
                )

    async def on_app_command_completion(
        self, interaction: discord.Interaction[TutorBot], _command: object
    ) -> None:
        finished(interaction, OK)
        notice = interaction.extras.get("unreachable_notice")
        if notice and interaction.response.is_done():
            await interaction.followup.send(notice, ephemeral=True)

    def gateway_latencies(self) -> list[tuple[int, float]]:
        """(shard id, seconds between heartbeat and acknowledgement) of each connected shard."""
        return [
            (shard_id, shard.latency)
            for shard_id, shard in self.shards.items()
            if not shard.is_closed()
        ]

    async def on_ready(self) -> None:
        shards = ",".join(str(i) for i in sorted(self.shards))
        log.info("connected as %s (shards %s of %s)", self.user, shards, self.shard_count)
        if self.dispatch_outbox:
            self.dispatcher.start()
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
        await self.dispatcher.stop()
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None
        if self._health_file is not None:
            clear_heartbeat(self._health_file)
        await super().close()
