"""The bot owns one dispatcher: started once connected, stopped on close, never for `sync`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App, build_bot
from bot.config import load_settings
from bot.services import Services
from content.store import CourseStore
from tests.fake_discord import FakeDiscord
from tests.scheduler.helpers import learner_ids


async def test_the_dispatcher_runs_only_while_the_bot_is_connected(
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    courses: CourseStore,
    tmp_path: Path,
) -> None:
    settings = load_settings(
        database_url=database_url, data_dir=tmp_path, discord_token="t", outbox_send_rate=5
    )
    app = App(settings, engine, Services(sessions=sessions, courses=courses))
    async with FakeDiscord(token="t") as fake:
        syncing = build_bot(app, heartbeat=False)
        assert syncing.dispatcher.pacer.interval == timedelta(seconds=0.2)  # the setting
        with fake.patch_discord():
            async with syncing:  # what `tutorbot sync` does: log in, never connect
                await syncing.login(fake.token)
                assert not syncing.dispatcher.running

        bot = build_bot(app, heartbeat=False)
        async with fake.running(bot):
            assert bot.dispatcher.running
            await app.services.learners.start(fake.user.id)
            (learner,) = await learner_ids(app.services, [fake.user])
            await app.services.outbox.enqueue(
                "reminder",
                due_at=datetime.now(UTC),
                payload={"content": "Real time, real clock"},
                learner_id=learner,
            )
            message = await fake.wait_for_message(
                lambda m: m["content"] == "Real time, real clock",
                channel_id=fake.dm_channel_id(fake.user),
            )
            assert message["nonce"]
        assert not bot.dispatcher.running
