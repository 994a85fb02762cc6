"""/progress: completion, hours, quiz accuracy, streaks, what's next, and a picture of it."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.services.progress import ProgressReport, day_count, progress_bar
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.items import in_server
from bot.ui.progress_card import ProgressCardData, render_progress_card


def progress_embed(report: ProgressReport) -> discord.Embed:
    done, total = report.parts_done, len(report.parts)
    embed = discord.Embed(title=f"Your progress · {report.track.name}", colour=BRAND_COLOUR)
    embed.description = (
        f"`{progress_bar(done, total)}` **{done}/{total}** parts\n"
        f"Read about **{report.hours_read:g} h** of the track's ~{report.track.hours:g} h\n"
        f"Streak: **{day_count(report.current_streak)}** (best {day_count(report.best_streak)})"
    )
    if report.labs:
        embed.description += f"\nLabs passed: **{report.labs_passed}/{report.labs}**"
    scored = [p for p in report.parts if p.accuracy is not None]
    if scored:
        embed.add_field(
            name="Debug This accuracy",
            value="\n".join(
                f"Part {p.info.number}: {p.correct}/{p.answered} ({p.accuracy:.0%})"
                for p in scored[:20]
            ),
        )
    nxt = report.next_up
    embed.add_field(
        name="Next",
        value=f"Part {nxt.number} · {nxt.title}" if nxt else "Track complete 🎉",
    )
    return embed


def card_data(report: ProgressReport, name: str) -> ProgressCardData:
    nxt = report.next_up
    return ProgressCardData(
        learner_name=name,
        track_name=report.track.name,
        parts_done=report.parts_done,
        parts_total=len(report.parts),
        hours_read=report.hours_read,
        hours_estimate=report.track.hours,
        current_streak=report.current_streak,
        best_streak=report.best_streak,
        quiz_accuracy=report.quiz_accuracy,
        activity=report.activity,
        today=report.today,
        next_up=f"Part {nxt.number} · {nxt.title}" if nxt else "Track complete",
    )


class Progress(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="progress", description="Your progress, streak and what's next")
    async def progress(self, interaction: discord.Interaction[TutorBot]) -> None:
        # The picture takes a moment: answer Discord first, then follow up.
        await interaction.response.defer(ephemeral=in_server(interaction), thinking=True)
        report = await self.bot.services.progress.report(interaction.user.id)
        png = await asyncio.to_thread(
            render_progress_card, card_data(report, interaction.user.display_name)
        )
        embed = progress_embed(report)
        embed.set_image(url="attachment://progress.png")
        await interaction.followup.send(
            embed=embed, file=discord.File(io.BytesIO(png), filename="progress.png")
        )
