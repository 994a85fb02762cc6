"""/server stats: the dashboard's numbers as text (for screen readers), beside its picture."""

from __future__ import annotations

import io

import discord

from bot.services.server_stats import PRIVATE_BELOW, ServerStats
from bot.ui.dashboard import share_text
from bot.ui.embeds import BRAND_COLOUR, fit

FILENAME = "server-stats.png"
ALT_TEXT = (
    "Dashboard of this server's learners: tracks, how far they got per part, weekly active "
    "learners, the questions answered wrong most, drill answers per week and reminders. "
    "The same numbers are written out in the message."
)


def _day(stats_day: object) -> str:
    return f"{stats_day:%d %b}"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def stats_embed(stats: ServerStats) -> discord.Embed:
    have = "has" if stats.learners == 1 else "have"
    description = f"**{_plural(stats.learners, 'learner')}** {have} used the tutor in this server."
    if stats.small:
        description += (
            f"\nWith fewer than {PRIVATE_BELOW} learners every number is a count: a share "
            "would point at one person."
        )
    embed = discord.Embed(
        title="How this server learns", description=description, colour=BRAND_COLOUR
    )
    tracks = [f"{t.name}: {share_line(t.learners.count, t.learners.percent)}" for t in stats.tracks]
    _field(embed, "Learners by track", tracks or ["Nobody yet."])
    _field(
        embed,
        "How far they got: started → finished",
        [
            f"Part {p.number}: {p.started:,} → {share_line(p.finished.count, p.finished.percent)}"
            for p in stats.funnel
        ],
    )
    _field(
        embed,
        "Active learners per week (week of)",
        [" · ".join(f"{_day(w.start)}: {w.count:,}" for w in stats.weekly_active)],
    )
    hardest = []
    for rank, question in enumerate(stats.hardest, 1):
        chose = (
            f", most chose **{question.top_wrong}** ({question.top_wrong_count:,})"
            if question.top_wrong
            else ""
        )
        hardest.append(
            f"{rank}. Part {question.part} · {question.title}: "
            f"{share_text(question.wrong)} wrong of {_plural(question.wrong.of, 'answer')}{chose}"
        )
    _field(embed, "Debug This questions answered wrong most", hardest or ["No wrong answers yet."])
    if stats.drill is None:
        drill = ["No daily drill in this server (`/drill schedule`)."]
    else:
        drill = [
            " · ".join(f"{_day(w.start)}: {w.answers:,} by {w.members:,}" for w in stats.drill)
        ]
    _field(embed, "Daily drill: answers (by members) per week", drill)
    reminders = stats.reminders
    failed = reminders.failed
    share = f" ({failed.percent}%)" if failed.percent is not None else ""
    _field(
        embed,
        "Reminders, last 12 weeks",
        [
            f"{reminders.delivered:,} delivered; {failed.count:,} failed{share} because the "
            "learner's DMs were closed and no reminder channel took them."
        ],
    )
    embed.set_image(url=f"attachment://{FILENAME}")
    embed.set_footer(text="Only this server's learners count: those who used the tutor here.")
    return embed


def share_line(count: int, percent: int | None) -> str:
    return f"{count:,} ({percent}%)" if percent is not None else f"{count:,}"


def _field(embed: discord.Embed, name: str, lines: list[str]) -> None:
    embed.add_field(name=name, value=fit("\n".join(lines), 1024), inline=False)


def stats_file(png: bytes) -> discord.File:
    return discord.File(io.BytesIO(png), filename=FILENAME, description=ALT_TEXT)
