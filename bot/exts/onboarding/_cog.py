"""/start, /track and /settings."""

from __future__ import annotations

from datetime import date

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.onboarding._views import enrolled_embed, profile_message, reminder_text
from bot.services.learners import KEEP
from bot.ui.autocomplete import track_choices, zone_choices
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.items import in_server

DELIVERY = [
    app_commands.Choice(name="by direct message", value="dm"),
    app_commands.Choice(name="in this server", value="server"),
]
Hour = app_commands.Range[int, 0, 23]


class Onboarding(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="start", description="Start the course: pick a track and a schedule")
    @app_commands.describe(
        time_zone="Your time zone, e.g. Europe/Berlin (for reminders and streaks)",
        reminder_hour="Local hour for your daily reminder (0-23)",
        reminders="Where reminders should reach you",
    )
    @app_commands.autocomplete(time_zone=zone_choices)
    @app_commands.choices(reminders=DELIVERY)
    async def start(
        self,
        interaction: discord.Interaction[TutorBot],
        time_zone: str | None = None,
        reminder_hour: Hour | None = None,
        reminders: app_commands.Choice[str] | None = None,
    ) -> None:
        learners = self.bot.services.learners
        welcome = await learners.profile(interaction.user.id) is None
        profile = await learners.start(
            interaction.user.id,
            time_zone=time_zone,
            reminder_hour=reminder_hour,
            delivery=reminders.value if reminders else None,
            guild_id=interaction.guild_id,
        )
        await self.bot.services.reminders.reschedule(interaction.user.id)
        embed, view = profile_message(
            interaction.user.id, profile, learners.course, welcome=welcome
        )
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=in_server(interaction)
        )

    @app_commands.command(name="track", description="Show or change your learning track")
    @app_commands.describe(track="The track to switch to (your progress is kept)")
    @app_commands.autocomplete(track=track_choices)
    async def track(
        self, interaction: discord.Interaction[TutorBot], track: str | None = None
    ) -> None:
        learners = self.bot.services.learners
        private = in_server(interaction)
        if track is None:
            profile = await learners.profile(interaction.user.id)
            if profile is None:
                from bot.services.errors import NotStarted

                raise NotStarted()
            embed, view = profile_message(
                interaction.user.id, profile, learners.course, welcome=False
            )
            await interaction.response.send_message(embed=embed, view=view, ephemeral=private)
            return
        profile = await learners.set_track(interaction.user.id, track)
        await interaction.response.send_message(embed=enrolled_embed(profile), ephemeral=private)

    @app_commands.command(
        name="settings", description="Time zone, reminder hour, quiet hours, pause"
    )
    @app_commands.describe(
        time_zone="Your time zone, e.g. America/New_York",
        reminder_hour="Local hour for your daily reminder (0-23)",
        quiet_hours="No reminders in these hours, e.g. 22-7; 'off' to clear",
        reminders="Where reminders should reach you",
        pause_until="Pause reminders until a date (YYYY-MM-DD); 'off' to resume",
    )
    @app_commands.autocomplete(time_zone=zone_choices)
    @app_commands.choices(reminders=DELIVERY)
    async def settings(
        self,
        interaction: discord.Interaction[TutorBot],
        time_zone: str | None = None,
        reminder_hour: Hour | None = None,
        quiet_hours: str | None = None,
        reminders: app_commands.Choice[str] | None = None,
        pause_until: str | None = None,
    ) -> None:
        profile = await self.bot.services.learners.update_settings(
            interaction.user.id,
            time_zone=time_zone if time_zone is not None else KEEP,
            reminder_hour=reminder_hour if reminder_hour is not None else KEEP,
            quiet_hours=parse_quiet_hours(quiet_hours) if quiet_hours is not None else KEEP,
            delivery=reminders.value if reminders else KEEP,
            pause_until=parse_pause(pause_until) if pause_until is not None else KEEP,
        )
        await self.bot.services.reminders.reschedule(interaction.user.id)
        embed = discord.Embed(title="Your settings", colour=BRAND_COLOUR)
        embed.add_field(name="Time zone", value=profile.time_zone)
        embed.add_field(name="Reminders", value=reminder_text(profile))
        await interaction.response.send_message(embed=embed, ephemeral=in_server(interaction))


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    cleaned = text.strip().lower()
    if cleaned in ("off", "none", ""):
        return None
    start, sep, end = cleaned.partition("-")
    if sep and start.strip().isdecimal() and end.strip().isdecimal():
        return int(start), int(end)
    raise UserError("Write quiet hours as two hours, e.g. `22-7`, or `off`.")


def parse_pause(text: str) -> date | None:
    cleaned = text.strip().lower()
    if cleaned in ("off", "none", "resume", ""):
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise UserError("Write the date as YYYY-MM-DD, e.g. `2026-12-24`, or `off`.") from None
