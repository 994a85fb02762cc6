"""Autocomplete for parts, tracks and time zones (answers within Discord's 3 s, max 25)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.services.timezones import suggest_zones
from bot.ui.items import services_of

if TYPE_CHECKING:
    from bot.bot import TutorBot

MAX_CHOICES = 25


async def part_choices(
    interaction: discord.Interaction[TutorBot], typed: str
) -> list[app_commands.Choice[str]]:
    course = services_of(interaction).learners.course
    needle = typed.strip().lower()[:100]
    choices = []
    for part in course.parts.values():
        label = f"{part.info.number} · {part.info.title}"
        if not part.written:
            label += " (coming soon)"
        if needle in label.lower():
            choices.append(app_commands.Choice(name=label[:100], value=str(part.info.number)))
    return choices[:MAX_CHOICES]


async def track_choices(
    interaction: discord.Interaction[TutorBot], typed: str
) -> list[app_commands.Choice[str]]:
    course = services_of(interaction).learners.course
    needle = typed.strip().lower()[:100]
    return [
        app_commands.Choice(name=f"{t.name} ({t.hours:g} h)"[:100], value=t.slug)
        for t in course.tracks
        if needle in t.name.lower() or needle in t.slug
    ][:MAX_CHOICES]


async def zone_choices(
    interaction: discord.Interaction[TutorBot], typed: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in suggest_zones(typed, MAX_CHOICES)]
