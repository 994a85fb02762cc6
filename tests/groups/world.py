"""Two servers, their members and the real bot, on the loopback Discord and a clock we own.

Services get the test's clock, and so does the bot's outbox dispatcher and the group quiz
timers: they "sleep" on it, so a test moves time with `clock.advance(...)` and nothing ever
waits for real seconds (only a few milliseconds while the bot notices).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bot import TutorBot
from bot.delivery import DiscordSender, Dispatcher
from bot.services import Services
from content.store import CourseStore
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
from tests.groups.support import Clock

NOBODY = {"parse": []}


class BotClock(Clock):
    """The services' clock, which the bot's timers sleep on.

    A sleeper wakes when its time has come on this clock, and anyway after a few real
    milliseconds, like a timer after the wall clock jumped: it looks again at what is due
    (the dispatcher starts a round; a quiz timer whose deadline has not come sleeps on).
    """

    async def sleep(self, seconds: float) -> None:
        target = self.now + timedelta(seconds=seconds)
        for _nap in range(10):
            if self.now >= target:
                return
            await asyncio.sleep(0.005)


@dataclass
class Server:
    guild: FakeGuild
    owner: FakeUser
    general: FakeChannel
    home: FakeChannel  # groups' threads and the drill go here

    @property
    def id(self) -> int:
        return self.guild.id


@dataclass
class World:
    fake: FakeDiscord
    services: Services
    clock: BotClock
    a: Server
    b: Server
    mod: FakeUser  # has server A's moderator role, not Manage Server
    mod_role: FakeRole
    ana: FakeUser
    ben: FakeUser
    cat: FakeUser
    dan: FakeUser  # a learner who is only ever in server B
    stranger: FakeUser  # never ran /start
    bots: list[TutorBot] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TutorBot]:
        """A bot process; leaving the block stops it (a restart is two blocks in a row)."""
        bot = TutorBot(self.services)
        bot.dispatcher = Dispatcher(
            self.services.outbox,
            DiscordSender(bot, bot.outbox_renderers),
            send_rate=1000.0,
            sleep=self.clock.sleep,
        )
        async with self.fake.running(bot):
            if not self.bots:
                await bot.tree.sync()
            conductor = bot.get_cog("Groups").conductor  # type: ignore[union-attr]
            conductor.sleep = self.clock.sleep
            self.bots.append(bot)
            yield bot

    async def slash(self, name: str, options: dict[str, Any] | None = None, **kw: Any) -> Any:
        result = await self.fake.slash(name, options or {}, **kw)
        await result.wait(lambda r: bool(r.content or r.embeds or r.followups))
        assert result.rejections == [], result.rejections
        return result

    def text(self, result: Any) -> str:
        """What an answer says, wherever it put it (content, embed, or a followup)."""
        parts = [result.content or ""]
        parts += [e.get("description") or "" for e in result.embeds]
        for followup in result.followups:
            parts.append(followup.get("content") or "")
            parts += [e.get("description") or "" for e in followup.get("embeds", [])]
        return "\n".join(p for p in parts if p)


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Poll a condition (sync or async) in real time; the value it became true with."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.01)


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [
        c["custom_id"]
        for row in message.get("components", [])
        for c in row.get("components", [])
        if "custom_id" in c
    ]


def build_world(
    sessions: async_sessionmaker[AsyncSession],
    courses: CourseStore,
    *,
    bot_permissions: int = BOT_PERMISSIONS,
    everyone_permissions: int = EVERYONE_PERMISSIONS,
) -> tuple[FakeDiscord, World]:
    clock = BotClock()
    services = Services(sessions=sessions, courses=courses, clock=clock)
    names = ("owner_a", "owner_b", "mod", "ana", "ben", "cat", "dan", "stranger")
    users = {name: FakeUser(username=name) for name in names}
    mod_role = FakeRole(name="Tutors", permissions=0)
    servers = []
    for tag, extra in (("a", [FakeMember(users["mod"], roles=[mod_role.id])]), ("b", [])):
        general, home = FakeChannel(name="general"), FakeChannel(name="study")
        guild = FakeGuild(
            name=f"Server {tag.upper()}",
            channels=[general, home],
            roles=[mod_role] if tag == "a" else [],
            members=extra,
            owner_id=users[f"owner_{tag}"].id,
            everyone_permissions=everyone_permissions,
        )
        servers.append(Server(guild, users[f"owner_{tag}"], general, home))
    fake = FakeDiscord(
        guilds=[s.guild for s in servers],
        users=list(users.values()),
        bot_permissions=bot_permissions,
    )
    world = World(
        fake, services, clock, servers[0], servers[1], users["mod"], mod_role,
        users["ana"], users["ben"], users["cat"], users["dan"], users["stranger"],
    )  # fmt: skip
    return fake, world


async def enrol(world: World) -> None:
    """Everyone but the stranger has run /start (through the services: it is not under test)."""
    await world.services.learners.start(
        world.a.owner.id, track="complete", time_zone="Europe/Berlin"
    )
    for user in (world.b.owner, world.mod, world.ana, world.ben, world.cat, world.dan):
        await world.services.learners.start(user.id, track="complete")


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], course_store: CourseStore
) -> AsyncIterator[World]:
    fake, world = build_world(sessions, course_store)
    await world.services.drills.set_moderator_role(world.a.id, world.mod_role.id)
    await enrol(world)
    async with fake:
        yield world
