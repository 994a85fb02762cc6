"""/admin status and /admin reload end to end: the real bot on the loopback Discord."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.bot import TutorBot
from bot.services import Services
from tests.admin.support import break_part_1, no_daemon, shorten_part_1
from tests.fake_discord import FakeDiscord, FakeGuild, FakeUser
from tests.groups.world import World

EPHEMERAL = 64


async def admin(fake: FakeDiscord, command: str, user: Any, **where: Any) -> dict[str, Any]:
    """Run /admin <command>: deferred first, then the answer (or the refusal) follows."""
    result = await fake.slash(f"admin {command}", user=user, **where)
    await result.wait(lambda r: bool(r.followups))
    assert result.rejections == [], result.rejections
    assert result.response_type == 5
    (message,) = result.followups
    assert int(message.get("flags") or 0) & EPHEMERAL
    return message


def fields_of(message: dict[str, Any]) -> dict[str, str]:
    (embed,) = message["embeds"]
    assert embed["title"] == "Bot status"
    return {field["name"]: field["value"] for field in embed["fields"]}


def said(message: dict[str, Any]) -> str:
    (embed,) = message["embeds"]
    return str(embed["description"])


async def read_page(world: World, user: Any, **options: Any) -> Any:
    return await world.slash("read", options, user=user, guild_id=world.a.id)


def footer(result: Any) -> str:
    return str(result.embeds[0]["footer"]["text"])


async def test_the_group_is_shown_to_manage_server_and_works_in_dms(world: World) -> None:
    async with world.running():
        (command,) = [c for c in world.fake.commands() if c["name"] == "admin"]
    assert int(command["default_member_permissions"]) == 1 << 5  # Manage Server
    assert command["dm_permission"] is True  # the owner's place
    assert [option["name"] for option in command["options"]] == ["status", "reload"]


async def test_moderators_and_the_owner_see_the_real_numbers(world: World, tmp_path: Path) -> None:
    host = no_daemon(world.services, tmp_path)
    outbox, clock = world.services.outbox, world.clock
    async with world.running() as bot:
        await bot.dispatcher.stop()  # a stalled dispatcher: what is due stays due
        await outbox.enqueue("digest", due_at=clock() - timedelta(minutes=3), payload={})
        await outbox.enqueue("digest", due_at=clock(), payload={})
        await outbox.enqueue("digest", due_at=clock() + timedelta(hours=1), payload={})
        clock.advance(minutes=10)

        # The moderator role of server A (not Manage Server) is enough there.
        fields = fields_of(await admin(world.fake, "status", world.mod, guild_id=world.a.id))
        assert fields["Process"].startswith("up 10 min (since 2026-03-02 09:00 UTC)")
        assert re.fullmatch(r"shard 0 of 1\nshard 0: \d+ ms", fields["Gateway"]), fields
        assert fields["Outbox"] == (
            "2 due, 3 pending in all\noldest due row: 13 min late\n"
            "dispatcher **stopped**: this worker sends nothing"
        )
        assert "answered in " in fields["Database"]
        assert fields["Graded labs"] == (  # where it is: for the bot's owner only
            "off: no Docker daemon answers at its configured address; `/lab review` works"
        )
        assert fields["Course"].startswith("Docker in Depth (docker) · 21 parts · 0 warnings\n")
        assert "generation 1, loaded at start-up" in fields["Course"]

        # Server B's owner has Manage Server there; the bot's owner may ask in a DM.
        other = fields_of(await admin(world.fake, "status", world.b.owner, guild_id=world.b.id))
        assert other["Outbox"] == fields["Outbox"]  # the bot's, the same for every server
        owner = fields_of(await admin(world.fake, "status", world.a.owner, dm=True))
        assert owner["Outbox"] == fields["Outbox"]
        assert owner["Graded labs"] == (
            f"off: no Docker daemon answers at {host}; `/lab review` works"
        )


async def test_members_without_rights_are_refused(world: World) -> None:
    async with world.running():
        member = await admin(world.fake, "status", world.ben, guild_id=world.a.id)
        assert said(member).startswith("Only the bot's owner and this server's moderators")
        # Server A's moderator role means nothing in server B.
        elsewhere = await admin(world.fake, "status", world.mod, guild_id=world.b.id)
        assert said(elsewhere).startswith("Only the bot's owner and this server's moderators")
        in_dms = await admin(world.fake, "status", world.b.owner, dm=True)
        assert said(in_dms) == "In direct messages only the bot's owner can use `/admin status`."
        for refused in (member, elsewhere, in_dms):
            assert "fields" not in refused["embeds"][0]


async def test_only_the_owner_reloads(world: World, course_dir: Path, tmp_path: Path) -> None:
    no_daemon(world.services, tmp_path)
    shorten_part_1(course_dir)
    async with world.running():
        before = await read_page(world, world.ana, part="1")
        assert footer(before).endswith("1/36 in this part")
        for moderator, where in ((world.mod, world.a.id), (world.b.owner, world.b.id)):
            refused = await admin(world.fake, "reload", moderator, guild_id=where)
            assert said(refused) == (
                "Only the bot's owner can reload the course: it changes the course for every "
                "server."
            )
        assert world.services.courses.generation == 1

        reloaded = await admin(world.fake, "reload", world.a.owner, guild_id=world.a.id)
        (embed,) = reloaded["embeds"]
        assert embed["title"] == "Course reloaded"
        assert embed["description"].startswith("Reloaded this worker's course in ")
        assert "generation **2**, 21 parts, 0 warnings." in embed["description"]
        after = await read_page(world, world.ana, part="1")
        assert footer(after).endswith("1/21 in this part")
        status = fields_of(await admin(world.fake, "status", world.a.owner, dm=True))
        assert "generation 2, reloaded " in status["Course"]


async def test_a_broken_course_is_refused_and_the_old_one_keeps_serving(
    world: World, course_dir: Path
) -> None:
    shorten_part_1(course_dir)
    where = break_part_1(course_dir)
    async with world.running():
        refused = await admin(world.fake, "reload", world.a.owner, dm=True)
        (embed,) = refused["embeds"]
        assert embed["title"] == "Course reload refused"
        assert embed["description"].startswith("The course was **not** reloaded: it has 1 error.")
        assert f"```\n{where}: error: missing id" in embed["description"]
        # The old course still serves: Part 1 as long as before, its question still asked.
        page = await read_page(world, world.ana, part="1")
        assert footer(page).endswith("1/36 in this part")
        quiz = await world.slash("quiz", {"part": "1"}, user=world.ana, guild_id=world.a.id)
        assert "p01-dbg-unshare-fork" in " ".join(
            c["custom_id"]
            for row in quiz.message.get("components", [])
            for c in row.get("components", [])
        )
        assert world.services.courses.generation == 1


async def test_a_learner_mid_article_keeps_reading_after_it_shrinks(
    world: World, course_dir: Path
) -> None:
    """A reading position is a chunk index: past the new end, the learner lands on the last
    chunk, and the buttons of the message they had open keep working."""
    ana = world.ana
    await world.services.reading.jump(ana.id, 1, "Interview Questions")
    async with world.running():
        page = await read_page(world, ana)
        assert footer(page).endswith("31/36 in this part")
        shorten_part_1(course_dir)
        await admin(world.fake, "reload", world.a.owner, dm=True)

        moved = await world.fake.click(page.message, f"read:{ana.id}:1:next", user=ana)
        assert moved.rejections == [] and moved.response_type == 7
        assert footer(moved).endswith("21/21 in this part")
        resumed = await read_page(world, ana)
        assert footer(resumed).endswith("21/21 in this part")
        back = await world.fake.click(resumed.message, f"read:{ana.id}:1:prev", user=ana)
        assert footer(back).endswith("20/21 in this part")


async def test_a_worker_shows_its_own_shards(services: Services, tmp_path: Path) -> None:
    """Shard 1 of 2, and another process sends the outbox (a second worker on SQLite)."""
    no_daemon(services, tmp_path)
    owner = FakeUser(username="owner")
    guild = FakeGuild(id=((1_000_000 * 2 + 1) << 22) + 1, owner_id=owner.id)  # on shard 1 of 2
    async with FakeDiscord(guilds=[guild], users=[owner]) as fake:
        bot = TutorBot(services, shard_count=2, shard_ids=[1], dispatch=False)
        async with fake.running(bot):
            await bot.tree.sync()
            fields = fields_of(await admin(fake, "status", owner, guild_id=guild.id))
    assert re.fullmatch(r"shard 1 of 2\nshard 1: \d+ ms", fields["Gateway"]), fields
    assert fields["Outbox"] == (
        "nothing due\nthis worker does not send the outbox (another process does)"
    )
