"""Learning activity per local day: what streaks and the heatmap are made of."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.timezones import local_date
from storage.models import ActivityDay, Learner


async def record_activity(session: AsyncSession, learner: Learner, now: datetime) -> None:
    """Count one learning event on the learner's local calendar day (an atomic upsert)."""
    values = {"learner_id": learner.id, "day": local_date(now, learner.time_zone), "events": 1}
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ActivityDay).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[ActivityDay.learner_id, ActivityDay.day],
        set_={"events": ActivityDay.events + 1},
    )
    await session.execute(statement)


async def activity_since(session: AsyncSession, learner_id: int, first: date) -> dict[date, int]:
    rows = await session.execute(
        select(ActivityDay.day, ActivityDay.events).where(
            ActivityDay.learner_id == learner_id, ActivityDay.day >= first
        )
    )
    return {day: events for day, events in rows.all()}


async def active_days(session: AsyncSession, learner_id: int) -> list[date]:
    rows = await session.scalars(
        select(ActivityDay.day)
        .where(ActivityDay.learner_id == learner_id)
        .order_by(ActivityDay.day)
    )
    return list(rows)


def streaks(days: Iterable[date], today: date) -> tuple[int, int]:
    """(current, best) runs of consecutive active days.

    The current streak is still alive when today has no activity yet but yesterday had:
    a learner who studies every evening should not see 0 every morning.
    """
    ordered = sorted(set(days))
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    alive = previous is not None and today - previous <= timedelta(days=1) and previous <= today
    return (run if alive else 0), best
