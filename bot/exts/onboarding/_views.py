"""The onboarding card: the learner's choices and a track picker."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.services.learners import Profile
from bot.ui.embeds import BRAND_COLOUR
from bot.ui.items import OwnedItem, services_of
from content.model import Course, Track

if TYPE_CHECKING:
    from bot.bot import TutorBot


def parts_text(track: Track) -> str:
    return ", ".join(str(n) for n in track.sequence)


def profile_message(
    owner: int, profile: Profile, course: Course, *, welcome: bool
) -> tuple[discord.Embed, discord.ui.View]:
    if welcome:
        intro = (
            f"Welcome to **{course.title}**. Pick a track below: every track starts with Part 0, "
            "then goes in part order. You can change it any time with `/track`; nothing you "
            "have read or answered is lost."
        )
    else:
        intro = "Your current choices. Change the track below, or the rest with `/settings`."
    embed = discord.Embed(title="Your course", description=intro, colour=BRAND_COLOUR)
    for track in course.tracks:
        marker = " ← yours" if profile.track == track else ""
        embed.add_field(
            name=f"{track.name} · {track.hours:g} h{marker}",
            value=f"{track.summary}\nParts {parts_text(track)}",
            inline=False,
        )
    embed.add_field(name="Time zone", value=profile.time_zone)
    embed.add_field(name="Reminders", value=reminder_text(profile))
    view = discord.ui.View(timeout=None)
    view.add_item(TrackSelect(owner, course, profile.track))
    return embed, view


def reminder_text(profile: Profile) -> str:
    where = "by DM" if profile.delivery == "dm" else "in the server"
    text = f"{profile.reminder_hour:02d}:00 local, {where}"
    if profile.quiet_hours:
        start, end = profile.quiet_hours
        text += f"; quiet {start:02d}:00–{end:02d}:00"
    if profile.paused_until:
        text += f"; paused until <t:{int(profile.paused_until.timestamp())}:D>"
    return text


def enrolled_embed(profile: Profile) -> discord.Embed:
    track = profile.track
    assert track is not None
    return discord.Embed(
        title=f"Track: {track.name}",
        description=(
            f"{track.summary}. Parts {parts_text(track)}, about {track.hours:g} hours.\n"
            "Run `/read` to start (or continue) reading. The study plan: Part 0 today, "
            "Part 1 over the next two days, then 2–3 articles a week."
        ),
        colour=BRAND_COLOUR,
    )


class TrackSelect(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Select],
    id_format="track:{owner:int}",
):
    def __init__(
        self, owner: int, course: Course | None = None, current: Track | None = None
    ) -> None:
        options = [
            discord.SelectOption(
                label=track.name[:100],
                value=track.slug,
                description=f"{track.summary} · {track.hours:g} h"[:100],
                default=track == current,
            )
            for track in (course.tracks if course else ())
        ]
        super().__init__(
            discord.ui.Select(
                placeholder="Choose your track…",
                options=options or [discord.SelectOption(label="…")],
                custom_id=self.custom_id_for(owner=owner),
            )
        )
        self.owner_id = owner

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        learners = services_of(interaction).learners
        profile = await learners.start(self.owner_id, track=self.item.values[0])
        await interaction.response.edit_message(embed=enrolled_embed(profile), view=None)
