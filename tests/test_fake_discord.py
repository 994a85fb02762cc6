"""The loopback Discord, driven by a minimal real discord.py bot defined here."""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.http
import discord.webhook.async_
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import (
    INTERACTION_TOKEN_LIFETIME,
    FakeDiscord,
    FakeMember,
    FakeUser,
    InteractionResult,
    ManualClock,
)

# ---------------------------------------------------------------------------------------------
# The bot under test


@dataclass
class Probe:
    """What the bot saw: errors from its command tree, interactions, events."""

    errors: list[BaseException] = field(default_factory=list)
    interactions: list[discord.Interaction] = field(default_factory=list)
    messages: list[discord.Message] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    error_seen: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_error(self) -> BaseException:
        async with asyncio.timeout(2.0):
            await self.error_seen.wait()
        return self.errors[-1]


class DemoView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="OK", custom_id="demo:ok")
    async def ok(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(
            content=f"clicked by {interaction.user.id}", view=None
        )


class PickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="demo:pick",
        options=[discord.SelectOption(label=x.upper(), value=x) for x in "abc"],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {','.join(select.values)}", ephemeral=True)


class AnswerModal(discord.ui.Modal, title="Answer"):
    answer: discord.ui.TextInput = discord.ui.TextInput(
        label="Your answer", custom_id="answer", max_length=20
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.answer.value}")


WORDS = ["hello", "help", "world"]


def make_bot(clock: ManualClock, probe: Probe) -> commands.Bot:
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.01,
    )
    tree = bot.tree

    @bot.event
    async def on_ready() -> None:
        probe.ready.set()

    @bot.event
    async def on_resumed() -> None:
        probe.resumed.set()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        probe.messages.append(message)

    @bot.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        probe.interactions.append(interaction)

    @tree.error
    async def on_app_command_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        probe.errors.append(getattr(error, "original", error))
        probe.error_seen.set()

    @tree.command(description="Answers pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(description="Sends a button")
    async def button(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press it", view=DemoView())

    @tree.command(description="Sends a select")
    async def pick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=PickView())

    @tree.command(description="Opens a modal")
    async def form(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AnswerModal(custom_id="quiz:answer"))

    @tree.command(description="Replies with 2001 characters")
    async def long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("x" * 2001)

    @tree.command(description="Replies with an oversized embed")
    async def bigembed(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=discord.Embed(description="d" * 4097))

    @tree.command(description="Answers after the 3 s window")
    async def late(interaction: discord.Interaction) -> None:
        clock.advance(3.5)  # the work took 3.5 s
        await interaction.response.send_message("too late")

    @tree.command(description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        # A second, independent responder (say, another worker) answers the same interaction.
        await discord.InteractionResponse(interaction).send_message("second")

    @tree.command(description="Defers, then follows up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")

    @tree.command(description="Sends a chart, edits it, adds a private note")
    async def report(interaction: discord.Interaction) -> None:
        chart = discord.File(io.BytesIO(b"\x89PNG fake"), "chart.png")
        await interaction.response.send_message("drawing", file=chart)
        await interaction.edit_original_response(content="your progress")
        note = await interaction.followup.send("only you see this", ephemeral=True, wait=True)
        await note.edit(content="only you")
        scratch = await interaction.followup.send("scratch", wait=True)
        await scratch.delete()

    @tree.command(description="Echoes text")
    @app_commands.describe(text="what to echo", count="how many times")
    async def echo(interaction: discord.Interaction, text: str, count: int = 1) -> None:
        await interaction.response.send_message(" ".join([text] * count))

    @echo.autocomplete("text")
    async def echo_text(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=w, value=w) for w in WORDS if w.startswith(current)]

    @tree.command(description="Opens a modal with a 46-character title")
    async def badmodal(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AnswerModal(title="t" * 46, custom_id="bad"))

    @tree.command(description="Autocompletes too much")
    async def many(interaction: discord.Interaction, word: str) -> None:
        await interaction.response.send_message(word)

    @many.autocomplete("word")
    async def many_word(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"w{i}", value=f"w{i}") for i in range(26)]

    @tree.command(description="Greets a user")
    async def greet(interaction: discord.Interaction, who: discord.User) -> None:
        await interaction.response.send_message(f"hi {who.name}")

    quiz = app_commands.Group(name="quiz", description="Quizzes")

    @quiz.command(name="start", description="Starts a quiz")
    async def quiz_start(interaction: discord.Interaction, part: int) -> None:
        await interaction.response.send_message(f"quiz on part {part}", ephemeral=True)

    tree.add_command(quiz)
    return bot


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(clock=clock) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, clock: ManualClock, probe: Probe) -> AsyncIterator[commands.Bot]:
    client = make_bot(clock, probe)
    async with fake.running(client, fast_ready=False):
        await client.tree.sync()
        yield client


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """discord.py sleeps 1 s before retrying a 5xx; make its sleeps tiny in http and webhooks."""
    real_sleep = asyncio.sleep

    class FastAsyncio:
        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

        @staticmethod
        async def sleep(delay: float, result: Any = None) -> Any:
            return await real_sleep(min(delay, 0.01), result)

    monkeypatch.setattr(discord.http, "asyncio", FastAsyncio())
    monkeypatch.setattr(discord.webhook.async_, "asyncio", FastAsyncio())
    yield


