"""Drill streaks and participation.

A member's drill streak is the number of drills in a row they answered, counted over the days
the drill was actually posted (a skipped day or one the bot could not post breaks nobody's
streak). Today's drill, still open, does not break a streak before its reveal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DrillAnswer, DrillPost

WEEKS = 4


@dataclass(frozen=True)
class Streak:
    user_id: int
    current: int
    best: int


@dataclass(frozen=True)
class WeekStats:
    start: date  # first local day of the week
    posts: int
    answers: int
    members: int  # different members who answered
    right: int


@dataclass(frozen=True)
class DrillStats:
    weeks: tuple[WeekStats, ...]  # oldest first, the last one ends today
    streaks: tuple[Streak, ...]  # best streaks first

    @property
    def answers(self) -> int:
        return sum(w.answers for w in self.weeks)


def run_lengths(posts: Sequence[int], answered: set[int], open_post: int | None) -> tuple[int, int]:
    """(current, best) runs of answered posts, `posts` oldest first."""
    best = run = 0
    for post in posts:
        run = run + 1 if post in answered else 0
        best = max(best, run)
    current = 0
    for post in reversed(posts):
        if post in answered:
            current += 1
        elif post != open_post:
            break
    return current, best


@dataclass(frozen=True)
class _History:
    posts: list[DrillPost]  # posted, not skipped, oldest first
    answers: list[DrillAnswer]

    @property
    def open_post(self) -> int | None:
        last = self.posts[-1] if self.posts else None
        return last.id if last is not None and last.revealed_at is None else None

    def streaks(self) -> list[Streak]:
        answered: dict[int, set[int]] = defaultdict(set)
        for answer in self.answers:
            answered[answer.discord_id].add(answer.post_id)
        ids = [p.id for p in self.posts]
        return [
            Streak(user, *run_lengths(ids, mine, self.open_post)) for user, mine in answered.items()
        ]


async def _history(session: AsyncSession, drill_id: int) -> _History:
    posts = list(
        await session.scalars(
            select(DrillPost)
            .where(
                DrillPost.drill_id == drill_id,
                DrillPost.skipped.is_(False),
                DrillPost.posted_at.is_not(None),
            )
            .order_by(DrillPost.day)
        )
    )
    answers = list(
        await session.scalars(
            select(DrillAnswer).where(DrillAnswer.post_id.in_([p.id for p in posts]))
        )
    )
    return _History(posts, answers)


async def streaks(session: AsyncSession, drill_id: int) -> dict[int, Streak]:
    """Every member who ever answered, with their current and best streak."""
    return {streak.user_id: streak for streak in (await _history(session, drill_id)).streaks()}


async def drill_stats(
    session: AsyncSession,
    drill_id: int,
    today: date,
    correct_letter: Callable[[str], str | None],
    *,
    weeks: int = WEEKS,
    top: int = 5,
) -> DrillStats:
    history = await _history(session, drill_id)
    first = today - timedelta(days=7 * weeks - 1)
    week_of = {p.id: (p.day - first).days // 7 for p in history.posts if p.day >= first}
    posts_in = [0] * weeks
    for week in week_of.values():
        posts_in[week] += 1
    answers_in, right_in = [0] * weeks, [0] * weeks
    members_in: list[set[int]] = [set() for _ in range(weeks)]
    question = {p.id: p.question_id for p in history.posts}
    for answer in history.answers:
        answered = week_of.get(answer.post_id)
        if answered is None:
            continue
        answers_in[answered] += 1
        members_in[answered].add(answer.discord_id)
        right_in[answered] += answer.letter == correct_letter(question[answer.post_id])
    table = tuple(
        WeekStats(
            first + timedelta(days=7 * i),
            posts_in[i],
            answers_in[i],
            len(members_in[i]),
            right_in[i],
        )
        for i in range(weeks)
    )
    ranked = sorted(history.streaks(), key=lambda s: (-s.best, -s.current, s.user_id))
    return DrillStats(table, tuple(ranked[:top]))
