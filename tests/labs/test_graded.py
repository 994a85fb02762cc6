"""Every graded exercise against the real daemon: a right answer passes, a broken one fails.

The labs are the shipped articles' ` ```toml lab ` blocks; the answers are
tests/labs/solutions/<exercise>/{pass,fail}/, and `fails_on.txt` names the check a broken answer
must fail (the one that teaches the exercise's point).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.labs.sandbox import Sandbox
from bot.services.labs import LabService
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.labs.conftest import fails_on, graded_exercises, short_limits, solution

pytestmark = pytest.mark.docker

EXERCISES = graded_exercises(compose=False)


@pytest.fixture
async def labs(lab_course: Path, sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[LabService]:
    """The service over the course with labs; grading needs no database."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    service = LabService(
        create_sessionmaker(engine), CourseStore(lab_course), lab_settings=short_limits()
    )
    service.sandbox = sandbox
    yield service
    await engine.dispose()


@pytest.mark.parametrize("exercise_id", EXERCISES)
async def test_a_right_answer_passes(labs: LabService, exercise_id: str) -> None:
    grade, _ = await labs.grade(1, exercise_id, solution(exercise_id, "pass"))
    failed = [(c.name, c.detail) for c in grade.checks if not c.passed]
    assert grade.passed, failed
    assert grade.checks[0].name == "the image builds"
    assert len(grade.checks) >= 3
    assert grade.image_bytes is not None and grade.image_bytes > 0


@pytest.mark.parametrize("exercise_id", EXERCISES)
async def test_a_broken_answer_fails_for_the_right_reason(
    labs: LabService, exercise_id: str
) -> None:
    grade, _ = await labs.grade(1, exercise_id, solution(exercise_id, "fail"))
    assert not grade.passed
    failed = {c.name: c.detail for c in grade.checks if not c.passed}
    assert set(fails_on(exercise_id)) <= set(failed), failed
    assert grade.checks[0].passed, "the broken answers still build"
