"""A dispatcher in a process of its own, for the kill -9 test (and anyone curious).

    python -m tests.scheduler.worker DATABASE_URL API_URL TOKEN [--lease S] [--rate N] [--until N]

It logs in over REST only (no gateway: sending needs none), sends what is due, and exits 0
once nothing is pending (with `--until N`: once it has sent N messages itself), printing how
many messages it sent itself (`sent N`). On PostgreSQL it prints `listening` once other
processes' rows can wake it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path

import discord
import discord.http

from bot.config import default_course_dir
from bot.delivery import DiscordSender, Dispatcher, Renderers
from bot.delivery.dispatcher import Delivery
from bot.services import Services
from bot.services.outbox import PENDING
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.fake_discord import FakeDiscord
from tests.scheduler.helpers import count_rows

ROOT = Path(__file__).resolve().parents[2]


async def spawn(
    database_url: str, fake: FakeDiscord, *, lease: float, rate: float, until: int = 0
) -> asyncio.subprocess.Process:
    """Start a worker process against `fake`; read its output with `communicate()`."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.scheduler.worker", database_url, fake.api_url),
        *(fake.token, "--lease", str(lease), "--rate", str(rate), "--until", str(until)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


class CountingSender(DiscordSender):
    sent = 0

    async def send_dm(self, user_id: int, delivery: Delivery) -> None:
        await super().send_dm(user_id, delivery)
        self.sent += 1


async def finished(sender: CountingSender, services: Services, until: int) -> bool:
    if until:
        return sender.sent >= until
    return not await count_rows(services, PENDING)


async def work(url: str, api_url: str, token: str, lease: float, rate: float, until: int) -> None:
    discord.http.Route.BASE = api_url
    engine = create_engine(url)
    services = Services(
        sessions=create_sessionmaker(engine), courses=CourseStore(default_course_dir())
    )
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        sender = CountingSender(client, Renderers())
        dispatcher = Dispatcher(
            services.outbox, sender, send_rate=rate, lease=timedelta(seconds=lease)
        )
        dispatcher.start()
        print("started", flush=True)
        if dispatcher.wakeups is not None:
            await asyncio.wait_for(dispatcher.wakeups.listening.wait(), 10)
            print("listening", flush=True)
        while True:
            if await finished(sender, services, until):
                break
            await asyncio.sleep(0.05)
        await dispatcher.stop()
        print(f"sent {sender.sent}", flush=True)
    finally:
        await client.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("api_url")
    parser.add_argument("token")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--until", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(work(args.url, args.api_url, args.token, args.lease, args.rate, args.until))


if __name__ == "__main__":
    main()
