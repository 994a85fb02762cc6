"""A server's class picture for its moderators (/server stats).

Only the server's own learners count: those who used the bot there (`learner_servers`, kept
by bot.services.server_learners). Every query starts from that table, so nothing of another
server's learners is ever read. Small buckets stay private: a share is shown only when at
least PRIVATE_BELOW learners stand behind it; below that, counts alone.

A server of 10,000 learners and a million answers takes a few hundred milliseconds
(bench/bench_server_stats.py): each panel is an aggregate that reads indexes only, in work
that grows with the server's learners rather than with all the database holds, and the
panels run in two sessions at once. The questions answered wrong most come from the learners'
review cards (one row per learner and question, counting its answers and lapses), their
wrong choices from the answers to those five questions; weekly actives are one look-up per
learner and week in the activity days' primary key; reminders are counted per learner in the
outbox's (learner, due, status) index and in the partial index of failures for closed DMs.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import ServiceBase
from bot.services.moderators import Member, require_moderator
from bot.services.outbox import SENT
from storage.models import (
    NO_ROUTE_FAILED,
    ActivityDay,
    Answer,
    Drill,
    DrillAnswer,
    DrillPost,
    Enrollment,
    LearnerServer,
    OutboxMessage,
    ReadingProgress,
    ReviewCard,
)

_Query = TypeVar("_Query", bound=Select)

WEEKS = 12
PRIVATE_BELOW = 5  # fewer learners than this behind a number: no percentage
HARDEST = 5


@dataclass(frozen=True)
class Share:
    """`count` out of `of`, with the number of learners behind it."""

    count: int
    of: int
    people: int

    @property
    def percent(self) -> int | None:
        """The share in whole percent; None when it would single out a learner or two."""
        if not self.of or self.people < PRIVATE_BELOW:
            return None
        return round(100 * self.count / self.of)


@dataclass(frozen=True)
class TrackCount:
    name: str  # the track's name, or "no track yet"
    learners: Share


@dataclass(frozen=True)
class PartReach:
    number: int
    title: str
    started: int
    finished: Share  # of those who started


@dataclass(frozen=True)
class WeekCount:
    start: date  # a Monday
    count: int


@dataclass(frozen=True)
class HardQuestion:
    question_id: str
    part: int
    title: str
    wrong: Share  # wrong answers out of all answers, by `wrong.people` learners
    top_wrong: str | None  # the wrong choice chosen most (None: self-graded question)
    top_wrong_count: int


@dataclass(frozen=True)
class DrillWeek:
    start: date
    posts: int
    answers: int
    members: int  # different members who answered


@dataclass(frozen=True)
class Reminders:
    delivered: int
    failed_dms_closed: int  # DMs closed and no reminder channel to fall back on
    learners: int

    @property
    def failed(self) -> Share:
        return Share(self.failed_dms_closed, self.delivered + self.failed_dms_closed, self.learners)


@dataclass(frozen=True)
class ServerStats:
    guild_id: int
    today: date  # UTC
    learners: int
    tracks: tuple[TrackCount, ...]  # most learners first
    funnel: tuple[PartReach, ...]  # every part, in course order
    weekly_active: tuple[WeekCount, ...]  # oldest first; the last is this week so far
    hardest: tuple[HardQuestion, ...]
    drill: tuple[DrillWeek, ...] | None  # None: the server has no drill
    reminders: Reminders

    @property
    def small(self) -> bool:
        """A handful of learners: every number is a count, never a share."""
        return self.learners < PRIVATE_BELOW


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first, this week last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def week_index(day: Any, starts: list[date]) -> Any:
    """SQL: which of `starts` the week of `day` is (0 = oldest); -1 before the first."""
    return case(
        *[(day >= start, index) for index, start in reversed(list(enumerate(starts)))],
        else_=-1,
    )


class ServerStatsService(ServiceBase):
    async def dashboard(self, guild_id: int, member: Member) -> ServerStats:
        """The server's numbers, for its moderators only."""
        today = self.clock().date()
        starts = week_starts(today)
        async with self.sessions() as session:
            await require_moderator(session, guild_id, member)
        # Two halves at once, each in a session (a connection) of its own: with two cores the
        # dashboard takes about as long as its slower half.
        (learners, tracks, funnel, hardest), (active, drill, reminders) = await asyncio.gather(
            self._learning(guild_id), self._activity(guild_id, starts)
        )
        return ServerStats(
            guild_id, today, learners, tracks, funnel, active, hardest, drill, reminders
        )

    async def _learning(
        self, guild_id: int
    ) -> tuple[int, tuple[TrackCount, ...], tuple[PartReach, ...], tuple[HardQuestion, ...]]:
        """Who the learners are, how far they got, what they get wrong."""
        async with self.sessions() as session:
            learners = int(
                await session.scalar(select(func.count()).where(LearnerServer.guild_id == guild_id))
                or 0
            )
            tracks = await self._tracks(session, guild_id, learners)
            funnel = await self._funnel(session, guild_id)
            hardest = await self._hardest(session, guild_id)
        return learners, tracks, funnel, hardest

    async def _activity(
        self, guild_id: int, starts: list[date]
    ) -> tuple[tuple[WeekCount, ...], tuple[DrillWeek, ...] | None, Reminders]:
        """What happened week by week: active learners, the drill, reminders."""
        async with self.sessions() as session:
            active = await self._weekly_active(session, guild_id, starts)
            drill = await self._drill(session, guild_id, starts)
            reminders = await self._reminders(session, guild_id, starts[0])
        return active, drill, reminders

    async def _tracks(
        self, session: AsyncSession, guild_id: int, learners: int
    ) -> tuple[TrackCount, ...]:
        rows = await session.execute(
            _of_server(select(Enrollment.track, func.count()), guild_id)
            .join(
                Enrollment,
                and_(
                    Enrollment.learner_id == LearnerServer.learner_id,
                    Enrollment.ended_at.is_(None),
                ),
            )
            .group_by(Enrollment.track)
        )
        counts = {str(slug): int(count) for slug, count in rows.all()}
        unenrolled = learners - sum(counts.values())
        names = {t.slug: t.name for t in self.course.tracks}
        shown = [(names.get(slug, slug), count) for slug, count in counts.items()]
        if unenrolled > 0:
            shown.append(("no track yet", unenrolled))
        shown.sort(key=lambda pair: (-pair[1], pair[0]))
        return tuple(TrackCount(name, Share(count, learners, learners)) for name, count in shown)

    async def _funnel(self, session: AsyncSession, guild_id: int) -> tuple[PartReach, ...]:
        rows = await session.execute(
            _of_server(
                select(
                    ReadingProgress.part, func.count(), func.count(ReadingProgress.completed_at)
                ),
                guild_id,
            )
            .join(ReadingProgress, ReadingProgress.learner_id == LearnerServer.learner_id)
            .group_by(ReadingProgress.part)
        )
        reached = {int(part): (int(started), int(done)) for part, started, done in rows.all()}
        funnel = []
        for number, part in self.course.parts.items():
            started, done = reached.get(number, (0, 0))
            finished = Share(done, started, started)
            funnel.append(PartReach(number, part.info.title, started, finished))
        return tuple(funnel)

    async def _weekly_active(
        self, session: AsyncSession, guild_id: int, starts: list[date]
    ) -> tuple[WeekCount, ...]:
        # For each learner, one look-up per week in the primary key (learner, day): the work
        # grows with the server's learners, not with how much they did.
        ends = [*starts[1:], starts[-1] + timedelta(weeks=1)]
        active = [
            exists().where(
                ActivityDay.learner_id == LearnerServer.learner_id,
                ActivityDay.day >= start,
                ActivityDay.day < end,
            )
            for start, end in zip(starts, ends, strict=True)
        ]
        counts = (
            await session.execute(
                _of_server(select(*[func.count().filter(week) for week in active]), guild_id)
            )
        ).one()
        return tuple(WeekCount(start, int(n or 0)) for start, n in zip(starts, counts, strict=True))

    async def _hardest(self, session: AsyncSession, guild_id: int) -> tuple[HardQuestion, ...]:
        # A learner's review card of a question counts their answers to it (`reviews`) and the
        # wrong ones (`lapses`, each a rating of Again): one row per learner and question, where
        # the answers table has one per answer.
        questions = self.items().questions
        rows = await session.execute(
            _of_server(
                select(
                    ReviewCard.item_id,
                    func.count(),
                    func.sum(ReviewCard.reviews),
                    func.sum(ReviewCard.lapses),
                ),
                guild_id,
            )
            .join(ReviewCard, ReviewCard.learner_id == LearnerServer.learner_id)
            .where(ReviewCard.kind == "quiz")
            .group_by(ReviewCard.item_id)
        )
        met = {
            str(item_id): (int(people), int(answers or 0), int(wrong or 0))
            for item_id, people, answers, wrong in rows.all()
            if item_id in questions  # (else no longer in the course)
        }

        def hardness(item_id: str) -> tuple[float, int, str]:
            # a share smoothed towards a half: one wrong answer is not "100% wrong"
            _people, answers, wrong = met[item_id]
            return (-(wrong + 1) / (answers + 2), -wrong, item_id)

        top = sorted((i for i, (_p, _a, wrong) in met.items() if wrong), key=hardness)[:HARDEST]
        picks = await self._wrong_choices(session, guild_id, top)
        hardest = []
        for item_id in top:
            people, answers, wrong = met[item_id]
            chosen = picks.get(item_id, {})
            letter = max(sorted(chosen), key=lambda c: chosen[c]) if chosen else None
            question = questions[item_id]
            hardest.append(
                HardQuestion(
                    item_id,
                    question.part,
                    question.title,
                    Share(wrong, answers, people),
                    letter,
                    chosen.get(letter, 0) if letter else 0,
                )
            )
        return tuple(hardest)

    async def _wrong_choices(
        self, session: AsyncSession, guild_id: int, item_ids: list[str]
    ) -> dict[str, dict[str, int]]:
        """How often the server's learners chose each wrong letter of these questions."""
        if not item_ids:
            return {}
        learners = select(LearnerServer.learner_id).where(LearnerServer.guild_id == guild_id)
        rows = await session.execute(
            select(Answer.item_id, Answer.choice, func.count())
            .where(
                Answer.item_id.in_(item_ids),
                Answer.correct.is_(False),
                Answer.learner_id.in_(learners),
            )
            .group_by(Answer.item_id, Answer.choice)
        )
        picks: dict[str, dict[str, int]] = defaultdict(dict)
        for item_id, choice, count in rows.all():
            if choice and len(choice) == 1:  # a letter; a self-graded miss has none
                picks[str(item_id)][choice] = int(count)
        return picks

    async def _drill(
        self, session: AsyncSession, guild_id: int, starts: list[date]
    ) -> tuple[DrillWeek, ...] | None:
        drill_id = await session.scalar(select(Drill.id).where(Drill.guild_id == guild_id))
        if drill_id is None:
            return None
        week = week_index(DrillPost.day, starts).label("week")
        posted = (
            DrillPost.drill_id == drill_id,
            DrillPost.day >= starts[0],
            DrillPost.posted_at.is_not(None),
            DrillPost.skipped.is_(False),
        )
        posts = {
            int(index): int(count)
            for index, count in (
                await session.execute(select(week, func.count()).where(*posted).group_by(week))
            ).all()
        }
        answered = {
            int(index): (int(count), int(members))
            for index, count, members in (
                await session.execute(
                    select(week, func.count(), func.count(DrillAnswer.discord_id.distinct()))
                    .join(DrillAnswer, DrillAnswer.post_id == DrillPost.id)
                    .where(*posted)
                    .group_by(week)
                )
            ).all()
        }
        return tuple(
            DrillWeek(start, posts.get(i, 0), *answered.get(i, (0, 0)))
            for i, start in enumerate(starts)
        )

    async def _reminders(self, session: AsyncSession, guild_id: int, since: date) -> Reminders:
        # Per learner, counted in two indexes of the outbox: (learner, due, status) for the
        # sent ones, and the partial one of those that failed because DMs were closed.
        since_at = datetime.combine(since, time(0), tzinfo=UTC)
        mine = (
            OutboxMessage.learner_id == LearnerServer.learner_id,
            OutboxMessage.due_at >= since_at,
        )
        sent = select(func.count()).where(*mine, OutboxMessage.status == SENT)
        closed = select(func.count()).where(*mine, text(NO_ROUTE_FAILED))  # as its index says
        per_learner = (
            _of_server(
                select(
                    sent.scalar_subquery().label("sent"), closed.scalar_subquery().label("closed")
                ),
                guild_id,
            )
            .offset(0)  # a fence: counted once per learner, not again for each use below
            .subquery()
        )
        delivered, failed, learners = (
            await session.execute(
                select(
                    func.sum(per_learner.c.sent),
                    func.sum(per_learner.c.closed),
                    func.count().filter(per_learner.c.sent + per_learner.c.closed > 0),
                )
            )
        ).one()
        return Reminders(int(delivered or 0), int(failed or 0), int(learners or 0))


def _of_server(query: _Query, guild_id: int) -> _Query:
    """`query` over the server's learners (joins hang off LearnerServer)."""
    return query.select_from(LearnerServer).where(LearnerServer.guild_id == guild_id)
