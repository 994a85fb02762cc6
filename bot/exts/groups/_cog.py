"""/group: create, join, leave, info, list, rename, remove, transfer, disband, quiz,
leaderboard and channel. The services decide; this turns it into messages and threads."""

from __future__ import annotations

import contextlib
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import TutorBot
from bot.errors import UserError
from bot.exts.groups._live import QuizConductor
from bot.exts.groups._views import (
    card_embed,
    card_view,
    info_embed,
    leaderboard_embed,
    list_embed,
    server_board_embed,
    thread_name,
    welcome,
)
from bot.services.group_names import MAX_LENGTH
from bot.services.groups import Group, GroupService
from bot.ui.access import NOBODY, asking_member, only, server_of
from bot.ui.autocomplete import MAX_CHOICES, part_choices, track_choices
from bot.ui.items import services_of

THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: the weekly note keeps it awake
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


async def group_names(
    interaction: discord.Interaction[TutorBot], typed: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    names = await services_of(interaction).groups.names(interaction.guild_id, typed, MAX_CHOICES)
    return [app_commands.Choice(name=name, value=name) for name in names]


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    granted = channel.permissions_for(me)
    return [label for flag, label in NEEDED.items() if not getattr(granted, flag)]


class Groups(commands.Cog):
    group = app_commands.Group(
        name="group", description="Study groups: read a track together", guild_only=True
    )

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.conductor = QuizConductor(bot, bot.services)
        self._recovered = False

    @property
    def groups(self) -> GroupService:
        return self.bot.services.groups

    async def cog_unload(self) -> None:
        self.conductor.stop()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if not self._recovered:  # on_ready comes again after reconnects
            self._recovered = True
            await self.conductor.recover()

    async def _which(
        self, interaction: discord.Interaction[TutorBot], name: str | None, *, theirs: bool = True
    ) -> Group:
        return await self.groups.resolve(
            server_of(interaction),
            interaction.user.id,
            name=name,
            channel_id=interaction.channel_id,
            theirs=theirs,
        )

    # -- creating ------------------------------------------------------------------------

    @group.command(name="create", description="Start a study group, with its own thread")
    @app_commands.describe(
        name=f"The group's name (3 to {MAX_LENGTH} characters)",
        track="The track to read together (default: yours)",
        pace="Articles a week (default 2)",
    )
    @app_commands.autocomplete(track=track_choices)
    async def create(
        self,
        interaction: discord.Interaction[TutorBot],
        name: app_commands.Range[str, 1, 64],
        track: str | None = None,
        pace: app_commands.Range[int, 1, 7] | None = None,
    ) -> None:
        guild_id = server_of(interaction)
        home = await self._home(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        group = await self.groups.create(
            guild_id, interaction.user.id, name, track=track, pace=pace
        )
        try:
            group = await self._open(group, home)
        except discord.HTTPException as exc:
            await self.groups.discard(group.id)
            raise UserError(
                f"I couldn't set the group up in {home.mention} (Discord said {exc.status}: "
                f"{exc.text or 'no reason given'}). I need {', '.join(NEEDED.values())} there."
            ) from None
        await interaction.followup.send(
            f"**{group.name}** is ready: <#{group.thread_id}>. Others join with its button or "
            f"`/group join`.",
            ephemeral=True,
        )

    async def _home(self, interaction: discord.Interaction[TutorBot]) -> discord.TextChannel:
        """The moderators' channel for groups, else the channel the command runs in."""
        guild = interaction.guild
        if guild is None:
            raise UserError("This works in a server, not in direct messages.")
        chosen = (await self.groups.server(guild.id)).group_channel_id
        channel: object = guild.get_channel(chosen) if chosen else None
        if channel is None:
            channel = interaction.channel
            if isinstance(channel, discord.Thread):
                channel = channel.parent
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Run this in a text channel: the group's thread starts there.")
        missing = missing_permissions(channel, guild.me)
        if missing:
            raise UserError(
                f"I can't start a group in {channel.mention}: I'm missing "
                f"{', '.join(missing)} there. Ask a moderator to allow them."
            )
        return channel

    async def _open(self, group: Group, home: discord.TextChannel) -> Group:
        card = await home.send(
            embed=card_embed(group, self.groups.limits),
            view=card_view(group),  # type: ignore[arg-type]  # a new group is never disbanded
            allowed_mentions=NOBODY,
        )
        try:
            thread = await card.create_thread(
                name=thread_name(group), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            await thread.send(
                f"<@{group.owner_id}> started **{group.name}**: {group.track.name}, "
                f"{group.pace} articles a week. Quizzes (`/group quiz`) and the weekly note "
                "happen here.",
                allowed_mentions=only(group.owner_id),
            )
        except discord.HTTPException:
            with contextlib.suppress(discord.HTTPException):
                await card.delete()
            raise
        return await self.groups.place(
            group.id, channel_id=home.id, thread_id=thread.id, join_message_id=card.id
        )

    # -- membership ----------------------------------------------------------------------

    @group.command(name="join", description="Join a study group")
    @app_commands.describe(group="The group (default: the one whose thread this is)")
    @app_commands.autocomplete(group=group_names)
    async def join(
        self, interaction: discord.Interaction[TutorBot], group: str | None = None
    ) -> None:
        target = await self._which(interaction, group, theirs=False)
        joined = await self.groups.join(target.guild_id, target.id, interaction.user.id)
        where = f" Say hi in <#{joined.thread_id}>." if joined.thread_id else ""
        await interaction.response.send_message(
            f"You're in **{joined.name}**!{where}", ephemeral=True
        )
        await self._refresh_card(joined)
        await welcome(self.bot, joined, interaction.user.id)

    @group.command(name="leave", description="Leave a study group (you keep your progress)")
    @app_commands.autocomplete(group=group_names)
    async def leave(
        self, interaction: discord.Interaction[TutorBot], group: str | None = None
    ) -> None:
        target = await self._which(interaction, group)
        left = await self.groups.leave(target.guild_id, target.id, interaction.user.id)
        text = f"You left **{target.name}**. Your own progress stays yours."
        if left.new_owner is not None:
            text += f" <@{left.new_owner}> owns it now."
            await self._say(left.group, f"<@{left.new_owner}> now owns the group.")
        if left.disbanded:
            text += " You were the last member, so the group is closed."
        await interaction.response.send_message(text, ephemeral=True)
        await self._refresh_card(left.group)

    @group.command(name="info", description="A study group's track, pace, members and thread")
    @app_commands.autocomplete(group=group_names)
    async def info(
        self, interaction: discord.Interaction[TutorBot], group: str | None = None
    ) -> None:
        target = await self._which(interaction, group)
        await interaction.response.send_message(
            embed=info_embed(target, self.groups.limits), ephemeral=True
        )

    @group.command(name="list", description="The study groups of this server")
    async def list_groups(self, interaction: discord.Interaction[TutorBot]) -> None:
        groups = await self.groups.listing(server_of(interaction))
        await interaction.response.send_message(
            embed=list_embed(groups, self.groups.limits), ephemeral=True
        )

    # -- managing (owner or moderators) ----------------------------------------------------

    @group.command(name="rename", description="Rename a group (owner or moderators)")
    @app_commands.autocomplete(group=group_names)
    async def rename(
        self,
        interaction: discord.Interaction[TutorBot],
        name: app_commands.Range[str, 1, 64],
        group: str | None = None,
    ) -> None:
        target = await self._which(interaction, group)
        renamed = await self.groups.rename(
            target.guild_id, target.id, asking_member(interaction), name
        )
        await interaction.response.send_message(f"Renamed to **{renamed.name}**.", ephemeral=True)
        await self._refresh_card(renamed)
        thread = self.bot.get_channel(renamed.thread_id or 0)
        if isinstance(thread, discord.Thread):
            with contextlib.suppress(discord.HTTPException):
                await thread.edit(name=thread_name(renamed))

    @group.command(name="remove", description="Remove a member (owner or moderators)")
    @app_commands.describe(member="The member to remove")
    @app_commands.autocomplete(group=group_names)
    async def remove(
        self,
        interaction: discord.Interaction[TutorBot],
        member: discord.User,
        group: str | None = None,
    ) -> None:
        target = await self._which(interaction, group)
        updated = await self.groups.remove_member(
            target.guild_id, target.id, asking_member(interaction), member.id
        )
        await interaction.response.send_message(
            f"<@{member.id}> is no longer in **{updated.name}**.",
            ephemeral=True,
            allowed_mentions=NOBODY,
        )
        await self._refresh_card(updated)

    @group.command(name="transfer", description="Hand the group over to a member")
    @app_commands.describe(member="The member who will own the group")
    @app_commands.autocomplete(group=group_names)
    async def transfer(
        self,
        interaction: discord.Interaction[TutorBot],
        member: discord.User,
        group: str | None = None,
    ) -> None:
        target = await self._which(interaction, group)
        updated = await self.groups.transfer(
            target.guild_id, target.id, asking_member(interaction), member.id
        )
        await interaction.response.send_message(
            f"<@{member.id}> now owns **{updated.name}**.", ephemeral=True, allowed_mentions=NOBODY
        )
        await self._refresh_card(updated)
        await self._say(updated, f"<@{member.id}> now owns the group.")

    @group.command(name="disband", description="Close a group; everyone keeps their progress")
    @app_commands.autocomplete(group=group_names)
    async def disband(
        self, interaction: discord.Interaction[TutorBot], group: str | None = None
    ) -> None:
        target = await self._which(interaction, group)
        gone = await self.groups.disband(target.guild_id, target.id, asking_member(interaction))
        await interaction.response.send_message(
            f"**{gone.name}** is disbanded. Everyone keeps their own progress.", ephemeral=True
        )
        await self._refresh_card(gone)
        await self._say(
            gone,
            f"This group was disbanded by <@{interaction.user.id}>. Everyone keeps their "
            "progress; `/group list` shows the groups still going.",
        )

    @group.command(name="channel", description="Where new groups' threads go (moderators)")
    @app_commands.describe(channel="Leave it out to see the current choice")
    async def channel(
        self, interaction: discord.Interaction[TutorBot], channel: discord.TextChannel | None = None
    ) -> None:
        guild_id = server_of(interaction)
        if channel is None:
            chosen = (await self.groups.server(guild_id)).group_channel_id
            text = (
                f"New groups start in <#{chosen}>."
                if chosen
                else "New groups start in the channel where `/group create` runs."
            )
        else:
            await self.groups.set_group_channel(guild_id, asking_member(interaction), channel.id)
            text = f"New groups start in {channel.mention}."
        await interaction.response.send_message(text, ephemeral=True)

    # -- quiz and leaderboard --------------------------------------------------------------

    @group.command(name="quiz", description="A live quiz in the group's thread")
    @app_commands.describe(
        part="A part number or title (default: the part you read last)",
        questions="How many questions (default 5)",
    )
    @app_commands.autocomplete(part=part_choices, group=group_names)
    async def quiz(
        self,
        interaction: discord.Interaction[TutorBot],
        part: str | None = None,
        questions: app_commands.Range[int, 1, 10] | None = None,
        group: str | None = None,
    ) -> None:
        target = await self._which(interaction, group)
        services = self.bot.services
        number = services.quiz.find_part(part) if part else None
        live = await self.bot.services.group_quizzes.start(
            target.guild_id, target.id, interaction.user.id, part=number, count=questions
        )
        await interaction.response.send_message(
            f"Quiz on Part {live.question.part} starting in <#{live.channel_id}>: "
            f"{live.total} questions, {self.groups.limits.question_seconds} s each.",
            ephemeral=True,
        )
        try:
            await self.conductor.show(live)
        except discord.HTTPException as exc:
            await self.bot.services.group_quizzes.close(live.quiz_id, 0, end=True)
            raise UserError(
                f"I couldn't post in <#{live.channel_id}> ({exc.status}), so the quiz is off. "
                "I need Send Messages in Threads and Embed Links there."
            ) from None

    @group.command(name="leaderboard", description="Parts done and quiz points")
    @app_commands.describe(server="Rank this server's groups instead")
    @app_commands.autocomplete(group=group_names)
    async def leaderboard(
        self,
        interaction: discord.Interaction[TutorBot],
        server: bool = False,
        group: str | None = None,
    ) -> None:
        if server:
            board = await self.bot.services.group_boards.server_board(server_of(interaction))
            embed = server_board_embed(board)
        else:
            target = await self._which(interaction, group)
            boards = self.bot.services.group_boards
            shown, standings = await boards.leaderboard(target.guild_id, target.id)
            embed = leaderboard_embed(shown, standings)
        await interaction.response.send_message(embed=embed, allowed_mentions=NOBODY)

    # -- helpers ---------------------------------------------------------------------------

    async def _refresh_card(self, group: Group) -> None:
        """Show the new members, owner or name on the group's message (best effort)."""
        if group.channel_id is None or group.join_message_id is None:
            return
        card = self.bot.get_partial_messageable(group.channel_id).get_partial_message(
            group.join_message_id
        )
        with contextlib.suppress(discord.HTTPException):
            await card.edit(
                embed=card_embed(group, self.groups.limits),
                view=card_view(group),
                allowed_mentions=NOBODY,
            )

    async def _say(self, group: Group, text: str) -> None:
        if group.thread_id is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.bot.get_partial_messageable(group.thread_id).send(
                text, allowed_mentions=NOBODY
            )
