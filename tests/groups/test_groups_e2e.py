"""Study groups end to end: the real bot, two servers on the loopback Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import OutboxMessage, StudyGroup
from tests.groups.world import NOBODY, World, custom_ids, eventually


def join_button(message: dict[str, Any]) -> str:
    (found,) = [c for c in custom_ids(message) if c.startswith("group:join:")]
    return found


async def create(world: World, name: str = "Night Owls", **kw: Any) -> Any:
    options = {"name": name, **kw.pop("options", {})}
    user = kw.pop("user", world.a.owner)
    channel = kw.pop("channel", world.a.home)
    return await world.slash("group create", options, user=user, channel_id=channel.id)


async def join(world: World, card: dict[str, Any], user: Any) -> Any:
    joined = await world.fake.click(card, join_button(card), user=user)
    await joined.wait(lambda r: bool(r.followups))
    return joined


def _card_owned_by(world: World, card_id: int, owner: int) -> dict[str, Any] | None:
    card = world.fake.get_message(card_id)
    owned = card is not None and card["embeds"][0]["fields"][0]["value"] == f"<@{owner}>"
    return card if owned else None


def card_in(world: World, channel_id: int) -> dict[str, Any]:
    (card,) = [m for m in world.fake.messages_in(channel_id) if custom_ids(m)]
    return card


async def test_create_makes_a_card_with_join_and_a_thread(world: World) -> None:
    async with world.running():
        made = await create(world)
        assert made.ephemeral and "is ready" in world.text(made)
        card = card_in(world, world.a.home.id)
        assert card["embeds"][0]["title"] == "Study group · Night Owls"
        assert card["allowed_mentions"] == NOBODY
        thread_id = int(card["id"])  # the thread hangs off the card
        (hello,) = world.fake.messages_in(thread_id)
        assert f"<@{world.a.owner.id}> started **Night Owls**" in hello["content"]
        assert hello["allowed_mentions"]["users"] == [world.a.owner.id]

        joined = await join(world, card, world.ana)
        assert joined.rejections == []
        members = joined.message["embeds"][0]["fields"][1]["value"]
        assert members.startswith("2/20") and f"<@{world.ana.id}>" in members
        assert "You're in **Night Owls**" in joined.followups[0]["content"]
        welcome = await world.fake.wait_for_message(
            lambda m: "Welcome" in m["content"], channel_id=thread_id
        )
        assert welcome["allowed_mentions"]["users"] == [world.ana.id]
        twice = await world.fake.click(card, join_button(card), user=world.ana)
        assert "already in" in world.text(twice)
        newcomer = await world.fake.click(card, join_button(card), user=world.stranger)
        assert "/start" in world.text(newcomer)


async def test_a_name_with_everyone_pings_nobody_and_makes_nothing(world: World) -> None:
    async with world.running():
        refused = await create(world, "@everyone study hall")
        assert refused.ephemeral and "mentions" in world.text(refused)
        sneaky = await create(world, "**Owls** <@&1>")
        assert "mentions" in world.text(sneaky)
        assert world.fake.messages_in(world.a.home.id) == []
        async with world.services.sessions() as session:
            assert list(await session.scalars(select(StudyGroup))) == []
        # Every message the bot sent in a channel set allowed_mentions.
        for request in world.fake.find_requests("POST", "/channels/*/messages"):
            assert request.json is not None and "allowed_mentions" in request.json


async def test_two_servers_never_see_each_others_groups(world: World) -> None:
    async with world.running():
        await create(world)
        listed = await world.slash("group list", user=world.dan, guild_id=world.b.id)
        assert "No study groups here yet" in world.text(listed)
        named = await world.slash(
            "group join", {"group": "Night Owls"}, user=world.dan, guild_id=world.b.id
        )
        assert "no study group by that name" in world.text(named)
        typed = await world.fake.autocomplete(
            "group join", {"group": "ni"}, "group", user=world.dan, guild_id=world.b.id
        )
        assert typed.choices == []
        here = await world.fake.autocomplete(
            "group join", {"group": "ni"}, "group", user=world.ana, guild_id=world.a.id
        )
        assert [c["value"] for c in here.choices] == ["Night Owls"]
        board = await world.slash(
            "group leaderboard", {"server": True}, user=world.dan, guild_id=world.b.id
        )
        assert "No study groups here yet" in world.text(board)


async def test_owner_and_moderators_manage_others_are_refused(world: World) -> None:
    async with world.running():
        await create(world)
        card = card_in(world, world.a.home.id)
        thread = card_id = int(card["id"])
        for user in (world.ana, world.ben):
            await join(world, card, user)
        refused = await world.slash(
            "group rename", {"name": "Ana's owls"}, user=world.ana, channel_id=thread
        )
        assert "Only the owner" in world.text(refused)
        by_mod = await world.slash(
            "group rename", {"name": "Early Birds", "group": "night owls"}, user=world.mod
        )
        assert "Renamed to **Early Birds**" in world.text(by_mod)
        removed = await world.slash(
            "group remove", {"member": world.ben}, user=world.a.owner, channel_id=thread
        )
        assert "no longer in **Early Birds**" in world.text(removed)
        handed = await world.slash(
            "group transfer", {"member": world.ana}, user=world.a.owner, channel_id=thread
        )
        assert "now owns" in world.text(handed)
        card = await eventually(lambda: _card_owned_by(world, card_id, world.ana.id))
        assert card["embeds"][0]["title"] == "Study group · Early Birds"
        info = await world.slash("group info", user=world.ana)
        assert info.embeds[0]["title"] == "Early Birds"

        disbanded = await world.slash("group disband", user=world.ana, channel_id=thread)
        assert "Everyone keeps their own progress" in world.text(disbanded)
        await eventually(lambda: custom_ids(world.fake.get_message(card_id) or {}) == [])
        goodbye = world.fake.messages_in(thread)[-1]
        assert "disbanded" in goodbye["content"] and goodbye["allowed_mentions"] == NOBODY


async def test_missing_permissions_are_named_and_leave_no_half_group(world: World) -> None:
    async with world.running():
        path = f"/channels/{world.a.home.id}/messages"
        world.fake.fail_next("POST", path, status=403, code=50013)
        failed = await create(world)
        text = world.text(failed)
        assert "couldn't set the group up" in text and "Create Public Threads" in text
        listed = await world.slash("group list", user=world.ana)
        assert "No study groups here yet" in world.text(listed)
        again = await create(world)  # the name is free: nothing was left behind
        assert "is ready" in world.text(again)


async def test_moderators_choose_the_groups_channel(world: World) -> None:
    async with world.running():
        refused = await world.slash("group channel", {"channel": world.a.general}, user=world.ana)
        assert "Only moderators" in world.text(refused)
        chosen = await world.slash("group channel", {"channel": world.a.general}, user=world.mod)
        assert f"<#{world.a.general.id}>" in world.text(chosen)
        await create(world, channel=world.a.home)
        assert card_in(world, world.a.general.id)["embeds"][0]["title"].endswith("Night Owls")


async def test_the_weekly_note_arrives_in_the_thread_through_the_outbox(world: World) -> None:
    async with world.running() as bot:
        await create(world)
        thread = int(card_in(world, world.a.home.id)["id"])
        await bot.services.reading.finish(world.a.owner.id, 0, confirmed=True)
        (due,) = await _weekly_due(world)
        assert due == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 10:00 in Berlin
        world.clock.now = due
        note = await world.fake.wait_for_message(
            lambda m: any("this week" in e.get("title", "") for e in m["embeds"]),
            channel_id=thread,
        )
        fields = {f["name"]: f["value"] for f in note["embeds"][0]["fields"]}
        assert f"<@{world.a.owner.id}>: Part 0" in fields["Finished this week"]
        assert "Part 1 · Container internals" in fields["Next up"]
        assert note["allowed_mentions"] == NOBODY

        async def only_next_week_pending() -> bool:
            return await _weekly_due(world) == [due + timedelta(days=7)]

        await eventually(only_next_week_pending)  # this one was sent; the next one is asked for


async def _weekly_due(world: World) -> list[datetime]:
    async with world.services.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage.due_at).where(
                OutboxMessage.kind == "group.weekly", OutboxMessage.status == "pending"
            )
        )
        return list(rows)
