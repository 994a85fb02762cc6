"""What study groups look like: the group's card with its Join button, lists and boards.

Group names are stored inert (bot.services.group_names), and members appear as mentions
inside embeds, which Discord renders as names without pinging anyone.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord

from bot.delivery import NothingToSend, Rendered
from bot.services import Services
from bot.services.group_boards import GroupStanding, Standing, WeeklyReport
from bot.services.groups import Group, GroupLimits
from bot.services.outbox import OutboxItem
from bot.ui.access import only, server_of
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.items import SharedItem, services_of

if TYPE_CHECKING:
    from bot.bot import TutorBot

MAX_LISTED = 25


def _members_line(group: Group, limit: int) -> str:
    shown = " ".join(f"<@{m}>" for m in group.members[:40])
    more = f" and {len(group.members) - 40} more" if len(group.members) > 40 else ""
    return fit(f"{len(group.members)}/{limit}: {shown}{more}", 1024)


def card_embed(group: Group, limits: GroupLimits) -> discord.Embed:
    """The group's message in the channel, above its thread."""
    embed = discord.Embed(
        title=f"Study group · {group.name}",
        description=(
            f"Reading **{group.track.name}** together, **{group.pace}** articles a week. "
            "Press **Join** to join; the thread below is where the group talks."
        ),
        colour=BRAND_COLOUR,
    )
    embed.add_field(name="Owner", value=f"<@{group.owner_id}>")
    embed.add_field(name="Members", value=_members_line(group, limits.max_members), inline=False)
    if group.disbanded:
        embed.description = "This group was disbanded. Everyone keeps their own progress."
    return embed


def card_view(group: Group) -> discord.ui.View | None:
    if group.disbanded:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(JoinButton(group.id))
    return view


def thread_name(group: Group) -> str:
    return fit(f"📚 {group.name}", 100)


def info_embed(group: Group, limits: GroupLimits) -> discord.Embed:
    embed = card_embed(group, limits)
    embed.title = group.name
    if group.thread_id is not None:
        embed.add_field(name="Thread", value=f"<#{group.thread_id}>")
    embed.add_field(name="Track", value=f"{group.track.name} · parts {_parts(group)}")
    return embed


def _parts(group: Group) -> str:
    return ", ".join(str(n) for n in group.track.sequence)


def list_embed(groups: list[Group], limits: GroupLimits) -> discord.Embed:
    if not groups:
        text = "No study groups here yet. Start one with `/group create`."
    else:
        text = "\n".join(
            f"**{g.name}** · {g.track.name} · {g.pace}/week · "
            f"{len(g.members)}/{limits.max_members} members"
            + (f" · <#{g.thread_id}>" if g.thread_id else "")
            for g in groups[:MAX_LISTED]
        )
    return discord.Embed(title="Study groups", description=fit(text, 4096), colour=BRAND_COLOUR)


def leaderboard_embed(group: Group, standings: list[Standing]) -> discord.Embed:
    total = len(group.track.sequence)
    lines = [
        f"{rank}. <@{s.user_id}> · {s.parts_done}/{total} parts · {s.quiz_points:,} pts"
        for rank, s in enumerate(standings, start=1)
    ]
    embed = discord.Embed(
        title=f"{group.name} · leaderboard",
        description=fit("\n".join(lines) or "Nobody here yet.", 4096),
        colour=BRAND_COLOUR,
    )
    embed.set_footer(text="Parts of the group's track finished · points from group quizzes")
    return embed


def server_board_embed(board: list[GroupStanding]) -> discord.Embed:
    lines = [
        f"{rank}. **{g.name}** · {g.parts_per_member:.1f} parts per member · "
        f"{g.quiz_points:,} pts · {g.members} members"
        for rank, g in enumerate(board[:MAX_LISTED], start=1)
    ]
    return discord.Embed(
        title="Study groups of this server",
        description=fit("\n".join(lines) or "No study groups here yet.", 4096),
        colour=BRAND_COLOUR,
    )


def weekly_embed(report: WeeklyReport) -> discord.Embed:
    """The note in the group's thread: who finished what, who is behind, what is next."""
    group = report.group
    finished = [
        f"<@{m.user_id}>: " + ", ".join(f"Part {p.number} · {p.title}" for p in m.finished)
        for m in report.members
        if m.finished
    ]
    behind = [f"<@{m.user_id}> ({len(m.finished)} of {group.pace})" for m in report.behind]
    upcoming = [
        f"<@{m.user_id}>: Part {m.next_part.number} · {m.next_part.title}"
        for m in report.members
        if m.next_part is not None
    ]
    embed = discord.Embed(
        title=f"{group.name} · this week",
        description=f"The pace is **{group.pace}** articles a week on **{group.track.name}**.",
        colour=BRAND_COLOUR,
    )
    embed.add_field(
        name="Finished this week",
        value=fit("\n".join(finished) or "Nothing yet.", 1024),
        inline=False,
    )
    embed.add_field(
        name="Behind the pace",
        value=fit(", ".join(behind) or "Nobody: well done! 🎉", 1024),
        inline=False,
    )
    embed.add_field(
        name="Next up",
        value=fit("\n".join(upcoming) or "Everyone finished the track.", 1024),
        inline=False,
    )
    embed.set_footer(text="/read picks up where you left off · /group quiz to practise together")
    return embed


class JoinButton(
    SharedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="group:join:{group_id:int}",
):
    def __init__(self, group_id: int) -> None:
        custom_id = self.custom_id_for(group_id=group_id)
        super().__init__(
            discord.ui.Button(label="Join", style=discord.ButtonStyle.success, custom_id=custom_id)
        )
        self.group_id = group_id

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        groups = services_of(interaction).groups
        group = await groups.join(server_of(interaction), self.group_id, interaction.user.id)
        await interaction.response.edit_message(
            embed=card_embed(group, groups.limits), view=card_view(group)
        )
        where = f" Say hi in <#{group.thread_id}>." if group.thread_id else ""
        await interaction.followup.send(f"You're in **{group.name}**!{where}", ephemeral=True)
        await welcome(interaction.client, group, interaction.user.id)


async def welcome(client: discord.Client, group: Group, user_id: int) -> None:
    """Greet a member in the thread: the mention also adds them to it (best effort)."""
    if group.thread_id is None:
        return
    thread = client.get_partial_messageable(group.thread_id)
    # The Join itself worked; a missing greeting is not worth an error.
    with contextlib.suppress(discord.HTTPException):
        await thread.send(
            f"Welcome to **{group.name}**, <@{user_id}>! 👋", allowed_mentions=only(user_id)
        )


async def render_weekly(services: Services, item: OutboxItem) -> Rendered:
    """The outbox renderer of `group.weekly`: the note, and the next week's asked for."""
    report = await services.group_boards.weekly(int(item.payload["group_id"]))
    if report is None:
        raise NothingToSend("the group was disbanded")
    await services.groups.plan_weekly(report.group, chained_to=item.id)
    return Rendered(embeds=[weekly_embed(report)])
