"""Study groups: learners of one server reading a track together at a weekly pace.

Every question names the server (`guild_id`) and every lookup filters on it, so a group of one
server cannot be seen, joined or managed from another, even with a forged button id.
Owners and moderators manage a group; members are kept when a group is disbanded (its quiz
results stay too), and nothing a learner did on their own is touched by anything here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.base import ServiceBase, current_track, learner_or_none, require_learner
from bot.services.contention import lock_first, retry_locked
from bot.services.group_names import clean_group_name
from bot.services.jobs import Jobs
from bot.services.local_time import next_local
from bot.services.moderators import (
    Member,
    ServerChoices,
    require_moderator,
    server_choices,
    update_server_choices,
)
from bot.services.tracks import find_track
from content.model import Track
from storage.models import GroupMember, GroupQuiz, StudyGroup

WEEKLY_KIND = "group.weekly"
WEEKLY_AT = time(10, 0)  # Monday morning, in the owner's time zone
WEEKLY_DAY = 0
FALLBACK_TRACK = "complete"


@dataclass(frozen=True)
class GroupLimits:
    """Configured in bot.config (MAX_GROUPS_PER_SERVER, MAX_GROUP_MEMBERS, GROUP_QUIZ_SECONDS)."""

    max_groups: int = 25
    max_members: int = 20
    question_seconds: int = 30


@dataclass(frozen=True)
class Group:
    id: int
    guild_id: int
    name: str  # already inert (see group_names)
    track: Track
    pace: int  # articles a week
    owner_id: int
    channel_id: int | None
    thread_id: int | None
    join_message_id: int | None
    members: tuple[int, ...]  # in joining order
    disbanded: bool

    def has(self, user_id: int) -> bool:
        return user_id in self.members


@dataclass(frozen=True)
class Departure:
    group: Group
    new_owner: int | None  # when the owner left and someone took over
    disbanded: bool  # the last member left


@dataclass
class GroupService(ServiceBase):
    jobs: Jobs | None = None
    limits: GroupLimits = field(default_factory=GroupLimits)

    # -- server choices ------------------------------------------------------------------

    async def server(self, guild_id: int) -> ServerChoices:
        async with self.sessions() as session:
            return await server_choices(session, guild_id)

    @retry_locked
    async def set_group_channel(
        self, guild_id: int, actor: Member, channel_id: int | None
    ) -> ServerChoices:
        async with self.sessions.begin() as session:
            await require_moderator(session, guild_id, actor)
            return await update_server_choices(
                session, guild_id, self.clock(), group_channel_id=channel_id
            )

    # -- reading -------------------------------------------------------------------------

    async def get(self, guild_id: int, group_id: int) -> Group:
        async with self.sessions() as session:
            return await self._group(session, await _active(session, guild_id, group_id))

    async def by_id(self, group_id: int) -> Group | None:
        """A group whatever its server, None once disbanded: for the outbox, which has no
        member asking (everything a member asks goes through `get`, which checks the server)."""
        async with self.sessions() as session:
            row = await session.get(StudyGroup, group_id)
            if row is None or row.disbanded_at is not None:
                return None
            return await self._group(session, row)

    async def listing(self, guild_id: int) -> list[Group]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(StudyGroup)
                .where(StudyGroup.guild_id == guild_id, StudyGroup.disbanded_at.is_(None))
                .order_by(StudyGroup.name_key)
            )
            return [await self._group(session, row) for row in rows]

    async def names(self, guild_id: int, typed: str, limit: int = 25) -> list[str]:
        needle = " ".join(typed.split()).casefold()[:64]
        async with self.sessions() as session:
            rows = await session.scalars(
                select(StudyGroup.name)
                .where(StudyGroup.guild_id == guild_id, StudyGroup.disbanded_at.is_(None))
                .order_by(StudyGroup.name_key)
            )
            return [name for name in rows if needle in name.casefold()][:limit]

    async def resolve(
        self,
        guild_id: int,
        user_id: int,
        *,
        name: str | None = None,
        channel_id: int | None = None,
        theirs: bool = True,
    ) -> Group:
        """The group a command means: the one named, else the thread it runs in, else (with
        `theirs`) the asker's only group in this server."""
        async with self.sessions() as session:
            row = None
            if name:
                key = " ".join(name.split()).casefold()
                row = await session.scalar(_in_server(guild_id).where(StudyGroup.name_key == key))
                if row is None:
                    raise UserError("There is no study group by that name here. See `/group list`.")
            elif channel_id is not None:
                row = await session.scalar(
                    _in_server(guild_id).where(StudyGroup.thread_id == channel_id)
                )
            if row is None and not theirs:
                raise UserError("Say which group with the `group` option (see `/group list`).")
            if row is None:
                mine = list(
                    await session.scalars(
                        _in_server(guild_id)
                        .join(GroupMember, GroupMember.group_id == StudyGroup.id)
                        .where(GroupMember.discord_id == user_id)
                    )
                )
                if not mine:
                    raise UserError(
                        "You're not in a study group here. `/group list` shows them; join one "
                        "with `/group join`, or start one with `/group create`."
                    )
                if len(mine) > 1:
                    raise UserError("You're in several groups: say which with the `group` option.")
                row = mine[0]
            return await self._group(session, row)

    # -- changes ---------------------------------------------------------------------------

    @retry_locked
    async def create(
        self,
        guild_id: int,
        owner_id: int,
        name: str,
        *,
        track: str | None = None,
        pace: int | None = None,
    ) -> Group:
        cleaned = clean_group_name(name)
        chosen = find_track(self.course, track) if track else None
        pace = self.course.study_plan.weekly_min if pace is None else pace
        if not 1 <= pace <= 7:
            raise UserError("The pace is the number of articles a week: 1 to 7.")
        async with self.sessions.begin() as session:
            learner = await require_learner(session, owner_id)
            if chosen is None:
                slug = await current_track(session, learner.id) or FALLBACK_TRACK
                chosen = self.course.track(slug) or self.course.tracks[-1]
            count = await session.scalar(
                select(func.count()).select_from(_in_server(guild_id).subquery())
            )
            if int(count or 0) >= self.limits.max_groups:
                raise UserError(
                    f"This server has {self.limits.max_groups} study groups, the most it can "
                    "have. Join one of them (`/group list`), or ask a moderator to disband one."
                )
            row = StudyGroup(
                guild_id=guild_id,
                name=cleaned.shown,
                name_key=cleaned.key,
                track=chosen.slug,
                pace=pace,
                owner_id=owner_id,
                created_at=self.clock(),
            )
            session.add(row)
            await _flush_unique(session, cleaned.shown)
            session.add(GroupMember(group_id=row.id, discord_id=owner_id, joined_at=self.clock()))
            await session.flush()
            return await self._group(session, row)

    @retry_locked
    async def place(
        self, group_id: int, *, channel_id: int, thread_id: int, join_message_id: int
    ) -> Group:
        """Remember where the group lives on Discord, then plan its first weekly note."""
        async with self.sessions.begin() as session:
            row = await session.get_one(StudyGroup, group_id)
            row.channel_id, row.thread_id = channel_id, thread_id
            row.join_message_id = join_message_id
            group = await self._group(session, row)
        await self.plan_weekly(group)
        return group

    @retry_locked
    async def discard(self, group_id: int) -> None:
        """Forget a group whose message or thread could not be made (nothing happened yet)."""
        async with self.sessions.begin() as session:
            row = await session.get(StudyGroup, group_id)
            if row is not None:
                await session.delete(row)

    @retry_locked
    async def join(self, guild_id: int, group_id: int, user_id: int) -> Group:
        async with self.sessions.begin() as session:
            await require_learner(session, user_id)
            row = await _active(session, guild_id, group_id, lock=True)
            members = await _members(session, row.id)
            if user_id in members:
                raise UserError(f"You're already in **{row.name}**.")
            if len(members) >= self.limits.max_members:
                raise UserError(
                    f"**{row.name}** is full ({self.limits.max_members} members). Start your "
                    "own with `/group create`."
                )
            session.add(GroupMember(group_id=row.id, discord_id=user_id, joined_at=self.clock()))
            await session.flush()
            return await self._group(session, row)

    @retry_locked
    async def leave(self, guild_id: int, group_id: int, user_id: int) -> Departure:
        """Leave; an owner hands the group to the longest-standing member, and the last member
        leaving disbands it (everyone keeps their own progress either way)."""
        async with self.sessions.begin() as session:
            row = await _active(session, guild_id, group_id, lock=True)
            members = await _members(session, row.id)
            if user_id not in members:
                raise UserError(f"You're not in **{row.name}**.")
            await session.delete(await session.get_one(GroupMember, (row.id, user_id)))
            rest = [m for m in members if m != user_id]
            new_owner = None
            if not rest:
                await self._disband(session, row)
            elif row.owner_id == user_id:
                row.owner_id = new_owner = rest[0]
            await session.flush()
            group = await self._group(session, row)
        if group.disbanded:
            await self._forget_weekly(group)
        elif new_owner is not None:
            await self.plan_weekly(group)  # at the new owner's local time
        return Departure(group, new_owner, group.disbanded)

    @retry_locked
    async def rename(self, guild_id: int, group_id: int, actor: Member, name: str) -> Group:
        cleaned = clean_group_name(name)
        async with self.sessions.begin() as session:
            row = await self._managed(session, guild_id, group_id, actor)
            row.name, row.name_key = cleaned.shown, cleaned.key
            await _flush_unique(session, cleaned.shown)
            return await self._group(session, row)

    @retry_locked
    async def remove_member(
        self, guild_id: int, group_id: int, actor: Member, target: int
    ) -> Group:
        async with self.sessions.begin() as session:
            row = await self._managed(session, guild_id, group_id, actor)
            if target == row.owner_id:
                raise UserError("That's the owner: hand the group over first (`/group transfer`).")
            membership = await session.get(GroupMember, (row.id, target))
            if membership is None:
                raise UserError(f"They're not in **{row.name}**.")
            await session.delete(membership)
            await session.flush()
            return await self._group(session, row)

    @retry_locked
    async def transfer(self, guild_id: int, group_id: int, actor: Member, target: int) -> Group:
        async with self.sessions.begin() as session:
            row = await self._managed(session, guild_id, group_id, actor)
            if await session.get(GroupMember, (row.id, target)) is None:
                raise UserError(f"Only a member can own **{row.name}**; they must join first.")
            if await learner_or_none(session, target) is None:
                raise UserError("They haven't started the course (`/start`), so they can't own it.")
            row.owner_id = target
            await session.flush()
            group = await self._group(session, row)
        await self.plan_weekly(group)  # at the new owner's local time
        return group

    @retry_locked
    async def disband(self, guild_id: int, group_id: int, actor: Member) -> Group:
        async with self.sessions.begin() as session:
            row = await self._managed(session, guild_id, group_id, actor)
            await self._disband(session, row)
            group = await self._group(session, row)
        await self._forget_weekly(group)
        return group

    # -- the weekly note -------------------------------------------------------------------

    async def plan_weekly(
        self, group: Group, *, after: datetime | None = None, chained_to: int | None = None
    ) -> datetime | None:
        """Ask the outbox for the group's next weekly note: Monday 10:00 in the owner's zone.

        Without `chained_to`, this replaces whatever was planned (a new group, a new owner).
        With it, the outbox row being sent asks for the one after it: however often that send
        is retried, the request is the same one (the key names the row), and nothing is
        cancelled, least of all the row being sent."""
        if self.jobs is None or group.thread_id is None or group.disbanded:
            return None
        if chained_to is None:
            await self._forget_weekly(group)
        async with self.sessions() as session:
            owner = await learner_or_none(session, group.owner_id)
        zone = ZoneInfo(owner.time_zone if owner else "UTC")
        _day, due = next_local(after or self.clock(), zone, WEEKLY_AT, weekday=WEEKLY_DAY)
        request = f"after-{chained_to}" if chained_to is not None else secrets.token_hex(8)
        await self.jobs.later(
            WEEKLY_KIND,
            due,
            {"group_id": group.id},
            key=f"group:{group.id}:weekly:{request}",
            guild_id=group.guild_id,
            channel_id=group.thread_id,
        )
        return due

    async def _forget_weekly(self, group: Group) -> None:
        if self.jobs is not None and group.thread_id is not None:
            await self.jobs.forget(WEEKLY_KIND, guild_id=group.guild_id, channel_id=group.thread_id)

    # -- helpers ---------------------------------------------------------------------------

    async def _managed(
        self, session: AsyncSession, guild_id: int, group_id: int, actor: Member
    ) -> StudyGroup:
        row = await _active(session, guild_id, group_id, lock=True)
        if actor.user_id != row.owner_id:
            choices = await server_choices(session, guild_id)
            if not choices.is_moderator(actor):
                raise UserError(f"Only the owner of **{row.name}** or a moderator can do that.")
        return row

    async def _disband(self, session: AsyncSession, row: StudyGroup) -> None:
        row.disbanded_at = self.clock()
        await session.execute(
            update(GroupQuiz)
            .where(GroupQuiz.group_id == row.id, GroupQuiz.status == "running")
            .values(status="cancelled", finished_at=self.clock())
        )

    async def _group(self, session: AsyncSession, row: StudyGroup) -> Group:
        track = self.course.track(row.track) or self.course.tracks[-1]
        return Group(
            id=row.id,
            guild_id=row.guild_id,
            name=row.name,
            track=track,
            pace=row.pace,
            owner_id=row.owner_id,
            channel_id=row.channel_id,
            thread_id=row.thread_id,
            join_message_id=row.join_message_id,
            members=tuple(await _members(session, row.id)),
            disbanded=row.disbanded_at is not None,
        )


def _in_server(guild_id: int) -> Select[StudyGroup]:
    return select(StudyGroup).where(
        StudyGroup.guild_id == guild_id, StudyGroup.disbanded_at.is_(None)
    )


async def _active(
    session: AsyncSession, guild_id: int, group_id: int, *, lock: bool = False
) -> StudyGroup:
    """The server's group, not disbanded; with `lock`, the transaction writes first so
    changes to one group run one after the other (see bot.services.contention)."""
    if lock:
        await lock_first(session, StudyGroup, group_id)
    row = await session.scalar(_in_server(guild_id).where(StudyGroup.id == group_id))
    if row is None:
        raise UserError("That study group no longer exists. See `/group list`.")
    return row


async def _members(session: AsyncSession, group_id: int) -> list[int]:
    rows = await session.scalars(
        select(GroupMember.discord_id)
        .where(GroupMember.group_id == group_id)
        .order_by(GroupMember.joined_at, GroupMember.discord_id)
    )
    return list(rows)


async def _flush_unique(session: AsyncSession, name: str) -> None:
    """Flush a new or renamed group; the partial unique index decides on name clashes."""
    try:
        await session.flush()
    except IntegrityError:
        raise UserError(f"This server already has a group called **{name}**.") from None
