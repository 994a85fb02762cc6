"""The daily drill end to end: the real bot and outbox dispatcher, two servers, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.outbox import FAILED, SENT
from content.store import CourseStore
from storage.models import DrillAnswer, DrillPost, OutboxMessage
from tests.fake_discord import BOT_PERMISSIONS, EVERYONE_PERMISSIONS
from tests.groups.world import NOBODY, World, build_world, custom_ids, enrol, eventually

SEND = 1 << 11  # Send Messages


def drill_posts(world: World, channel_id: int) -> list[dict[str, Any]]:
    return [m for m in world.fake.messages_in(channel_id) if "Daily drill" in m["content"]]


async def schedule(world: World, user: Any = None, **options: Any) -> Any:
    values = {"channel": world.a.home, "time": "18:00", "timezone": "Europe/Berlin"}
    return await world.slash(
        "drill schedule", {**values, **options}, user=user or world.mod, guild_id=world.a.id
    )


async def posted(world: World, channel_id: int, count: int = 1) -> dict[str, Any]:
    await eventually(lambda: len(drill_posts(world, channel_id)) >= count)
    return drill_posts(world, channel_id)[count - 1]


async def press(world: World, post: dict[str, Any], user: Any, letter: str) -> Any:
    button = next(c for c in custom_ids(post) if c.endswith(f":{letter}"))
    pressed = await world.fake.click(post, button, user=user)
    assert pressed.rejections == []
    return pressed


async def test_only_moderators_schedule_and_the_time_zone_is_checked(world: World) -> None:
    async with world.running():
        refused = await schedule(world, user=world.ana)
        assert "Only moderators" in world.text(refused)
        bad_zone = await schedule(world, timezone="Mars/Olympus")
        assert "not a time zone" in world.text(bad_zone)
        done = await schedule(world, reveal_after=90)
        text = world.text(done)
        assert "**18:00** Europe/Berlin" in text and "1 h 30" in text
        # 2 March 2026, 18:00 in Berlin is 17:00 UTC.
        assert f"<t:{int(datetime(2026, 3, 2, 17, tzinfo=UTC).timestamp())}:F>" in text
        owner = await world.slash("drill pause", user=world.a.owner, guild_id=world.a.id)
        assert "paused" in world.text(owner)  # Manage Server (the owner) may, too
        nosy = await world.slash("drill preview", user=world.ben, guild_id=world.a.id)
        assert "Only moderators" in world.text(nosy)
        stats = await world.slash("drill stats", user=world.ben, guild_id=world.a.id)
        assert "Nobody has answered yet" in stats.embeds[0]["fields"][0]["value"]


async def test_a_restart_between_post_and_reveal(world: World) -> None:
    async with world.running():
        await schedule(world, reveal_after=120)
        world.clock.now = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
        post = await posted(world, world.a.home.id)
        assert post["allowed_mentions"] == NOBODY and len(custom_ids(post)) == 4
        question_title = post["embeds"][0]["title"]
        first = await press(world, post, world.ana, "A")
        assert first.ephemeral
        reveal_ts = int(datetime(2026, 3, 2, 19, 0, tzinfo=UTC).timestamp())
        assert f"Recorded: **A**, revealed at <t:{reveal_ts}:t>" in (first.content or "")
    world.clock.advance(minutes=30)
    async with world.running():  # a new process, the same message and buttons
        changed = await press(world, post, world.ana, "C")
        assert "**C** (instead of A)" in (changed.content or "")
        await press(world, post, world.ben, "C")
        await press(world, post, world.cat, "B")
        world.clock.now = datetime(2026, 3, 2, 19, 0, 1, tzinfo=UTC)
        revealed = await eventually(lambda: _revealed(world, post))
        assert custom_ids(revealed) == [] and question_title == revealed["embeds"][0]["title"]
        shares = revealed["embeds"][0]["fields"][0]["value"]
        assert "**3** answered" in shares and "2 · 67%" in shares and "1 · 33%" in shares
        note = await world.fake.wait_for_message(
            lambda m: "answer to the daily drill" in m["content"], channel_id=world.a.home.id
        )
        assert post["id"] in note["content"]  # links to the post
        world.clock.advance(hours=1)
        await _settle(world)
    notes = [m for m in world.fake.messages_in(world.a.home.id) if "answer to" in m["content"]]
    assert len(notes) == 1 and len(drill_posts(world, world.a.home.id)) == 1
    async with world.services.sessions() as session:
        answers = dict(
            (await session.execute(select(DrillAnswer.discord_id, DrillAnswer.letter))).all()
        )
        reveals = await session.scalar(
            select(func.count()).where(DrillPost.revealed_at.is_not(None))
        )
    assert answers == {world.ana.id: "C", world.ben.id: "C", world.cat.id: "B"}
    assert reveals == 1
    edits = world.fake.find_requests("PATCH", f"/channels/{world.a.home.id}/messages/{post['id']}")
    assert len(edits) == 1  # revealed once


def _revealed(world: World, post: dict[str, Any]) -> dict[str, Any] | None:
    current = world.fake.get_message(int(post["id"]))
    return current if current is not None and "revealed" in current["content"] else None


async def _settle(world: World) -> None:
    """Wait until the outbox has nothing due left to send."""

    async def idle() -> bool:
        async with world.services.sessions() as session:
            due = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.status == "pending", OutboxMessage.due_at <= world.clock.now
                )
            )
        return not due

    await eventually(idle)


async def test_two_servers_drills_never_meet(world: World) -> None:
    async with world.running():
        await schedule(world)
        await world.slash(
            "drill schedule",
            {"channel": world.b.home, "time": "07:30", "timezone": "America/New_York"},
            user=world.b.owner,
            guild_id=world.b.id,
        )
        now_a = await world.slash("drill now", user=world.mod, guild_id=world.a.id)
        assert "Posting today's drill" in world.text(now_a)
        post_a = await posted(world, world.a.home.id)
        assert drill_posts(world, world.b.home.id) == []
        again = await world.slash("drill now", user=world.mod, guild_id=world.a.id)
        assert "already out" in world.text(again)  # one a day
        # The mod role of server A means nothing in server B.
        refused = await world.slash("drill pause", user=world.mod, guild_id=world.b.id)
        assert "Only moderators" in world.text(refused)
        await press(world, post_a, world.dan, "A")
        stats_b = await world.slash("drill stats", user=world.dan, guild_id=world.b.id)
        assert "**0** drills" in stats_b.embeds[0]["description"]
        world.clock.now = datetime(2026, 3, 2, 12, 30, 5, tzinfo=UTC)  # 07:30 in New York
        post_b = await posted(world, world.b.home.id)
        assert post_b["embeds"][0]["title"] == post_a["embeds"][0]["title"]  # own rotation
        assert len(drill_posts(world, world.a.home.id)) == 1


async def test_preview_and_skip(world: World) -> None:
    async with world.running():
        await schedule(world)
        preview = await world.slash("drill preview", user=world.mod, guild_id=world.a.id)
        title = preview.embeds[0]["title"]
        assert preview.ephemeral and title.startswith("Next drill · Monday 2 March")
        skipped = await world.slash("drill skip", user=world.mod, guild_id=world.a.id)
        assert "No drill on Monday 02 March" in world.text(skipped)
        after = await world.slash("drill preview", user=world.mod, guild_id=world.a.id)
        assert after.embeds[0]["title"].startswith("Next drill · Tuesday 3 March")
        assert after.embeds[0]["title"].split(" · ")[-1] != title.split(" · ")[-1]
        world.clock.now = datetime(2026, 3, 2, 17, 0, 1, tzinfo=UTC)
        await _settle(world)
        assert drill_posts(world, world.a.home.id) == []  # the skipped day stays quiet
        world.clock.now = datetime(2026, 3, 3, 17, 0, 1, tzinfo=UTC)
        post = await posted(world, world.a.home.id)
        assert (
            post["embeds"][0]["title"]
            == "Debug This · " + after.embeds[0]["title"].split(" · ", 2)[-1]
        )


async def test_a_refused_post_pauses_the_drill_and_moderators_hear_once(world: World) -> None:
    async with world.running():
        await schedule(world, reveal_after=60)
        world.fake.fail_next(
            "POST", f"/channels/{world.a.home.id}/messages", status=403, code=50013
        )
        world.clock.now = datetime(2026, 3, 2, 17, 0, 1, tzinfo=UTC)
        await _settle(world)
        assert drill_posts(world, world.a.home.id) == []
        world.clock.now = datetime(2026, 3, 2, 18, 1, tzinfo=UTC)  # its reveal: it never came
        notice = await world.fake.wait_for_message(
            lambda m: "daily drill is paused" in m["content"],
            channel_id=world.fake.dm_channel_id(world.a.owner),
        )
        assert "Send Messages" in notice["content"] and "/drill resume" in notice["content"]
        assert notice["allowed_mentions"] == NOBODY
        info = await world.services.drills.info(world.a.id)
        assert info is not None and info.paused and "never appeared" in str(info.paused_reason)
        world.clock.now = datetime(2026, 3, 3, 17, 0, 1, tzinfo=UTC)  # the next day
        await _settle(world)
        assert drill_posts(world, world.a.home.id) == []  # paused: nothing
        assert len(world.fake.dm_messages(world.a.owner)) == 1  # told once
        resumed = await world.slash("drill resume", user=world.mod, guild_id=world.a.id)
        assert "Next drill" in world.text(resumed)
        world.clock.now = datetime(2026, 3, 4, 17, 0, 1, tzinfo=UTC)
        await posted(world, world.a.home.id)
    async with world.services.sessions() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.kind == "drill.post")
            )
        )
    assert statuses.count(FAILED) == 1 and statuses.count(SENT) >= 1


async def test_without_permission_the_drill_is_refused_up_front(
    sessions: async_sessionmaker[AsyncSession], course_store: CourseStore
) -> None:
    fake, world = build_world(
        sessions,
        course_store,
        bot_permissions=BOT_PERMISSIONS & ~SEND,
        everyone_permissions=EVERYONE_PERMISSIONS & ~SEND,
    )
    await enrol(world)
    async with fake, world.running():
        refused = await schedule(world, user=world.a.owner)
        text = world.text(refused)
        assert "I can't run the drill there: I'm missing Send Messages" in text
        assert await world.services.drills.info(world.a.id) is None
        # A drill scheduled while it could post (straight in the database) pauses itself at
        # its time and says what to fix, once.
        await world.services.drills.schedule(
            world.a.id, world.a.owner.id, world.a.home.id, "18:00", "Europe/Berlin"
        )
        world.clock.now = datetime(2026, 3, 2, 17, 0, 1, tzinfo=UTC)
        notice = await world.fake.wait_for_message(
            lambda m: "daily drill is paused" in m["content"],
            channel_id=world.fake.dm_channel_id(world.a.owner),
        )
        assert "I'm missing Send Messages" in notice["content"]
        world.clock.advance(days=1)
        await _settle(world)
        assert len(world.fake.dm_messages(world.a.owner)) == 1
        assert drill_posts(world, world.a.home.id) == []


async def test_streaks_show_at_the_reveal_and_in_stats(world: World) -> None:
    async with world.running():
        await schedule(world, reveal_after=60)
        for day in range(3):
            start = datetime(2026, 3, 2, 17, 0, 1, tzinfo=UTC) + timedelta(days=day)
            world.clock.now = start
            post = await posted(world, world.a.home.id, count=day + 1)
            await press(world, post, world.ana, "A")
            if day != 1:
                await press(world, post, world.ben, "B")
            world.clock.now = start + timedelta(hours=1)
            await eventually(lambda post=post: _revealed(world, post))
        last = _revealed(world, post)
        assert last is not None
        streaks = last["embeds"][0]["fields"][1]["value"]
        assert f"<@{world.ana.id}> 🔥 3" in streaks and str(world.ben.id) not in streaks
        stats = await world.slash("drill stats", user=world.cat, guild_id=world.a.id)
        best = stats.embeds[0]["fields"][0]["value"].splitlines()
        assert best[0] == f"<@{world.ana.id}> · best **3** · now 3"
        assert best[1] == f"<@{world.ben.id}> · best **1** · now 1"
