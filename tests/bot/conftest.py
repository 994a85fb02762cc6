"""The real bot, built by the production composition root, against the loopback Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, build_bot, open_app
from bot.bot import TutorBot
from bot.config import Settings, load_settings
from tests.fake_discord import FakeDiscord


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url, data_dir=tmp_path / "data", discord_token="fake-bot-token"
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with open_app(settings) as app:
        yield app


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def tutor(app: App, fake: FakeDiscord) -> AsyncIterator[TutorBot]:
    """The running bot, its commands synced globally with the emulator."""
    bot = build_bot(app)
    async with fake.running(bot):
        await bot.tree.sync()
        yield bot