def text_channel(bot: commands.Bot, fake: FakeDiscord) -> discord.TextChannel:
    channel = bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def raw_send(bot: commands.Bot, channel_id: int, payload: dict[str, Any]) -> Any:
    """POST a message payload through discord.py's HTTP client, bypassing its own checks."""
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    return await bot.http.request(route, json=payload)


def button(custom_id: str, label: str = "b") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def string_select(custom_id: str, n_options: int) -> dict[str, Any]:
    options = [{"label": f"o{i}", "value": f"v{i}"} for i in range(n_options)]
    return {"type": 3, "custom_id": custom_id, "options": options}


def rejected(result: InteractionResult) -> tuple[int, int]:
    assert result.rejections, f"nothing was rejected: {result!r}"
    r = result.rejections[0]
    return r.status, r.code


# ---------------------------------------------------------------------------------------------
# Login and plumbing


async def test_login_reaches_on_ready(fake: FakeDiscord, bot: commands.Bot, probe: Probe) -> None:
    assert probe.ready.is_set()
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(fake.guild.id)
    assert guild is not None and guild.get_channel(fake.channel.id) is not None
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    me = fake.find_requests("GET", "/users/@me")
    assert me and me[0].authorized and me[0].status == 200
    assert math.isfinite(bot.latency)  # the first heartbeat was acknowledged
    identify = [p for p in fake.gateway_received if p["op"] == 2]
    assert identify[0]["d"]["intents"] == discord.Intents.default().value
    assert identify[0]["d"]["token"] == "<redacted>"


async def test_gateway_speaks_zlib_stream(fake: FakeDiscord, bot: commands.Bot) -> None:
    # discord.py asks for zlib-stream (no zstandard installed) and only decodes binary frames
    # through its inflater; being ready proves the compressed stream was read.
    assert fake.gateway_connections[0]["compress"] == "zlib-stream"
    assert fake.gateway_connections[0]["v"] == "10"
    assert bot.is_ready()


async def test_gateway_frames_follow_the_requested_compression(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.gateway_url}?v=10&encoding=json&compress=zlib-stream"
        async with session.ws_connect(url) as ws:
            frame = await ws.receive(timeout=2)
        async with session.ws_connect(f"{fake.gateway_url}?v=10&encoding=json") as ws:
            plain = await ws.receive(timeout=2)
    assert frame.type is aiohttp.WSMsgType.BINARY
    assert frame.data.endswith(b"\x00\x00\xff\xff")  # Z_SYNC_FLUSH, what discord.py waits for
    hello = json.loads(zlib.decompressobj().decompress(frame.data))
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    assert plain.type is aiohttp.WSMsgType.TEXT and json.loads(plain.data)["op"] == 10


