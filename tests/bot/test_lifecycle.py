"""Errors, shutdown and syncing, on the real bot through the loopback Discord."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from pydantic import SecretStr

from bot.app import StartupError, run_bot, sync_commands
from bot.bot import TutorBot
from bot.config import Settings
from bot.errors import UserError
from bot.health import check_heartbeat
from tests.fake_discord import FakeDiscord


class Probe(commands.Cog):
    """Commands that fail, or wait, on purpose."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    @app_commands.command(name="mistake", description="fails with a user error")
    async def mistake(self, interaction: discord.Interaction) -> None:
        raise UserError("Part 42 does not exist. The course has parts 0 to 20.")

    @app_commands.command(name="crash", description="fails with a bug")
    async def crash(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    @app_commands.command(name="slow", description="answers when released")
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        self.started.set()
        await self.release.wait()
        await interaction.followup.send("done", ephemeral=True)


@pytest.fixture
async def probe(tutor: TutorBot) -> Probe:
    cog = Probe()
    await tutor.add_cog(cog)
    await tutor.tree.sync()
    return cog


async def test_user_error_is_shown_plainly(probe: Probe, fake: FakeDiscord) -> None:
    result = await fake.slash("mistake")
    assert result.ephemeral
    assert "Part 42 does not exist" in result.embeds[0]["description"]


async def test_unexpected_error_is_logged_with_the_id_the_learner_sees(
    probe: Probe, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        result = await fake.slash("crash")
    shown = result.embeds[0]["description"]
    error_id = re.search(r"error id: `([0-9a-f]{8})`", shown)
    assert error_id, shown
    assert "boom" not in shown
    (record,) = [r for r in caplog.records if error_id.group(1) in r.getMessage()]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


async def test_drain_finishes_running_work_and_refuses_new(
    tutor: TutorBot, probe: Probe, fake: FakeDiscord
) -> None:
    slow = asyncio.create_task(fake.slash("slow"))
    await asyncio.wait_for(probe.started.wait(), 5)
    drain = asyncio.create_task(tutor.drain(grace=5))
    await asyncio.sleep(0.05)
    refused = await fake.slash("about")
    assert "restarting" in refused.embeds[0]["description"]
    assert not drain.done()
    probe.release.set()
    assert await drain == 0
    result = await slow
    await result.wait(lambda r: r.content == "done", timeout=5)


async def test_heartbeat_says_healthy_while_connected(tutor: TutorBot, settings: Settings) -> None:
    for _ in range(100):
        if check_heartbeat(settings.health_file, max_age=60) is None:
            break
        await asyncio.sleep(0.02)
    assert check_heartbeat(settings.health_file, max_age=60) is None


async def test_run_bot_stops_cleanly_on_sigterm(
    settings: Settings, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    """The production entry point: start, serve, SIGTERM, close everything, forget the token."""
    caplog.set_level(logging.DEBUG)
    with fake.patch_discord():
        assert "Synced" in await sync_commands(settings, None)
        runner = asyncio.create_task(run_bot(settings))
        for _ in range(500):
            if fake.connected_clients:
                break
            await asyncio.sleep(0.01)
        assert fake.connected_clients
        result = await fake.slash("about")
        assert result.embeds[0]["title"] == "Docker in Depth"
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(runner, 10)
    assert not settings.health_file.exists()
    assert "stopped cleanly" in caplog.text
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() not in caplog.text


async def test_sync_to_a_guild_copies_the_commands_there(
    settings: Settings, fake: FakeDiscord
) -> None:
    with fake.patch_discord():
        message = await sync_commands(settings, fake.guild.id)
    names = [c["name"] for c in fake.commands(fake.guild.id)]
    assert message == f"Synced {len(names)} commands to guild {fake.guild.id}."
    assert "about" in names
    assert fake.commands(None) == []


async def test_a_rejected_token_is_a_clear_startup_error(
    settings: Settings, fake: FakeDiscord
) -> None:
    bad = settings.model_copy(update={"discord_token": SecretStr("wrong-token")})
    with fake.patch_discord(), pytest.raises(StartupError, match="rejected the token"):
        await run_bot(bad)
