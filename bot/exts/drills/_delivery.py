"""The drill's side of the outbox: renderers for `drill.post` and `drill.reveal`.

The dispatcher (bot.delivery) sends what a renderer returns and does not hand the sent
message back, nor tell a feature that Discord refused it. So:
- the post's message id is learned from the message's own creation event (`note_message`,
  fed by the cog's on_message), from any answer press, and as a last resort at the reveal
  from the channel's recent history;
- a channel that is gone or lacks a permission is found out before sending, from the cache
  discord.py keeps of channels, roles and overwrites: the drill pauses itself and the
  moderators are told once (the pause is a conditional UPDATE; only its winner tells);
- a post Discord refused anyway (the cache was behind) is found out at its reveal: no message
  carries its buttons, so the day is marked lost and the drill pauses with the same notice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date

import discord

from bot.bot import TutorBot
from bot.delivery import NothingToSend, Rendered, TryLater, Undeliverable
from bot.exts.drills._views import announcement, post_message, reveal_embed, revealed_content
from bot.services.drills import NotPosting, Reveal
from bot.services.outbox import OutboxItem
from bot.ui.access import NOBODY

log = logging.getLogger(__name__)

NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "read_message_history": "Read Message History",
}
POST_BUTTON = re.compile(r"^drill:answer:(\d+):")
HISTORY_SCAN = 50


def needs(channel_id: int) -> str:
    return f"I need {', '.join(NEEDED.values())} in <#{channel_id}>"


def fix_hint(channel_id: int) -> str:
    return (
        f"To fix it: {needs(channel_id)} (or choose another channel with `/drill schedule`), "
        "then run `/drill resume`."
    )


def post_id_of(message: discord.Message) -> int | None:
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = POST_BUTTON.match(getattr(child, "custom_id", None) or "")
            if match:
                return int(match[1])
    return None


class DrillDelivery:
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.drills = bot.services.drills

    def channel_problem(self, channel_id: int) -> str | None:
        """Why the bot cannot post the drill in the channel, or None if it can."""
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel):
            return f"the channel <#{channel_id}> is gone, or I can no longer see it"
        granted = channel.permissions_for(channel.guild.me)
        missing = [label for flag, label in NEEDED.items() if not getattr(granted, flag)]
        if missing:
            return f"I'm missing {', '.join(missing)} in <#{channel_id}>"
        return None

    async def trouble(self, guild_id: int, channel_id: int, problem: str) -> None:
        """Pause the drill; the first to pause it tells the moderators what to fix."""
        if not await self.drills.pause(guild_id, problem):
            return
        text = f"The daily drill is paused: {problem}. {fix_hint(channel_id)}"
        try:
            told = await self.bot.dispatcher.sender.tell_moderators(guild_id, text)
        except Exception:
            log.exception("drill: could not tell the moderators of guild %s", guild_id)
            return
        if not told:
            log.warning("drill: found no way to tell the moderators of guild %s", guild_id)

    async def render_post(self, item: OutboxItem) -> Rendered:
        payload = item.payload
        guild_id, channel_id = item.guild_id or 0, item.channel_id or 0
        problem = self.channel_problem(channel_id)
        if problem is not None:
            await self.trouble(guild_id, channel_id, problem)
            raise Undeliverable(f"drill paused: {problem}")
        try:
            plan = await self.drills.open_post(
                int(payload["drill_id"]),
                str(payload["plan"]),
                date.fromisoformat(payload["day"]),
                item.due_at,
                retry=item.attempts > 1,
            )
        except NotPosting as exc:
            raise NothingToSend(exc.reason) from None
        content, embed, view = post_message(plan)
        return Rendered(content=content, embeds=[embed], view=view)

    async def note_message(self, message: discord.Message) -> None:
        """Our own message with drill buttons: remember it as the post's message."""
        me = self.bot.user
        if me is None or message.author.id != me.id:
            return
        post_id = post_id_of(message)
        if post_id is not None:
            await self.drills.attach_message(post_id, message.id)

    async def render_reveal(self, item: OutboxItem) -> Rendered:
        reveal = await self.drills.reveal(int(item.payload["post_id"]))
        if reveal is None:
            raise NothingToSend("the drill never went out")
        if item.channel_id is not None:  # where it was posted, even if the drill moved since
            reveal = replace(reveal, channel_id=item.channel_id)
        message_id = reveal.message_id or await self._find_post(reveal)
        if message_id is None:
            await self.drills.lost(reveal.post_id)
            problem = f"the drill of {reveal.day:%d %B} never appeared in <#{reveal.channel_id}>"
            await self.trouble(reveal.guild_id, reveal.channel_id, problem)
            raise Undeliverable(problem)
        channel = self.bot.get_partial_messageable(reveal.channel_id)
        try:
            await channel.get_partial_message(message_id).edit(
                content=revealed_content(reveal),
                embed=reveal_embed(reveal),
                view=None,
                allowed_mentions=NOBODY,
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            problem = f"I could not show the answer in <#{reveal.channel_id}> ({exc.status})"
            await self.trouble(reveal.guild_id, reveal.channel_id, problem)
            raise Undeliverable(problem) from None
        except discord.HTTPException as exc:
            raise TryLater(f"editing the drill: {exc.status}") from None
        return Rendered(content=announcement(reveal, message_id))

    async def _find_post(self, reveal: Reveal) -> int | None:
        """The post's message among the channel's recent ones (its creation went unseen)."""
        channel = self.bot.get_channel(reveal.channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return None
        try:
            async for message in channel.history(limit=HISTORY_SCAN):
                mine = self.bot.user is not None and message.author.id == self.bot.user.id
                if mine and post_id_of(message) == reveal.post_id:
                    await self.drills.attach_message(reveal.post_id, message.id)
                    return message.id
        except discord.HTTPException:
            return None
        return None
