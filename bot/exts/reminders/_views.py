"""The daily digest message and its buttons: start the review, snooze, pause a week."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import discord

from bot.delivery import NothingToSend, Rendered
from bot.exts.quiz import due_message, review_session
from bot.services import Services
from bot.services.digest import Digest
from bot.services.outbox import OutboxItem
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.items import OwnedItem, in_server, services_of

if TYPE_CHECKING:
    from bot.bot import TutorBot

NOTHING_TO_SAY = "no digest today: nothing due, on pace, or one was sent already"


def digest_embed(digest: Digest) -> discord.Embed:
    lines = []
    if digest.due_cards:
        s = "" if digest.due_cards == 1 else "s"
        lines.append(f"🔁 **{digest.due_cards}** card{s} due for review.")
    for info, step in digest.revisit:
        lines.append(f"📖 Part {info.number} · {info.title}, day {step.day}: {step.text}")
    for info in digest.monthly_quickrefs:
        lines.append(f"🗂️ Monthly review: `/quickref {info.number}` ({info.title})")
    for info, accuracy in digest.weak_parts:
        lines.append(
            f"🎯 Part {info.number} · {info.title} is at {accuracy:.0%}: "
            f"`/practice part:{info.number}` aims at it."
        )
    low, high = digest.pace
    if digest.next_part is not None:
        lines.append(
            f"📅 This week: {digest.done_this_week} of {low}–{high} articles. "
            f"Next: Part {digest.next_part.number} · {digest.next_part.title} (`/read`)."
        )
    return discord.Embed(
        title="Your Docker practice for today", description="\n".join(lines), colour=BRAND_COLOUR
    )


def digest_view(owner: int, digest: Digest) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if digest.due_cards:
        view.add_item(DigestButton(owner, "review"))
    for action in ("hour", "evening", "tomorrow", "pause"):
        view.add_item(DigestButton(owner, action))
    return view


async def render_digest(services: Services, item: OutboxItem) -> Rendered:
    learner_id = int(item.payload["learner_id"])
    await services.reminders.after_sent(learner_id, item.due_at)
    digest = await services.reminders.digest_to_send(learner_id, item.payload)
    if digest is None:
        raise NothingToSend(NOTHING_TO_SAY)
    return Rendered(
        embeds=[digest_embed(digest)], view=digest_view(digest.learner_discord_id, digest)
    )


class DigestButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="digest:{owner:int}:{action:review|hour|evening|tomorrow|pause}",
):
    LABELS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "review": ("Start review", discord.ButtonStyle.success),
        "hour": ("Snooze 1 h", discord.ButtonStyle.secondary),
        "evening": ("This evening", discord.ButtonStyle.secondary),
        "tomorrow": ("Tomorrow", discord.ButtonStyle.secondary),
        "pause": ("Pause a week", discord.ButtonStyle.danger),
    }

    def __init__(self, owner: int, action: str) -> None:
        label, style = self.LABELS[action]
        custom_id = self.custom_id_for(owner=owner, action=action)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.owner_id, self.action = owner, action

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        private = in_server(interaction)
        if self.action == "review":
            due = await services.review.due(self.owner_id, limit=1)
            if not due:
                await interaction.response.send_message(
                    "Nothing is due any more. 🎉", ephemeral=private
                )
                return
            session = review_session(services.clock())
            embed, view = due_message(self.owner_id, services, due[0], session)
            await interaction.response.send_message(
                embed=embed, view=view or discord.utils.MISSING, ephemeral=private
            )
            return
        if self.action == "pause":
            until = await services.reminders.pause_week(self.owner_id, services.learners)
            text = "Reminders paused for a week"
        else:
            # (type: ignore on the next line) the custom_id template allows only valid actions
            until = await services.reminders.snooze(self.owner_id, self.action)  # type: ignore[arg-type]
            text = "Snoozed: I'll remind you again"
        when = f" <t:{int(until.timestamp())}:f>" if until else ""
        await interaction.response.send_message(
            f"{text}{' until' if self.action == 'pause' else ''}{when}.", ephemeral=private
        )
