"""Compose labs: the ```toml lab block's [compose] table, and grading with no daemon at all.

Every Compose lab of the shipped course is graded here against its right and broken answers
(tests/labs/solutions/<exercise>/), through the same service the bot uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import default_course_dir
from bot.labs.compose_grade import grade_compose
from bot.services import Services
from bot.services.labs import BadSubmission, LabService
from content.lab_block import parse_lab
from content.model import Lab
from content.store import CourseStore
from storage.models import ExerciseCompletion
from tests.content.test_compose_lab_format import COMPOSE_LAB
from tests.labs.conftest import fails_on, graded_exercises, short_limits, solution

BASE = """\
services:
  web:
    image: shop/web:2.1.0
    restart: unless-stopped
    depends_on:
      db: {condition: service_healthy}
    logging: {options: {max-size: 10m}}
  db:
    image: postgres:16
    restart: unless-stopped
    healthcheck: {test: ["CMD", "pg_isready"]}
    logging: {options: {max-size: 10m}}
"""
OVERRIDE = "services:\n  web:\n    volumes: [./src:/app/src]\n"


def compose_lab() -> Lab:
    """The lab of COMPOSE_LAB, parsed as the course parser does."""
    problems: list[tuple[int, str]] = []
    body = COMPOSE_LAB.strip().removeprefix("```toml lab").removesuffix("```")
    lab = parse_lab(body, 1, {}, problems)
    assert problems == [] and lab is not None
    return lab


def names_failed(lab: Lab, files: dict[str, str]) -> dict[str, str]:
    assert lab.compose is not None
    checks = grade_compose(lab.compose, files, max_chars=65_536)
    assert checks, "a Compose lab always checks something"
    return {c.name: c.detail for c in checks if not c.passed}


def test_grading_passes_a_right_answer_and_says_what_is_wrong() -> None:
    lab = compose_lab()
    right = {"compose.yaml": BASE, "compose.override.yaml": OVERRIDE}
    assert names_failed(lab, right) == {}
    long_form = "depends_on:\n      db: {condition: service_healthy}"
    short_form = BASE.replace(long_form, "depends_on: [db]")
    failed = names_failed(lab, {**right, "compose.yaml": short_form})
    assert failed["web waits until db is healthy"] == (
        "services.web.depends_on.db.condition is `service_started`, not `service_healthy`"
    )
    assert failed["depends-on-healthy"].startswith("compose.yaml line 5:")
    no_rotation = BASE.replace("    logging: {options: {max-size: 10m}}\n  db:", "  db:")
    failed = names_failed(lab, {**right, "compose.yaml": no_rotation})
    assert failed == {
        "every service rotates its logs": "services.web.logging is missing",
    }


def test_an_unreadable_file_fails_one_check_and_stops() -> None:
    lab = compose_lab()
    failed = names_failed(lab, {"compose.yaml": "services: [", "compose.override.yaml": OVERRIDE})
    assert list(failed) == ["compose.yaml reads as a compose file"]
    assert "not valid YAML" in failed["compose.yaml reads as a compose file"]


# --- the shipped course's Compose labs, graded through the service --------------------------

COMPOSE_EXERCISES = graded_exercises(compose=True)


def test_the_course_has_graded_compose_labs() -> None:
    assert len(COMPOSE_EXERCISES) >= 3


@pytest.fixture
async def labs(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[LabService]:
    """The service with no Docker daemon: a Compose lab must not need one."""
    yield LabService(
        sessions,
        CourseStore(default_course_dir()),
        lab_settings=short_limits(docker_host=f"unix://{tmp_path}/no-docker.sock"),
    )


@pytest.mark.parametrize("exercise_id", COMPOSE_EXERCISES)
async def test_a_right_compose_answer_passes(labs: LabService, exercise_id: str) -> None:
    grade, outcome = await labs.grade(1, exercise_id, solution(exercise_id, "pass"))
    assert outcome is None  # nothing was built or run
    assert grade.passed, [(c.name, c.detail) for c in grade.checks if not c.passed]
    assert len(grade.checks) >= 3


@pytest.mark.parametrize("exercise_id", COMPOSE_EXERCISES)
async def test_a_broken_compose_answer_fails_for_the_right_reason(
    labs: LabService, exercise_id: str
) -> None:
    grade, _ = await labs.grade(1, exercise_id, solution(exercise_id, "fail"))
    failed = {c.name: c.detail for c in grade.checks if not c.passed}
    assert set(fails_on(exercise_id)) <= set(failed), failed
    assert grade.checks[0].passed, "the broken answers still read as compose files"


async def test_a_pass_is_stored_once_and_an_empty_file_is_refused(
    labs: LabService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    exercise_id = COMPOSE_EXERCISES[0]
    await Services(sessions=sessions, courses=labs.courses).learners.start(7, track="complete")
    answer = solution(exercise_id, "pass")
    first = await labs.submit(7, exercise_id, answer)
    again = await labs.submit(7, exercise_id, answer)
    assert first.newly_done and not again.newly_done
    async with labs.sessions() as session:
        stored = list(await session.scalars(select(ExerciseCompletion)))
    assert [(row.exercise_id, row.build_seconds, row.image_bytes) for row in stored] == [
        (exercise_id, None, None)
    ]
    with pytest.raises(BadSubmission, match="is empty"):
        await labs.submit(7, exercise_id, {name: " " for name in answer})
