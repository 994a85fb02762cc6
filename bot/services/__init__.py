"""The tutor itself, free of Discord: plain data in, plain results out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from content.store import CourseStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the adapters (Discord cogs, console) may use. Built once by bot.app."""

    sessions: async_sessionmaker[AsyncSession]
    courses: CourseStore
    clock: Callable[[], datetime] = field(default=utc_now)
