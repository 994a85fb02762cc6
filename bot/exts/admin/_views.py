"""The status and reload answers as embeds, and what only discord.py knows about the process."""

from __future__ import annotations

import math

import discord

from bot.bot import TutorBot
from bot.services.status import ProcessFacts, Reload, ShardLatency, Status
from bot.ui.embeds import BRAND_COLOUR, ERROR_COLOUR, fit


def process_facts(bot: TutorBot) -> ProcessFacts:
    """Uptime, shards and dispatcher of this worker process."""
    shards = tuple(
        # inf before the first heartbeat is answered, nan with no connection
        ShardLatency(shard_id, seconds if math.isfinite(seconds) else None)
        for shard_id, seconds in sorted(bot.latencies)  # the shards this process launched
    )
    return ProcessFacts(
        started_at=bot.started_at,
        shards=shards,
        shard_count=bot.shard_count or 1,
        dispatches=bot.dispatch_outbox,
        dispatcher_running=bot.dispatcher.running,
    )


def status_embed(status: Status) -> discord.Embed:
    embed = discord.Embed(
        title="Bot status",
        description="This worker process; the same for every server.",
        colour=BRAND_COLOUR,
        timestamp=status.checked_at,
    )
    for name, text in status.fields():
        embed.add_field(name=name, value=fit(text, 1024), inline=False)
    return embed


def reload_embed(result: Reload) -> discord.Embed:
    return discord.Embed(
        title="Course reloaded" if result.applied else "Course reload refused",
        description=fit(result.text(), 4096),
        colour=BRAND_COLOUR if result.applied else ERROR_COLOUR,
    )
