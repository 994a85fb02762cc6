"""The daily digest: what a learner should do today, composed when it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.services.base import ServiceBase
from bot.services.reminder_times import ReminderPrefs, next_reminder
from bot.services.scores import part_scores, weak_spots
from bot.services.timezones import local_date
from bot.services.tracks import track_of
from content.model import PartInfo, ReviewStep
from storage.models import Enrollment, Learner, ReadingProgress, ReviewCard

MONTH = 30  # days between quick-reference reviews of the finished parts
WEAK_SHOWN = 2  # weak parts a digest suggests practising


@dataclass(frozen=True)
class Digest:
    learner_discord_id: int
    today: date
    due_cards: int
    revisit: tuple[tuple[PartInfo, ReviewStep], ...]  # parts whose Review Schedule says today
    done_this_week: int
    pace: tuple[int, int]  # articles a week, from the study plan
    next_part: PartInfo | None
    monthly_quickrefs: tuple[PartInfo, ...]  # finished parts, on monthly review days
    # parts answered below 60%, weakest first, with their accuracy: `/practice` them
    weak_parts: tuple[tuple[PartInfo, float], ...] = ()

    @property
    def behind_pace(self) -> bool:
        return self.next_part is not None and self.done_this_week < self.pace[0]

    @property
    def worth_sending(self) -> bool:
        return bool(
            self.due_cards
            or self.revisit
            or self.monthly_quickrefs
            or self.behind_pace
            or self.weak_parts
        )


def prefs_of(learner: Learner) -> ReminderPrefs:
    quiet = None
    if learner.quiet_start is not None and learner.quiet_end is not None:
        quiet = (learner.quiet_start, learner.quiet_end)
    return ReminderPrefs(
        learner.time_zone, learner.reminder_hour, quiet, learner.reminders_paused_until
    )


class DigestService(ServiceBase):
    def next_time(self, learner: Learner, after: datetime | None = None) -> datetime:
        return next_reminder(prefs_of(learner), after or self.clock())

    async def compose(self, learner_id: int) -> Digest | None:
        """Today's digest for the learner, or None if they are gone."""
        now = self.clock()
        async with self.sessions() as session:
            learner = await session.get(Learner, learner_id)
            if learner is None:
                return None
            today = local_date(now, learner.time_zone)
            due = await session.scalar(
                select(func.count()).where(
                    ReviewCard.learner_id == learner.id, ReviewCard.due <= now
                )
            )
            finished = {
                int(part): local_date(at, learner.time_zone)
                for part, at in (
                    await session.execute(
                        select(ReadingProgress.part, ReadingProgress.completed_at).where(
                            ReadingProgress.learner_id == learner.id,
                            ReadingProgress.completed_at.is_not(None),
                        )
                    )
                ).all()
                if at is not None  # the query asks for finished parts only
            }
            started = await session.scalar(
                select(func.min(Enrollment.started_at)).where(Enrollment.learner_id == learner.id)
            )
            track = await track_of(session, learner, self.course)
            scores = await part_scores(session, learner.id)
        week_start = today - timedelta(days=today.weekday())
        revisit = tuple(
            (self.course.parts[number].info, step)
            for number, day in sorted(finished.items())
            if number in self.course.parts
            for step in self.course.parts[number].review
            if (today - day).days == step.day
        )
        days_in = (today - local_date(started, learner.time_zone)).days if started else 0
        monthly: tuple[PartInfo, ...] = ()
        if finished and days_in > 0 and days_in % MONTH == 0:
            monthly = tuple(self.course.parts[n].info for n in sorted(finished))
        upcoming = next((n for n in track.sequence if n not in finished), None)
        plan = self.course.study_plan
        return Digest(
            learner_discord_id=learner.discord_id,
            today=today,
            due_cards=int(due or 0),
            revisit=revisit,
            done_this_week=sum(day >= week_start for day in finished.values()),
            pace=(plan.weekly_min, plan.weekly_max),
            next_part=self.course.parts[upcoming].info if upcoming is not None else None,
            monthly_quickrefs=monthly,
            weak_parts=tuple(
                (self.course.parts[weak.part].info, weak.accuracy)
                for weak in weak_spots(scores, self.course.parts)[:WEAK_SHOWN]
            ),
        )