async def test_running_makes_a_plain_client_ready_quickly(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())  # guild_ready_timeout 2 s
    started = time.monotonic()
    async with fake.running(client):
        assert client.is_ready()
        assert time.monotonic() - started < 1.0
        assert fake.connected_clients == 1
    assert client.is_closed()
    assert fake.connected_clients == 0
    url = f"{fake.api_url}/applications/{fake.application_id}/commands"
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        command = {"name": "ping", "description": "d", "type": 1}
        async with session.put(url, json=[command], headers=headers) as resp:
            assert resp.status == 200
    with pytest.raises(AssertionError, match="no connected bot"):
        await fake.slash("ping", timeout=0.1)


async def test_members_intent_and_member_queries(fake: FakeDiscord) -> None:
    fake.guild.members.append(FakeMember(user=fake.user, nick="Learner"))
    client = discord.Client(intents=discord.Intents.default() | discord.Intents(members=True))
    started = time.monotonic()
    async with fake.running(client):
        assert time.monotonic() - started < 1.0
        guild = client.get_guild(fake.guild.id)
        assert guild is not None and guild.chunked
        member = guild.get_member(fake.user.id)
        assert member is not None and member.nick == "Learner"
        found = await guild.query_members("lear")  # REQUEST_MEMBERS -> GUILD_MEMBERS_CHUNK
        assert [m.id for m in found] == [fake.user.id]
    assert any(p["op"] == 8 for p in fake.gateway_received)


async def test_wrong_token_is_a_login_failure(fake: FakeDiscord, clock: ManualClock) -> None:
    client = make_bot(clock, Probe())
    with fake.patch_discord():
        try:
            with pytest.raises(discord.LoginFailure):
                await client.login("not-the-token")
        finally:
            await client.close()
    assert fake.requests[-1].status == 401


async def test_patch_discord_restores_urls(fake: FakeDiscord) -> None:
    before = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with fake.patch_discord():
        patched = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    after = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert patched[0] == fake.api_url and str(patched[1]) == fake.gateway_url
    assert after == before


async def test_json_is_served_with_exact_content_type(fake: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_url}/gateway/bot", headers=headers) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            body = await resp.json()
        async with session.get(f"{fake.api_url}/no/such/route", headers=headers) as resp:
            assert resp.status == 404
            missing = await resp.json()
    assert body["url"] == fake.gateway_url
    assert "no route for GET /no/such/route" in missing["message"]
    assert [r.path for r in fake.unhandled] == ["/no/such/route"]


