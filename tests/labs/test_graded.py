"""The eight graded exercises against the real daemon: a right answer passes, a broken one fails.

The labs come from tests/labs/snippets (pasted into a copy of the shipped course, as the lead
will paste them); the answers from tests/labs/solutions/<exercise>/{pass,fail}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.labs.sandbox import Sandbox
from bot.services.labs import LabService
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.labs.conftest import SNIPPETS, short_limits, solution

pytestmark = pytest.mark.docker

EXERCISES = sorted(path.stem for path in SNIPPETS.glob("*.md"))

# What a broken answer must fail on: the check that teaches the exercise's point.
FAILS_ON = {
    "p00-ex-multistage-offline": "runs as a non-root user",
    "p01-ex-cgroup-files": "output contains `67108864`",
    "p01-ex-pid1-script": "stops on SIGTERM with code 143",
    "p02-ex-count-layers": "at most 2 layers",
    "p02-ex-deleted-secret": "no secret (swo…) in the image",
    "p02-ex-ghost-file": "image under 3 MB",
    "p03-ex-dockerignore": "/ctx/.env is absent",
    "p04-ex-publish-binding": "declares a HEALTHCHECK",
}
assert set(FAILS_ON) == set(EXERCISES)


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
    assert FAILS_ON[exercise_id] in failed, failed
    assert grade.checks[0].passed, "the broken answers still build"
