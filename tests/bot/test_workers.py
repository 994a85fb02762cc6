"""Several workers: each runs its own shards; on SQLite only one process dispatches the outbox.

(Two worker processes sharing one outbox on PostgreSQL: tests/scheduler/test_two_workers.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import discord
import pytest

from bot.app import App, may_dispatch, warn_about_send_rate
from bot.bot import TutorBot
from bot.config import Settings, load_settings
from tests.fake_discord import FakeDiscord, FakeGuild, FakeUser

ROOT = Path(__file__).resolve().parents[2]


def guild_on_shard(shard: int, count: int) -> FakeGuild:
    """A guild Discord routes to `shard` of `count`: (guild_id >> 22) % count."""
    return FakeGuild(id=((1_000_000 * count + shard) << 22) + 1, name=f"guild of shard {shard}")


async def test_each_worker_gets_only_the_events_of_its_own_shards(app: App) -> None:
    guilds = [guild_on_shard(0, 2), guild_on_shard(1, 2)]
    learner = FakeUser(username="learner")
    heard: list[list[int | None]] = [[], []]
    async with FakeDiscord(guilds=guilds, users=[learner]) as fake:
        workers = [
            TutorBot(app.services, shard_count=2, shard_ids=[shard], dispatch=False)
            for shard in (0, 1)
        ]
        for worker, log in zip(workers, heard, strict=True):
            worker.add_listener(record_guild(log), "on_interaction")
        async with contextlib.AsyncExitStack() as stack:
            for worker in workers:
                await stack.enter_async_context(fake.running(worker))
            await workers[0].tree.sync()
            assert [[g.id for g in w.guilds] for w in workers] == [[guilds[0].id], [guilds[1].id]]
            for guild in guilds:
                answer = await fake.slash("about", user=learner, guild_id=guild.id)
                assert answer.embeds[0]["title"] == "Docker in Depth"
            answer = await fake.slash("about", user=learner, dm=True)
            assert answer.embeds[0]["title"] == "Docker in Depth"
    assert heard == [[guilds[0].id, None], [guilds[1].id]]  # DMs go to shard 0


def record_guild(log: list[int | None]) -> Callable[[discord.Interaction], Awaitable[None]]:
    async def on_interaction(interaction: discord.Interaction) -> None:
        log.append(interaction.guild_id)

    return on_interaction


async def test_a_worker_told_not_to_dispatch_never_starts_its_dispatcher(app: App) -> None:
    async with FakeDiscord() as fake:
        bots = [TutorBot(app.services, dispatch=dispatch) for dispatch in (True, False)]
        for bot in bots:
            async with fake.running(bot):
                await asyncio.sleep(0)
                running = bot.dispatcher.running
            assert running is bot.dispatch_outbox


@contextlib.asynccontextmanager
async def process_holding_the_lock(database: Path) -> AsyncIterator[int]:
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, time; from pathlib import Path\n"
        "from storage.dispatch_lock import hold_dispatch_lock\n"
        "with hold_dispatch_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(60)\n",
        str(database),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        yield holder.pid
    finally:
        holder.kill()
        await holder.wait()


async def test_on_sqlite_a_second_process_refuses_to_dispatch_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path, discord_token="t")
    database = tmp_path.resolve() / "tutor.db"
    async with process_holding_the_lock(database) as pid:
        with contextlib.ExitStack() as stack:
            assert may_dispatch(settings, stack) is False
    assert (
        f"Another tutorbot process {pid} already sends the reminders of the SQLite database "
        f"{database}, so this one will not" in caplog.text
    )
    assert "move to PostgreSQL to run several workers" in caplog.text
    with contextlib.ExitStack() as stack:  # the holder is gone: the lock went with it
        assert may_dispatch(settings, stack) is True
        with contextlib.ExitStack() as second:
            assert may_dispatch(settings, second) is False  # held by this process now


def test_on_postgresql_every_worker_dispatches(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://tutor@127.0.0.1:1/tutor"
    )
    with contextlib.ExitStack() as stack:
        assert may_dispatch(settings, stack) and may_dispatch(settings, stack)


@pytest.mark.parametrize(("rate", "warned"), [(25.0, False), (26.0, True)])
def test_workers_that_together_exceed_discords_rate_are_warned_about(
    rate: float, warned: bool, caplog: pytest.LogCaptureFixture, settings: Settings
) -> None:
    two_workers = settings.model_copy(
        update={"shard_count": 4, "shard_ids": (0, 1), "outbox_send_rate": rate}
    )
    assert two_workers.workers == 2
    warn_about_send_rate(two_workers)
    assert ("exceed Discord's 50 requests a second" in caplog.text) is warned
