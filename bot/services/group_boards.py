"""How a group is doing: its leaderboard, the server's board of groups, and the weekly note.

"Parts done" always means parts of the group's track that a member finished reading, on their
own or not: a group adds company, it does not keep a second copy of anyone's progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import ServiceBase
from content.model import PartInfo, Track
from storage.models import GroupQuiz, GroupQuizAnswer, Learner, ReadingProgress

if TYPE_CHECKING:
    from bot.services.groups import Group, GroupService

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Standing:
    user_id: int
    parts_done: int
    quiz_points: int


@dataclass(frozen=True)
class GroupStanding:
    group_id: int
    name: str
    members: int
    parts_done: int  # over all members
    quiz_points: int

    @property
    def parts_per_member(self) -> float:
        return self.parts_done / self.members if self.members else 0.0


@dataclass(frozen=True)
class MemberWeek:
    user_id: int
    finished: tuple[PartInfo, ...]  # parts finished in the last seven days
    parts_done: int  # of the track
    next_part: PartInfo | None  # None: the track is done


@dataclass(frozen=True)
class WeeklyReport:
    group: Group
    since: datetime
    members: tuple[MemberWeek, ...]

    @property
    def behind(self) -> tuple[MemberWeek, ...]:
        """Members who finished fewer parts than the pace this week and have some left."""
        pace = self.group.pace
        return tuple(m for m in self.members if m.next_part and len(m.finished) < pace)


class GroupBoards(ServiceBase):
    """Reached as `services.group_boards`."""

    def __init__(self, groups: GroupService) -> None:
        super().__init__(groups.sessions, groups.courses, groups.clock, groups.fsrs_scheduler)
        self.groups = groups

    async def leaderboard(self, guild_id: int, group_id: int) -> tuple[Group, list[Standing]]:
        group = await self.groups.get(guild_id, group_id)
        async with self.sessions() as session:
            done = await _parts_done(session, group.members, group.track)
            points = await _quiz_points(session, [group.id])
        standings = [
            Standing(user, len(done.get(user, ())), points.get((group.id, user), 0))
            for user in group.members
        ]
        # Ties keep the joining order (sort is stable and standings are built in that order).
        standings.sort(key=lambda s: (-s.quiz_points, -s.parts_done))
        return group, standings

    async def server_board(self, guild_id: int) -> list[GroupStanding]:
        groups = await self.groups.listing(guild_id)
        async with self.sessions() as session:
            points = await _quiz_points(session, [g.id for g in groups])
            board = []
            for group in groups:
                done = await _parts_done(session, group.members, group.track)
                board.append(
                    GroupStanding(
                        group.id,
                        group.name,
                        len(group.members),
                        sum(len(parts) for parts in done.values()),
                        sum(points.get((group.id, m), 0) for m in group.members),
                    )
                )
        board.sort(key=lambda g: (-g.parts_per_member, -g.quiz_points, g.name.casefold()))
        return board

    async def weekly(self, group_id: int) -> WeeklyReport | None:
        """The weekly note's facts, or None if the group was disbanded meanwhile."""
        since = self.clock() - WEEK
        group = await self.groups.by_id(group_id)
        if group is None:
            return None
        async with self.sessions() as session:
            done = await _parts_done(session, group.members, group.track)
        parts = self.course.parts
        members = []
        for user in group.members:
            finished_at = done.get(user, {})
            recent = sorted(n for n, when in finished_at.items() if when >= since)
            upcoming = next((n for n in group.track.sequence if n not in finished_at), None)
            members.append(
                MemberWeek(
                    user,
                    tuple(parts[n].info for n in recent),
                    len(finished_at),
                    parts[upcoming].info if upcoming is not None else None,
                )
            )
        return WeeklyReport(group, since, tuple(members))


async def _parts_done(
    session: AsyncSession, members: Iterable[int], track: Track
) -> dict[int, dict[int, datetime]]:
    """For each member (Discord id): the track's parts they finished, and when."""
    rows = await session.execute(
        select(Learner.discord_id, ReadingProgress.part, ReadingProgress.completed_at)
        .join(ReadingProgress, ReadingProgress.learner_id == Learner.id)
        .where(
            Learner.discord_id.in_(list(members)),
            ReadingProgress.completed_at.is_not(None),
            ReadingProgress.part.in_(track.sequence),
        )
    )
    done: dict[int, dict[int, datetime]] = defaultdict(dict)
    for user, part, completed_at in rows:
        if completed_at is not None:  # the query asks for finished parts only
            done[int(user)][int(part)] = completed_at
    return done


async def _quiz_points(session: AsyncSession, group_ids: list[int]) -> dict[tuple[int, int], int]:
    """(group, member) -> points from all of the group's quizzes, finished or not."""
    if not group_ids:
        return {}
    rows = await session.execute(
        select(GroupQuiz.group_id, GroupQuizAnswer.discord_id, func.sum(GroupQuizAnswer.points))
        .join(GroupQuiz, GroupQuiz.id == GroupQuizAnswer.quiz_id)
        .where(GroupQuiz.group_id.in_(group_ids))
        .group_by(GroupQuiz.group_id, GroupQuizAnswer.discord_id)
    )
    return {(int(group), int(user)): int(points or 0) for group, user, points in rows}
