"""The admin tests edit and reload the course: each test gets a copy of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import default_course_dir
from content.store import CourseStore
from tests.groups.support import clock, services
from tests.groups.world import world

__all__ = ["clock", "course_dir", "course_store", "services", "world"]


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "course"
    shutil.copytree(default_course_dir(), directory)
    return directory


@pytest.fixture
def course_store(course_dir: Path) -> CourseStore:
    """The course the services and the bot serve, loaded from the test's copy."""
    return CourseStore(course_dir)
