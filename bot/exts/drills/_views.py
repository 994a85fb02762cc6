"""What the daily drill looks like: the post with its answer buttons, the reveal, the stats."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import discord

from bot.services.drill_stats import DrillStats
from bot.services.drills import DrillInfo, PostPlan, Reveal, Upcoming
from bot.services.local_time import span
from bot.ui.access import server_of
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.items import SharedItem, services_of
from content.model import Question

if TYPE_CHECKING:
    from bot.bot import TutorBot

RIGHT = discord.Colour.green()
BAR = 12


def _ts(moment: datetime, style: str) -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def question_embed(question: Question, *, solved: bool = False) -> discord.Embed:
    text = f"{question.body}\n\n{question.solution}" if solved else question.body
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(text, 4096),
        colour=RIGHT if solved else BRAND_COLOUR,
    )
    embed.set_footer(text=f"Part {question.part} · /read {question.part} to learn it")
    return embed


def post_message(plan: PostPlan) -> tuple[str, discord.Embed, discord.ui.View]:
    content = (
        f"**Daily drill** · {_day(plan.day)} · one answer each, changeable until the reveal "
        f"at {_ts(plan.reveal_at, 't')} ({_ts(plan.reveal_at, 'R')})"
    )
    view = discord.ui.View(timeout=None)
    for choice in plan.question.choices:
        view.add_item(DrillAnswerButton(plan.post_id, choice.letter))
    return content, question_embed(plan.question), view


def revealed_content(reveal: Reveal) -> str:
    answer = reveal.question.correct
    return f"**Daily drill** · {_day(reveal.day)} · revealed: the answer is **{answer}**"


def reveal_embed(reveal: Reveal) -> discord.Embed:
    embed = question_embed(reveal.question, solved=True)
    total = reveal.total
    lines = []
    for letter, count in reveal.counts.items():
        share = count / total if total else 0.0
        filled = round(BAR * share)
        mark = " ✅" if letter == reveal.question.correct else ""
        lines.append(f"`{letter} {'▓' * filled}{'░' * (BAR - filled)}` {count} · {share:.0%}{mark}")
    lines.append(f"**{total}** answered · **{reveal.right}** right")
    embed.add_field(name="How the server answered", value=fit("\n".join(lines), 1024), inline=False)
    hot = [f"<@{s.user_id}> 🔥 {s.current}" for s in reveal.streaks[:5] if s.current > 1]
    if hot:
        embed.add_field(name="Drill streaks", value=fit(" · ".join(hot), 1024), inline=False)
    return embed


def announcement(reveal: Reveal, message_id: int) -> str:
    link = f"https://discord.com/channels/{reveal.guild_id}/{reveal.channel_id}/{message_id}"
    return (
        f"The answer to the daily drill of {_day(reveal.day)} is out: "
        f"**{reveal.question.correct}** · {reveal.right} of {reveal.total} right. {link}"
    )


def describe(info: DrillInfo) -> str:
    head = (
        f"Daily drill in <#{info.channel_id}> at **{info.at:%H:%M}** {info.time_zone} time "
        f"(it follows that zone's clock changes); answers are revealed "
        f"{span(info.reveal_after)} after the post."
    )
    if info.paused:
        return f"{head}\n⏸ **Paused**: {info.paused_reason}\n`/drill resume` starts it again."
    assert info.next_post is not None
    return f"{head}\nNext drill: {_ts(info.next_post, 'F')} ({_ts(info.next_post, 'R')})."


def preview_embed(upcoming: Upcoming) -> discord.Embed:
    embed = question_embed(upcoming.question, solved=True)
    embed.title = fit(f"Next drill · {_day(upcoming.day)} · {upcoming.question.title}", 256)
    embed.set_footer(text="Only you see this. /drill skip sets it aside (and skips that day).")
    return embed


def stats_embed(stats: DrillStats) -> discord.Embed:
    weeks = [
        f"Week of {_day(w.start)}: **{w.posts}** drills · {w.answers} answers · "
        f"{w.members} members" + (f" · {w.right / w.answers:.0%} right" if w.answers else "")
        for w in stats.weeks
    ]
    best = [f"<@{s.user_id}> · best **{s.best}** · now {s.current}" for s in stats.streaks]
    embed = discord.Embed(title="Daily drill · the last four weeks", colour=BRAND_COLOUR)
    embed.description = fit("\n".join(weeks), 4096)
    embed.add_field(
        name="Best streaks (drills answered in a row)",
        value=fit("\n".join(best) or "Nobody has answered yet.", 1024),
        inline=False,
    )
    return embed


class DrillAnswerButton(
    SharedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="drill:answer:{post_id:int}:{letter:A|B|C|D|E}",
):
    def __init__(self, post_id: int, letter: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=letter,
                style=discord.ButtonStyle.secondary,
                custom_id=self.custom_id_for(post_id=post_id, letter=letter),
            )
        )
        self.post_id, self.letter = post_id, letter

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        drills = services_of(interaction).drills
        receipt = await drills.answer(
            server_of(interaction), self.post_id, interaction.user.id, self.letter
        )
        changed = f" (instead of {receipt.previous})" if receipt.previous else ""
        await interaction.response.send_message(
            f"Recorded: **{receipt.letter}**{changed}, revealed at {_ts(receipt.reveal_at, 't')} "
            f"({_ts(receipt.reveal_at, 'R')}). You can change it until then.",
            ephemeral=True,
        )
        if interaction.message is not None:
            # The post's message id, in case its creation event was missed (see _delivery).
            await drills.attach_message(self.post_id, interaction.message.id)
