"""The tutor itself, free of Discord: plain data in, plain results out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import fsrs
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.base import make_fsrs_scheduler, utc_now
from bot.services.digest import DigestService
from bot.services.drills import DrillService
from bot.services.group_boards import GroupBoards
from bot.services.group_quiz import GroupQuizService
from bot.services.groups import GroupLimits, GroupService
from bot.services.jobs import OutboxJobs
from bot.services.labs import LabService
from bot.services.learners import LearnerService
from bot.services.outbox import OutboxService
from bot.services.practice import PracticeService
from bot.services.progress import ProgressService
from bot.services.quiz import QuizService
from bot.services.reading import ReadingService
from bot.services.reminders import ReminderService
from bot.services.review import ReviewService
from bot.services.server_learners import ServerLearnerService
from bot.services.server_stats import ServerStatsService
from bot.services.status import StatusService
from content.store import CourseStore


@dataclass
class Services:
    """Everything the adapters (Discord cogs, console) may use. Built once by bot.app."""

    sessions: async_sessionmaker[AsyncSession]
    courses: CourseStore
    clock: Callable[[], datetime] = field(default=utc_now)
    fsrs_scheduler: fsrs.Scheduler = field(default_factory=make_fsrs_scheduler)
    group_limits: GroupLimits = field(default_factory=GroupLimits)

    def __post_init__(self) -> None:
        shared = (self.sessions, self.courses, self.clock, self.fsrs_scheduler)
        self.learners = LearnerService(*shared)
        self.reading = ReadingService(*shared)
        self.quiz = QuizService(*shared)
        self.progress = ProgressService(*shared)
        self.outbox = OutboxService(*shared)
        self.review = ReviewService(*shared)
        self.groups = GroupService(*shared, jobs=OutboxJobs(self.outbox), limits=self.group_limits)
        self.group_quizzes = GroupQuizService(self.groups)
        self.group_boards = GroupBoards(self.groups)
        self.drills = DrillService(*shared, jobs=OutboxJobs(self.outbox))
        self.labs = LabService(*shared)
        self.practice = PracticeService(*shared)
        self.server_learners = ServerLearnerService(*shared)
        self.server_stats = ServerStatsService(*shared)
        self.status = StatusService(*shared, outbox=self.outbox, labs=self.labs)
        self.reminders = ReminderService(
            *shared, outbox=self.outbox, digests=DigestService(*shared)
        )
