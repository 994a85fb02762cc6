"""What a learner has done, how regularly, and what comes next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.services.activity import active_days, activity_since, streaks
from bot.services.base import ServiceBase, require_learner
from bot.services.reading import chunks_read, part_chunks
from bot.services.scores import part_scores
from bot.services.timezones import local_date
from bot.services.tracks import track_of
from content.model import PartInfo, Track
from storage.models import ExerciseCompletion, ReadingProgress

HEATMAP_WEEKS = 12


@dataclass(frozen=True)
class PartProgress:
    info: PartInfo
    done: bool
    read_fraction: float  # 0..1
    answered: int  # Debug This answers
    correct: int
    labs_passed: int = 0  # graded exercises passed in the sandbox
    labs: int = 0  # graded exercises the part has

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class ProgressReport:
    track: Track
    parts: tuple[PartProgress, ...]  # the track's parts in reading order
    hours_read: float
    current_streak: int
    best_streak: int
    next_up: PartInfo | None
    activity: dict[date, int]
    today: date

    @property
    def parts_done(self) -> int:
        return sum(p.done for p in self.parts)

    @property
    def labs_passed(self) -> int:
        return sum(p.labs_passed for p in self.parts)

    @property
    def labs(self) -> int:
        return sum(p.labs for p in self.parts)

    @property
    def quiz_accuracy(self) -> float | None:
        answered = sum(p.answered for p in self.parts)
        return sum(p.correct for p in self.parts) / answered if answered else None


class ProgressService(ServiceBase):
    async def report(self, discord_id: int) -> ProgressReport:
        now = self.clock()
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            track = await track_of(session, learner, self.course)
            today = local_date(now, learner.time_zone)
            reading = {
                int(row.part): row
                for row in (
                    await session.scalars(
                        select(ReadingProgress).where(ReadingProgress.learner_id == learner.id)
                    )
                )
            }
            scores = {
                part: (score.answered, score.correct)
                for part, score in (await part_scores(session, learner.id)).items()
            }
            passed = {
                int(part): int(count)
                for part, count in (
                    await session.execute(
                        select(ExerciseCompletion.part, func.count())
                        .where(
                            ExerciseCompletion.learner_id == learner.id,
                            ExerciseCompletion.source == "lab",
                        )
                        .group_by(ExerciseCompletion.part)
                    )
                ).all()
            }
            first_day = today - timedelta(weeks=HEATMAP_WEEKS)
            activity = await activity_since(session, learner.id, first_day)
            current, best = streaks(await active_days(session, learner.id), today)

        parts = []
        hours = 0.0
        for number in track.sequence:
            part = self.course.parts[number]
            row = reading.get(number)
            done = row is not None and row.completed_at is not None
            chunks = len(part_chunks(part))
            fraction = chunks_read(row, chunks) / chunks if row and chunks else 0.0
            hours += part.info.minutes * fraction / 60
            answered, correct = scores.get(number, (0, 0))
            labs = sum(1 for exercise in part.exercises if exercise.lab is not None)
            parts.append(
                PartProgress(
                    part.info, done, fraction, answered, correct, passed.get(number, 0), labs
                )
            )
        next_up = next((p.info for p in parts if not p.done), None)
        return ProgressReport(
            track=track,
            parts=tuple(parts),
            hours_read=round(hours, 1),
            current_streak=current,
            best_streak=best,
            next_up=next_up,
            activity=activity,
            today=today,
        )


def day_count(count: int) -> str:
    """`1 day`, `3 days`."""
    return f"{count} day" if count == 1 else f"{count} days"


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)
