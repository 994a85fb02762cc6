"""Sending outbox rows with discord.py: rendering a kind, the mention and late note, DMs and
channels, and Discord's errors sorted into the dispatcher's three outcomes (see
bot.delivery.dispatcher)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import discord

from bot.delivery.dispatcher import (
    LATE_NOTE,
    MESSAGE_LIMIT,
    ChannelUnusable,
    Delivery,
    DeliveryError,
    DmClosed,
    TryLater,
    Undeliverable,
    finish_anyway,
    retrieve_exception,
)
from bot.services.outbox import OutboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A message, as a renderer builds it (mentions and notes are added by the dispatcher)."""

    content: str | None = None
    embeds: Sequence[discord.Embed] = ()
    view: discord.ui.View | None = None


Renderer = Callable[[OutboxItem], "Rendered | Awaitable[Rendered]"]


def render_payload(item: OutboxItem) -> Rendered:
    """The default: `{"content": str, "embeds": [embed dicts]}` as it stands."""
    embeds = [discord.Embed.from_dict(e) for e in item.payload.get("embeds") or []]
    return Rendered(content=item.payload.get("content"), embeds=embeds)


class Renderers:
    """Which function renders each outbox kind; the extension point (see the module docstring)."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Renderer] = {}

    def register(self, kind: str, renderer: Renderer) -> None:
        if kind in self._by_kind:
            raise ValueError(f"outbox kind {kind!r} already has a renderer")
        self._by_kind[kind] = renderer

    async def render(self, item: OutboxItem) -> Rendered:
        result = self._by_kind.get(item.kind, render_payload)(item)
        if inspect.isawaitable(result):
            result = await result
        return result


def compose(content: str | None, delivery: Delivery) -> str | None:
    """The text to send: the mention line, the renderer's content, the late note; ≤ 2000."""
    head = []
    if delivery.mention is not None:
        why = (
            " your DMs are closed to me, so this reminder is here. To get them privately, allow "
            "direct messages from this server's members, then use any command in a DM with me."
            if delivery.dms_closed
            else ""
        )
        head.append(f"<@{delivery.mention}>{why}")
    tail = [LATE_NOTE] if delivery.late else []
    if content:
        room = MESSAGE_LIMIT - sum(len(line) + 1 for line in head + tail)
        if len(content) > room:
            content = content[: room - 1] + "…"
    text = "\n".join([*head, *([content] if content else []), *tail])
    return text or None


SEND_ERRORS = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError)


def _mentions(user_id: int | None) -> discord.AllowedMentions:
    users: list[discord.Object] | bool = [discord.Object(id=user_id)] if user_id else False
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


def _classify(exc: Exception, *, dm: bool) -> DeliveryError:
    if isinstance(exc, discord.RateLimited):
        return TryLater(f"rate limited, retry after {exc.retry_after:.1f}s", exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        reason = f"{exc.status}/{exc.code} {exc.text or ''}".strip()
        if exc.status == 429 or exc.status >= 500:
            return TryLater(reason)
        if dm and exc.status == 403:
            return DmClosed(reason)
        if not dm and exc.status in (403, 404):
            return ChannelUnusable(reason)
        return Undeliverable(reason)
    return TryLater(f"network: {exc!r}"[:500])


class DiscordSender:
    """Delivers rows with discord.py: the row's nonce, `allowed_mentions` always set."""

    def __init__(self, client: discord.Client, renderers: Renderers) -> None:
        self.client = client
        self.renderers = renderers
        # DM channel ids are stable: knowing them here tells when opening one costs a request.
        self._dm_channels: dict[int, int] = {}
        self._opening: dict[int, asyncio.Future[discord.DMChannel]] = {}

    async def send_dm(self, user_id: int, delivery: Delivery) -> None:
        try:
            channel_id = await self._dm_channel(user_id, delivery)
        except SEND_ERRORS as exc:
            raise _classify(exc, dm=True) from exc
        channel = self.client.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        await self._send(channel, delivery, dm=True)

    async def _dm_channel(self, user_id: int, delivery: Delivery) -> int:
        """The DM channel's id, opened once even when several sends to the user want it."""
        if user_id not in self._dm_channels and user_id not in self._opening:
            await delivery.pace()
        if user_id in self._dm_channels:
            return self._dm_channels[user_id]
        opening = self._opening.get(user_id)
        if opening is None:
            opening = asyncio.ensure_future(self.client.create_dm(discord.Object(id=user_id)))
            opening.add_done_callback(retrieve_exception)
            opening.add_done_callback(lambda _: self._opening.pop(user_id, None))
            self._opening[user_id] = opening
        channel = await asyncio.shield(opening)  # see finish_anyway
        self._dm_channels[user_id] = channel.id
        return channel.id

    async def send_to_channel(self, channel_id: int, delivery: Delivery) -> None:
        await self._send(self.client.get_partial_messageable(channel_id), delivery, dm=False)

    async def _send(self, channel: discord.abc.Messageable, delivery: Delivery, dm: bool) -> None:
        rendered = await self.renderers.render(delivery.item)
        try:
            await finish_anyway(
                channel.send(
                    content=compose(rendered.content, delivery),
                    embeds=list(rendered.embeds),
                    view=rendered.view,  # type: ignore[arg-type]  # None is fine at run time
                    nonce=delivery.item.nonce,
                    allowed_mentions=_mentions(delivery.mention),
                )
            )
        except SEND_ERRORS as exc:
            raise _classify(exc, dm=dm) from exc

    async def tell_moderators(self, guild_id: int, text: str) -> bool:
        """DM the server owner; if that fails, post in the server's system channel."""
        try:
            guild = self.client.get_guild(guild_id) or await self.client.fetch_guild(guild_id)
        except discord.HTTPException:
            return False
        none = discord.AllowedMentions.none()
        owner_id = guild.owner_id
        if owner_id is not None:
            with contextlib.suppress(discord.HTTPException):
                owner_dm = await self.client.create_dm(discord.Object(id=owner_id))
                await owner_dm.send(f"**{guild.name}**: {text}", allowed_mentions=none)
                return True
        if guild.system_channel is not None:  # cached guilds only: fetch_guild has no channels
            with contextlib.suppress(discord.HTTPException):
                await guild.system_channel.send(text, allowed_mentions=none)
                return True
        return False
