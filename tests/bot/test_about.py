"""/about end to end: a real discord.py client, the emulator, the production composition root."""

from __future__ import annotations

import json
import re

from discord import app_commands

from bot import __version__
from bot.bot import TutorBot
from bot.exts import walk_extensions
from tests.fake_discord import FakeDiscord


async def test_about_round_trip_in_a_server(tutor: TutorBot, fake: FakeDiscord) -> None:
    result = await fake.slash("about")
    assert result.rejections == []
    assert result.ephemeral
    (embed,) = result.embeds
    assert embed["title"] == "Docker in Depth"
    assert "21-part" in embed["description"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields == {"Parts": "21", "Tracks": "4"}
    assert embed["footer"]["text"] == f"tutorbot {__version__}"


async def test_about_in_a_dm_is_a_normal_message(tutor: TutorBot, fake: FakeDiscord) -> None:
    result = await fake.slash("about", dm=True)
    assert result.rejections == []
    assert not result.ephemeral
    assert result.embeds[0]["title"] == "Docker in Depth"


async def test_every_message_pings_nobody_by_default(tutor: TutorBot, fake: FakeDiscord) -> None:
    await fake.slash("about")
    callbacks = fake.find_requests("POST", "/interactions/*/callback")
    assert callbacks
    for request in callbacks:
        body = request.json or json.loads(request.files.get("payload_json", "{}"))
        assert body["data"]["allowed_mentions"] == {"parse": []}


async def test_every_extension_loads_and_commands_obey_discord_rules(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    assert set(tutor.extensions) == set(walk_extensions())
    registered = fake.commands(None)
    names = [command["name"] for command in registered]
    assert "about" in names
    assert len(names) == len(set(names)), "two extensions define the same command"
    for command in tutor.tree.walk_commands():
        assert re.fullmatch(r"[-_a-z0-9]{1,32}", command.name), command.name
        assert 1 <= len(command.description) <= 100, command.name
        if isinstance(command, app_commands.Command):
            assert len(command.parameters) <= 25, command.name
