"""The tutor itself, free of Discord: plain data in, plain results out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.base import utc_now
from bot.services.learners import LearnerService
from bot.services.progress import ProgressService
from bot.services.quiz import QuizService
from bot.services.reading import ReadingService
from content.store import CourseStore


@dataclass
class Services:
    """Everything the adapters (Discord cogs, console) may use. Built once by bot.app."""

    sessions: async_sessionmaker[AsyncSession]
    courses: CourseStore
    clock: Callable[[], datetime] = field(default=utc_now)

    def __post_init__(self) -> None:
        shared = (self.sessions, self.courses, self.clock)
        self.learners = LearnerService(*shared)
        self.reading = ReadingService(*shared)
        self.quiz = QuizService(*shared)
        self.progress = ProgressService(*shared)
