"""/server stats end to end: the real bot on the loopback Discord, two servers."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bot.ui.dashboard import DASHBOARD_SIZE
from tests.groups.world import World, custom_ids


async def stats_of(world: World, user: Any, guild_id: int) -> Any:
    """Run /server stats; the deferred answer's follow-up (the dashboard or the refusal)."""
    result = await world.fake.slash("server stats", user=user, guild_id=guild_id)
    await result.wait(lambda r: bool(r.followups))
    assert result.rejections == [], result.rejections
    assert result.response_type == 5  # deferred first: the queries and picture come after
    return result


def png_sent(world: World) -> bytes:
    (data,) = [
        body
        for request in world.fake.find_requests("POST", "/webhooks/*")
        for name, body in request.files.items()
        if name == "server-stats.png"
    ]
    return data


async def test_a_moderator_gets_the_dashboard_and_servers_never_meet(world: World) -> None:
    async with world.running():
        # Using the bot in a server makes a learner one of its learners.
        for user in (world.ana, world.ben, world.cat, world.mod, world.a.owner):
            await world.slash("about", user=user, guild_id=world.a.id)
        await world.slash("about", user=world.dan, guild_id=world.b.id)
        await world.slash("about", user=world.stranger, guild_id=world.a.id)  # no /start
        quiz = await world.slash("quiz", {"part": "3"}, user=world.ana, guild_id=world.a.id)
        wrong = next(c for c in custom_ids(quiz.message) if not c.endswith(":B"))
        await world.fake.click(quiz.message, wrong, user=world.ana)

        # The moderator role of server A (not Manage Server) is enough.
        result = await stats_of(world, world.mod, world.a.id)
        (message,) = result.followups
        assert int(message.get("flags") or 0) & 64  # ephemeral
        (embed,) = message["embeds"]
        assert "**5 learners** have used the tutor in this server." in embed["description"]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Learners by track"] == "Complete deep dive: 5 (100%)"
        hardest = fields["Debug This questions answered wrong most"]
        assert hardest.startswith("1. Part 3 · ") and "1 of 1 wrong" in hardest
        assert embed["image"]["url"] == "attachment://server-stats.png"
        (attachment,) = message["attachments"]
        assert attachment["filename"] == "server-stats.png"
        picture = Image.open(io.BytesIO(png_sent(world)))
        assert picture.format == "PNG" and picture.size == DASHBOARD_SIZE

        # A member is refused, in the follow-up of the deferred answer.
        refused = await stats_of(world, world.ben, world.a.id)
        (refusal,) = refused.followups
        assert "Only moderators" in refusal["embeds"][0]["description"]
        assert not refusal.get("attachments")

        # Server B's owner sees server B only: Dan and the owner, none of A's answers.
        other = await stats_of(world, world.b.owner, world.b.id)
        (b_embed,) = other.followups[0]["embeds"]
        assert b_embed["description"].startswith("**2 learners** have used")
        assert "every number is a count" in b_embed["description"]
        b_fields = {f["name"]: f["value"] for f in b_embed["fields"]}
        assert b_fields["Learners by track"] == "Complete deep dive: 2"  # too few for a share
        assert b_fields["Debug This questions answered wrong most"] == "No wrong answers yet."
        # A's moderator role means nothing in B.
        elsewhere = await stats_of(world, world.mod, world.b.id)
        assert "Only moderators" in elsewhere.followups[0]["embeds"][0]["description"]
