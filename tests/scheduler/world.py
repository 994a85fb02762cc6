"""A world for the outbox tests: the real bot and its dispatcher against the loopback Discord,
on a clock the test owns, with learners (one whose DMs are closed), a moderator and the owner."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.bot import TutorBot
from bot.delivery import DiscordSender, Dispatcher
from bot.delivery.dispatcher import Delivery
from bot.services import Services
from storage.models import OutboxMessage
from tests.fake_discord import (
    BOT_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)
from tests.scheduler.helpers import VirtualTime, delivered_tags, learner_ids

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value


@dataclass
class Attempt:
    at: datetime
    where: str  # "dm" or "channel"
    target: int
    delivery: Delivery
    error: Exception | None = None


class RecordingSender:
    """Wraps the real DiscordSender; remembers every attempt and when (virtual time) it was."""

    def __init__(self, inner: DiscordSender, clock: VirtualTime) -> None:
        self.inner = inner
        self.clock = clock
        self.attempts: list[Attempt] = []
        self.crash_on_error = False  # make a failed send look like the process died there

    async def _do(self, where: str, target: int, delivery: Delivery, send: Any) -> None:
        attempt = Attempt(self.clock(), where, target, delivery)
        self.attempts.append(attempt)
        try:
            await send(target, delivery)
        except Exception as exc:
            attempt.error = exc
            if self.crash_on_error:
                raise asyncio.CancelledError from exc
            raise

    async def send_dm(self, user_id: int, delivery: Delivery) -> None:
        await self._do("dm", user_id, delivery, self.inner.send_dm)

    async def send_to_channel(self, channel_id: int, delivery: Delivery) -> None:
        await self._do("channel", channel_id, delivery, self.inner.send_to_channel)

    async def tell_moderators(self, guild_id: int, text: str) -> bool:
        return await self.inner.tell_moderators(guild_id, text)


@dataclass
class World:
    """Who is who: learners (one with DMs closed), a moderator, the owner, two channels."""

    fake: FakeDiscord
    bot: TutorBot
    services: Services
    vt: VirtualTime
    sender: RecordingSender
    learners: list[FakeUser]
    closed: FakeUser  # DMs closed
    owner: FakeUser
    moderator: FakeUser
    general: FakeChannel
    reminders: FakeChannel

    @property
    def dispatcher(self) -> Dispatcher:
        return self.bot.dispatcher

    def new_dispatcher(self, **options: Any) -> Dispatcher:
        """A dispatcher like the bot's, on virtual time (a fresh one is a restart)."""
        options.setdefault("send_rate", 1000.0)
        options.setdefault("sleep", self.vt.sleep)
        return Dispatcher(self.services.outbox, self.sender, **options)

    async def replace_dispatcher(self, **options: Any) -> Dispatcher:
        """Stop the bot's dispatcher and start another, made with `options`."""
        await self.bot.dispatcher.stop(grace=0)
        self.bot.dispatcher = self.new_dispatcher(**options)
        self.bot.dispatcher.start()
        return self.bot.dispatcher

    async def learner_id(self, user: FakeUser) -> int:
        (found,) = await learner_ids(self.services, [user])
        return found

    async def remind(self, user: FakeUser, text: str, *, due_in: float = 0, **kw: Any) -> int:
        due = self.vt() + timedelta(seconds=due_in)
        return await self.services.outbox.enqueue(
            kw.pop("kind", "reminder"),
            due_at=due,
            payload={"content": text},
            learner_id=await self.learner_id(user),
            **kw,
        )

    async def row(self, row_id: int) -> OutboxMessage:
        async with self.services.sessions() as session:
            found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found

    def delivered(self) -> Counter[str]:
        return delivered_tags(self.fake, self.learners, [self.general, self.reminders])


@contextlib.asynccontextmanager
async def open_world(
    services: Services,
    vt: VirtualTime,
    *,
    mute: bool = False,
    owner_dms: bool = True,
    system_channel: bool = False,
) -> AsyncIterator[World]:
    """The bot running against a guild; `mute` takes Send Messages away from it there;
    `owner_dms` False closes the owner's DMs; `system_channel` makes #general the guild's."""
    learners = [FakeUser(username=f"learner{i}") for i in range(3)]
    closed = FakeUser(username="closed", accepts_dms=False)
    owner = FakeUser(username="owner", accepts_dms=owner_dms)
    moderator = FakeUser(username="moderator")
    mods = FakeRole(name="Moderators", permissions=MANAGE_GUILD)
    general, reminders = FakeChannel(name="general"), FakeChannel(name="reminders")
    send = SEND_MESSAGES if mute else 0
    guild = FakeGuild(
        channels=[general, reminders],
        roles=[mods],
        members=[FakeMember(moderator, roles=[mods.id])],
        owner_id=owner.id,
        everyone_permissions=EVERYONE_PERMISSIONS & ~send,
        system_channel_id=general.id if system_channel else None,
    )
    users = [*learners, closed, owner, moderator]
    for user in [*learners, closed]:
        await services.learners.start(user.id, guild_id=guild.id)
    async with FakeDiscord(
        guilds=[guild], users=users, bot_permissions=BOT_PERMISSIONS & ~send
    ) as fake:
        bot = TutorBot(services)
        sender = RecordingSender(DiscordSender(bot, bot.outbox_renderers), vt)
        world = World(
            fake, bot, services, vt, sender, [*learners, closed], closed, owner, moderator,
            general, reminders,
        )  # fmt: skip
        bot.dispatcher = world.new_dispatcher()
        async with fake.running(bot):
            yield world
