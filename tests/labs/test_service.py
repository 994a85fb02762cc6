"""The lab service on a real database (SQLite and PostgreSQL): learners, passes, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.labs.results import BuildResult, ImageFacts, Outcome
from bot.services import Services
from bot.services.errors import NotStarted
from bot.services.labs import BadSubmission, SandboxOff, UnknownExercise
from content.store import CourseStore
from storage.models import ActivityDay, ExerciseCompletion
from tests.labs.conftest import short_limits

ME = 4242


@pytest.fixture
def services(sessions: async_sessionmaker[AsyncSession], lab_course: Path) -> Services:
    built = Services(sessions=sessions, courses=CourseStore(lab_course))
    built.labs.lab_settings = short_limits(enabled=False)
    return built


def outcome() -> Outcome:
    facts = ImageFacts(size_bytes=1_900_000, layers=2, user="", uid=0, healthcheck=False)
    return Outcome("job", BuildResult(True, 1.5, "", image_id="sha256:x"), facts)


async def test_a_pass_is_stored_once_with_its_facts(services: Services) -> None:
    await services.learners.start(ME, track="complete")
    exercise = services.labs.exercise("p02-ex-ghost-file")
    assert await services.labs._complete(ME, exercise, outcome()) is True
    assert await services.labs._complete(ME, exercise, outcome()) is False
    async with services.sessions() as session:
        rows = list(await session.scalars(select(ExerciseCompletion)))
        events = sum(await session.scalars(select(ActivityDay.events)))
    assert [(r.exercise_id, r.part, r.source, r.image_bytes) for r in rows] == [
        ("p02-ex-ghost-file", 2, "lab", 1_900_000)
    ]
    assert rows[0].build_seconds == 1.5 and events == 1
    assert await services.labs.done_ids(ME) == {"p02-ex-ghost-file"}
    task = await services.labs.start(ME, "p02-ex-ghost-file")
    assert task.done and not task.sandbox_on
    report = await services.progress.report(ME)
    part2 = next(p for p in report.parts if p.info.number == 2)
    assert (part2.labs_passed, part2.labs) == (1, 3)
    assert report.labs_passed == 1 and report.labs == len(services.labs.exercises())


async def test_submitting_needs_a_learner_and_a_known_exercise(services: Services) -> None:
    with pytest.raises(NotStarted):
        await services.labs.submit(ME, "p02-ex-ghost-file", {"Dockerfile": "FROM busybox\n"})
    await services.learners.start(ME, track="complete")
    with pytest.raises(UnknownExercise):
        await services.labs.submit(ME, "p99-ex-nothing", {"Dockerfile": "FROM busybox\n"})
    with pytest.raises(BadSubmission, match=r"takes Dockerfile, not start\.sh"):
        await services.labs.submit(ME, "p02-ex-ghost-file", {"start.sh": "echo"})
    with pytest.raises(SandboxOff, match="`/lab review` still checks"):
        await services.labs.submit(ME, "p02-ex-ghost-file", {"Dockerfile": "FROM busybox\n"})
    assert await services.labs.done_ids(ME) == set()


async def test_the_review_refuses_empty_and_huge_files(services: Services) -> None:
    with pytest.raises(BadSubmission, match="empty"):
        await services.labs.review("  \n")
    with pytest.raises(BadSubmission, match="up to 20,000"):
        await services.labs.review("FROM busybox\n" * 3000)
    review = await services.labs.review("FROM busybox:1.36\nCMD echo hi\n")
    assert "shell-form" in {f.code for f in review.findings}
    assert services.labs.part_label(8) == "Part 8 · Configuration"
    assert services.labs.part_label(None) is None and services.labs.part_label(99) is None


async def test_the_review_is_no_free_cpu_burner(services: Services) -> None:
    """F7: 1,816 × `RUN echo x` took 7 s of hadolint and gave 1,817 findings in 76 messages."""
    with pytest.raises(BadSubmission, match="1,817 instructions; the review takes up to 150"):
        await services.labs.review("FROM busybox\n" + "RUN echo x\n" * 1816)
    with pytest.raises(BadSubmission, match="not valid Unicode"):
        await services.labs.review("FROM busybox\nRUN echo \udcff\n")
    many = "FROM debian:bookworm-slim\n" + "RUN echo x\n" * 120 + 'CMD ["true"]\n'
    review = await services.labs.review(many, owner=ME)
    folded = [f for f in review.findings if f.code == "DL3059"]
    assert len(folded) == 1 and len(folded[0].more_lines) == 118  # 119 RUNs follow a RUN
    assert len(review.findings) <= 30
    with pytest.raises(BadSubmission, match="One review every 10 s"):
        await services.labs.review(many, owner=ME)
    await services.labs.review(many, owner=ME + 1)  # another learner is not held up