async def test_unknown_route_raises_not_found_in_discord_py(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/stickers/{x}", x=1))
    assert fake.unhandled[-1].path == "/stickers/1"


async def test_commands_are_registered_with_ids(fake: FakeDiscord, bot: commands.Bot) -> None:
    registered = {c["name"]: c for c in fake.commands()}
    assert {"ping", "echo", "quiz", "form"} <= set(registered)
    assert all(c["id"].isdigit() for c in registered.values())
    ids_before = {n: c["id"] for n, c in registered.items()}
    await bot.tree.sync()  # a second overwrite keeps the ids, as Discord does
    assert {c["name"]: c["id"] for c in fake.commands()} == ids_before


async def test_invalid_command_registration_is_rejected(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    route = discord.http.Route(
        "PUT", "/applications/{application_id}/commands", application_id=fake.application_id
    )
    bad = [{"name": "Bad Name", "description": "d" * 101, "type": 1}]
    with pytest.raises(discord.HTTPException) as exc:
        await bot.http.request(route, json=bad)
    assert exc.value.code == 50035
    assert fake.commands()  # the earlier registration is untouched


# ---------------------------------------------------------------------------------------------
# Interactions


async def test_slash_command_round_trip(fake: FakeDiscord, bot: commands.Bot) -> None:
    result = await fake.slash("ping")
    assert result.response_type == 4
    assert result.content == "pong"
    assert not result.ephemeral
    assert result.payload["data"]["name"] == "ping"
    callback = fake.find_requests("POST", f"/interactions/{result.id}/*/callback")
    assert callback[0].query == {"with_response": "1"}
    channel_messages = fake.messages_in(fake.channel.id)
    assert [m["content"] for m in channel_messages] == ["pong"]
    assert channel_messages[0]["interaction_metadata"]["user"]["id"] == str(fake.user.id)


async def test_slash_with_options_subcommands_and_users(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    echoed = await fake.slash("echo", {"text": "hi", "count": 3})
    assert echoed.content == "hi hi hi"
    started = await fake.slash("quiz start", {"part": 4})
    assert started.content == "quiz on part 4"
    assert started.ephemeral
    assert fake.messages_in(fake.channel.id)[-1]["content"] == "hi hi hi"  # ephemeral not stored
    other = FakeUser(username="ada")
    greeted = await fake.slash("greet", {"who": other})
    assert greeted.content == "hi ada"


async def test_slash_guards_against_impossible_input(fake: FakeDiscord, bot: commands.Bot) -> None:
    with pytest.raises(AssertionError, match="not registered"):
        await fake.slash("nope")
    with pytest.raises(AssertionError, match="missing required"):
        await fake.slash("echo", {"count": 2})
    with pytest.raises(AssertionError, match="no option"):
        await fake.slash("ping", {"loud": True})


async def test_slash_in_dm(fake: FakeDiscord, bot: commands.Bot) -> None:
    result = await fake.slash("ping", dm=True)
    assert result.content == "pong"
    assert "guild_id" not in result.payload and result.payload["user"]["id"] == str(fake.user.id)
    assert [m["content"] for m in fake.dm_messages(fake.user)] == ["pong"]


async def test_button_click_round_trip(fake: FakeDiscord, bot: commands.Bot) -> None:
    sent = await fake.slash("button")
    assert sent.message is not None
    assert sent.message["components"][0]["components"][0]["custom_id"] == "demo:ok"
    clicked = await fake.click(sent.message, "demo:ok")
    assert clicked.response_type == 7
    assert clicked.payload["data"] == {"custom_id": "demo:ok", "component_type": 2}
    assert clicked.content == f"clicked by {fake.user.id}"
    assert fake.get_message(sent.message["id"])["components"] == []
    with pytest.raises(AssertionError, match="no component"):
        await fake.click(sent.message, "demo:ok")  # the view was removed


async def test_select_round_trip(fake: FakeDiscord, bot: commands.Bot) -> None:
    sent = await fake.slash("pick")
    picked = await fake.select(sent.message, "demo:pick", ["b"])
    assert picked.content == "picked b"
    assert picked.ephemeral
    with pytest.raises(AssertionError, match="no option"):
        await fake.select(sent.message, "demo:pick", ["z"])


async def test_modal_round_trip(fake: FakeDiscord, bot: commands.Bot) -> None:
    opened = await fake.slash("form")
    assert opened.response_type == 9
    assert opened.modal is not None and opened.modal["custom_id"] == "quiz:answer"
    submitted = await fake.submit_modal("quiz:answer", {"answer": "42"})
    assert submitted.type == 5
    assert submitted.content == "got 42"
    with pytest.raises(AssertionError, match=r"takes 0\.\.20 chars"):
        await fake.submit_modal("quiz:answer", {"answer": "x" * 21})


async def test_autocomplete(fake: FakeDiscord, bot: commands.Bot) -> None:
    result = await fake.autocomplete("echo", {"text": "hel"}, focused="text")
    assert result.response_type == 8
    assert [c["value"] for c in result.choices or []] == ["hello", "help"]


async def test_defer_then_followup_replaces_thinking_message(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    result = await fake.slash("slow")
    assert result.response_type == 5
    await result.wait(lambda r: bool(r.followup_ids))
    assert result.content == "done"
    assert result.followups[0]["id"] == result.message["id"]
    assert not result.message["flags"] & (1 << 7)  # no longer loading


async def test_files_edits_followups_and_deletes(fake: FakeDiscord, bot: commands.Bot) -> None:
    result = await fake.slash("report")
    await result.wait(lambda r: len(r.followup_ids) == 2 and len(r.followups) == 1)
    assert result.content == "your progress"
    assert result.message["attachments"][0]["filename"] == "chart.png"
    callback = fake.find_requests("POST", "/interactions/*/callback")[-1]
    assert callback.files == {"chart.png": b"\x89PNG fake"}
    [note] = result.followups  # the deleted one is gone
    assert note["content"] == "only you" and note["flags"] & 64
    assert [m["content"] for m in fake.messages_in(fake.channel.id)] == ["your progress"]


async def test_followups_allowed_for_15_minutes(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe, clock: ManualClock
) -> None:
    await fake.slash("ping")
    interaction = probe.interactions[-1]
    clock.advance(INTERACTION_TOKEN_LIFETIME - 60)
    message = await interaction.followup.send("still here", wait=True)
    assert message.content == "still here"
    clock.advance(61)
    with pytest.raises(discord.HTTPException) as exc:
        await interaction.followup.send("too late")
    assert (exc.value.status, exc.value.code) == (401, 50027)


async def test_user_message_reaches_the_bot(fake: FakeDiscord, bot: commands.Bot, probe) -> None:
    sent = await fake.user_message("hello bot")
    for _ in range(100):
        if any(m.id == int(sent["id"]) for m in probe.messages):
            break
        await asyncio.sleep(0.005)
    seen = [m for m in probe.messages if m.id == int(sent["id"])]
    assert seen and seen[0].author.id == fake.user.id


async def test_thread_creation(fake: FakeDiscord, bot: commands.Bot) -> None:
    thread = await text_channel(bot, fake).create_thread(
        name="lab", type=discord.ChannelType.public_thread
    )
    await thread.send("in thread")
    assert [m["content"] for m in fake.messages_in(thread.id)] == ["in thread"]


async def test_reconnect_resumes_the_session(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    await fake.reconnect_gateway()
    await asyncio.wait_for(probe.resumed.wait(), 5)
    assert any(p["op"] == 6 for p in fake.gateway_received)
    assert len(fake.gateway_connections) == 2
    assert (await fake.slash("ping")).content == "pong"


# ---------------------------------------------------------------------------------------------
# Limits: each violation is rejected as Discord would


async def test_reply_over_2000_chars_is_rejected(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    result = await fake.slash("long")
    assert rejected(result) == (400, 50035)
    assert "content" in result.rejections[0].errors["data"]
    assert result.response_type is None
    error = await probe.next_error()
    assert isinstance(error, discord.HTTPException) and error.code == 50035
    assert fake.messages_in(fake.channel.id) == []


async def test_channel_message_content_limit(fake: FakeDiscord, bot: commands.Bot) -> None:
    channel = text_channel(bot, fake)
    await channel.send("x" * 2000)
    with pytest.raises(discord.HTTPException) as exc:
        await channel.send("x" * 2001)
    assert exc.value.status == 400 and exc.value.code == 50035
    assert [len(m["content"]) for m in fake.messages_in(channel.id)] == [2000]


async def test_empty_message_is_rejected(fake: FakeDiscord, bot: commands.Bot) -> None:
    with pytest.raises(discord.HTTPException) as exc:
        await raw_send(bot, fake.channel.id, {"content": ""})
    assert exc.value.code == 50006


async def test_embed_description_over_4096_is_rejected(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    result = await fake.slash("bigembed")
    assert rejected(result) == (400, 50035)
    assert "description" in result.rejections[0].errors["data"]["embeds"]["0"]
    await text_channel(bot, fake).send(embed=discord.Embed(description="d" * 4096))


MAX, BAD, TOO_BIG = "BASE_TYPE_MAX_LENGTH", "BASE_TYPE_BAD_LENGTH", "MAX_EMBED_SIZE_EXCEEDED"
ROW0 = "components.0.components"


def _fields(n: int, name: str = "n", value: str = "v") -> list[dict[str, str]]:
    return [{"name": name, "value": value} for _ in range(n)]


def error_codes(fake: FakeDiscord) -> dict[str, list[str]]:
    """The last error answer's 50035 errors as {"embeds.0.title": ["BASE_TYPE_MAX_LENGTH"]}."""
    out: dict[str, list[str]] = {}

    def walk(node: dict[str, Any], path: str) -> None:
        for key, value in node.items():
            if key == "_errors":
                out[path] = [e["code"] for e in value]
            else:
                walk(value, f"{path}.{key}" if path else key)

    error = fake.requests[-1].error
    assert error is not None and error["code"] == 50035, error
    walk(error["errors"], "")
    return out


@pytest.mark.parametrize(
    ("embeds", "path", "code"),
    [
        ([{"title": "t" * 257}], "embeds.0.title", MAX),
        ([{"description": "d" * 4097}], "embeds.0.description", MAX),
        ([{"fields": _fields(26)}], "embeds.0.fields", MAX),
        ([{"fields": _fields(1, name="n" * 257)}], "embeds.0.fields.0.name", BAD),
        ([{"fields": _fields(1, value="v" * 1025)}], "embeds.0.fields.0.value", BAD),
        ([{"fields": _fields(1, value="")}], "embeds.0.fields.0.value", BAD),
        ([{"footer": {"text": "f" * 2049}}], "embeds.0.footer.text", MAX),
        ([{"author": {"name": "a" * 257}}], "embeds.0.author.name", MAX),
        ([{"description": "d" * 3001}, {"description": "d" * 3000}], "embeds", TOO_BIG),
        ([{"title": "t"}] * 11, "embeds", MAX),
    ],
    ids=["title", "description", "fields", "field-name", "field-value", "field-value-empty",
         "footer", "author", "total-6000", "count-10"],
)  # fmt: skip
async def test_embed_limits(
    fake: FakeDiscord, bot: commands.Bot, embeds: list[dict[str, Any]], path: str, code: str
) -> None:
    with pytest.raises(discord.HTTPException) as exc:
        await raw_send(bot, fake.channel.id, {"embeds": embeds})
    assert exc.value.status == 400 and exc.value.code == 50035
    assert f"In {path}:" in exc.value.text
    assert code in error_codes(fake)[path]
    assert fake.messages_in(fake.channel.id) == []


async def test_embed_limits_accept_the_maximum(fake: FakeDiscord, bot: commands.Bot) -> None:
    at_limit = [
        {"title": "t" * 256, "description": "d" * 4096, "fields": _fields(24, value="v" * 25)},
        {"footer": {"text": "f" * 1000}},
    ]  # 256 + 4096 + 24 * 26 + 1000 = 5976 <= 6000
    message = await raw_send(bot, fake.channel.id, {"embeds": at_limit})
    assert fake.get_message(message["id"]) is not None


async def test_six_action_rows_are_rejected(fake: FakeDiscord, bot: commands.Bot) -> None:
    rows = [row(button(f"b{i}")) for i in range(6)]
    with pytest.raises(discord.HTTPException) as exc:
        await raw_send(bot, fake.channel.id, {"content": "rows", "components": rows})
    assert exc.value.code == 50035 and "components" in exc.value.text
    await raw_send(bot, fake.channel.id, {"content": "rows", "components": rows[:5]})
    assert len(fake.messages_in(fake.channel.id)) == 1


async def test_select_with_26_options_is_rejected(fake: FakeDiscord, bot: commands.Bot) -> None:
    with pytest.raises(discord.HTTPException) as exc:
        await raw_send(bot, fake.channel.id, {"components": [row(string_select("s", 26))]})
    assert exc.value.code == 50035 and "options" in exc.value.text
    await raw_send(bot, fake.channel.id, {"components": [row(string_select("s", 25))]})


@pytest.mark.parametrize(
    ("components", "path", "code"),
    [
        ([row(*[button(f"b{i}") for i in range(6)])], ROW0, BAD),
        ([row(string_select("s", 2), button("b"))], ROW0, "COMPONENT_LAYOUT_WIDTH_EXCEEDED"),
        ([row(button("b", label="l" * 81))], f"{ROW0}.0.label", MAX),
        ([row(button("c" * 101))], f"{ROW0}.0.custom_id", BAD),
        ([row(button(""))], f"{ROW0}.0.custom_id", BAD),
        ([row({"type": 2, "style": 1, "label": "x"})], f"{ROW0}.0.custom_id", "BASE_TYPE_REQUIRED"),
        ([row(button("x"), button("x"))], f"{ROW0}.1.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED"),
        ([row()], ROW0, BAD),
        ([button("top-level")], "components.0.type", "BASE_TYPE_CHOICES"),
    ],
    ids=["6-buttons", "select-not-alone", "label-81", "custom-id-101", "custom-id-empty",
         "custom-id-missing", "custom-id-duplicate", "empty-row", "button-outside-row"],
)  # fmt: skip
async def test_component_limits(
    fake: FakeDiscord,
    bot: commands.Bot,
    components: list[dict[str, Any]],
    path: str,
    code: str,
) -> None:
    with pytest.raises(discord.HTTPException) as exc:
        await raw_send(bot, fake.channel.id, {"content": "c", "components": components})
    assert exc.value.code == 50035
    assert code in error_codes(fake)[path]


async def test_custom_id_over_100_chars_from_a_view_is_rejected(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    channel = text_channel(bot, fake)
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="long", custom_id="c" * 101))
    with pytest.raises(discord.HTTPException) as exc:
        await channel.send("x", view=view)
    assert exc.value.code == 50035 and "custom_id" in exc.value.text
    ok = discord.ui.View(timeout=None)
    ok.add_item(discord.ui.Button(label="ok", custom_id="c" * 100))
    await channel.send("x", view=ok)


async def test_interaction_answered_after_3_seconds_is_unknown(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    result = await fake.slash("late")
    assert rejected(result) == (404, 10062)
    assert not result.acknowledged
    error = await probe.next_error()
    assert isinstance(error, discord.NotFound) and error.code == 10062


async def test_interaction_answered_twice_is_rejected(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    result = await fake.slash("twice")
    await result.wait(lambda r: r.attempts == 2)
    assert result.content == "first"
    assert rejected(result) == (400, 40060)
    error = await probe.next_error()
    assert isinstance(error, discord.HTTPException) and error.code == 40060
    assert [m["content"] for m in fake.messages_in(fake.channel.id)] == ["first"]


async def test_modal_title_over_45_chars_is_rejected(
    fake: FakeDiscord, bot: commands.Bot, probe: Probe
) -> None:
    result = await fake.slash("badmodal")
    assert rejected(result) == (400, 50035)
    assert "title" in result.rejections[0].errors["data"]
    assert result.modal is None


async def test_autocomplete_over_25_choices_is_rejected(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    result = await fake.autocomplete("many", {"word": "w"}, focused="word")
    assert rejected(result) == (400, 50035)
    assert "choices" in result.rejections[0].errors["data"]
    assert result.choices is None


async def test_wait_reports_an_unanswered_interaction(fake: FakeDiscord, bot: commands.Bot) -> None:
    @bot.tree.command(description="never answers")
    async def mute(interaction: discord.Interaction) -> None:
        return None

    await bot.tree.sync()
    with pytest.raises(AssertionError, match=r"/mute .* not met within 0.1s"):
        await fake.slash("mute", timeout=0.1)


# ---------------------------------------------------------------------------------------------
# Nonces


async def test_same_nonce_gives_one_message(fake: FakeDiscord, bot: commands.Bot) -> None:
    channel = text_channel(bot, fake)
    first = await channel.send("reminder", nonce=4242)
    again = await channel.send("reminder", nonce=4242)
    other = await channel.send("reminder", nonce=4343)
    assert first.id == again.id != other.id
    assert len(fake.messages_in(channel.id)) == 2
    posted = fake.find_requests("POST", f"/channels/{channel.id}/messages")
    assert posted[0].json["enforce_nonce"] is True and posted[0].json["nonce"] == "4242"


async def test_nonce_without_enforce_nonce_does_not_dedupe(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    await raw_send(bot, fake.channel.id, {"content": "a", "nonce": "n1"})
    await raw_send(bot, fake.channel.id, {"content": "a", "nonce": "n1"})
    assert len(fake.messages_in(fake.channel.id)) == 2


async def test_lost_response_retry_does_not_duplicate(
    fake: FakeDiscord, bot: commands.Bot, fast_retries: None
) -> None:
    # Discord created the message but the 500 hid it; discord.py retries with the same nonce.
    fake.fail_next("POST", "/channels/*/messages", status=500, process=True)
    message = await text_channel(bot, fake).send("once")
    assert [r.status for r in fake.find_requests("POST", "/channels/*/messages")] == [500, 200]
    assert [m["id"] for m in fake.messages_in(fake.channel.id)] == [str(message.id)]


# ---------------------------------------------------------------------------------------------
# Injected faults


@pytest.mark.parametrize("is_global", [False, True], ids=["bucket", "global"])
async def test_429_is_retried(fake: FakeDiscord, bot: commands.Bot, is_global: bool) -> None:
    fake.fail_next(
        "POST", "/channels/*/messages", status=429, retry_after=0.01, is_global=is_global
    )
    started = time.monotonic()
    message = await text_channel(bot, fake).send("after a rate limit")
    assert time.monotonic() - started < 1.0  # discord.py waited the body's retry_after
    assert [r.status for r in fake.find_requests("POST", "/channels/*/messages")] == [429, 200]
    assert fake.get_message(message.id)["content"] == "after a rate limit"


async def test_429_on_an_interaction_callback_is_retried(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    fake.fail_next("POST", "/interactions/*/callback", status=429, retry_after=0.01)
    result = await fake.slash("ping")
    assert result.content == "pong"
    statuses = [r.status for r in fake.find_requests("POST", "/interactions/*/callback")]
    assert statuses == [429, 200]


async def test_403_50007_raises_forbidden_and_is_not_retried(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    fake.fail_next("POST", "/channels/*/messages", status=403, code=50007)
    user = await bot.fetch_user(fake.user.id)
    with pytest.raises(discord.Forbidden) as exc:
        await user.send("reminder")
    assert exc.value.code == 50007
    assert len(fake.find_requests("POST", "/channels/*/messages")) == 1
    await user.send("the fault was used up")
    assert len(fake.dm_messages(fake.user)) == 1


async def test_user_with_closed_dms_gives_50007(fake: FakeDiscord, bot: commands.Bot) -> None:
    fake.user.accepts_dms = False
    user = await bot.fetch_user(fake.user.id)
    with pytest.raises(discord.Forbidden) as exc:
        await user.send("reminder")
    assert exc.value.code == 50007
    assert fake.dm_messages(fake.user) == []


async def test_403_50013_missing_permissions(fake: FakeDiscord, bot: commands.Bot) -> None:
    fake.fail_next("POST", f"/channels/{fake.channel.id}/messages", status=403, code=50013)
    with pytest.raises(discord.Forbidden) as exc:
        await text_channel(bot, fake).send("hi")
    assert exc.value.code == 50013 and exc.value.text == "Missing Permissions"


async def test_500_is_retried(fake: FakeDiscord, bot: commands.Bot, fast_retries: None) -> None:
    fake.fail_next("POST", "/channels/*/messages", status=500, times=2)
    await text_channel(bot, fake).send("eventually")
    assert [r.status for r in fake.find_requests("POST", "/channels/*/messages")] == [500, 500, 200]
    assert len(fake.messages_in(fake.channel.id)) == 1


async def test_503_surfaces_as_server_error(fake: FakeDiscord, bot: commands.Bot) -> None:
    fake.fail_next("POST", "/channels/*/messages", status=503)
    with pytest.raises(discord.DiscordServerError):
        await text_channel(bot, fake).send("x")
    assert fake.messages_in(fake.channel.id) == []
