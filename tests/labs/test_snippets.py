"""The lab snippets for the lead to paste: each parses, fits its exercise, changes nothing else."""

from __future__ import annotations

from pathlib import Path

from bot.config import default_course_dir
from content.store import CourseStore
from content.validator import validate
from tests.labs.conftest import SNIPPETS, SOLUTIONS, paste_lab

EXERCISES = sorted(path.stem for path in SNIPPETS.glob("*.md"))


def test_at_least_eight_exercises_become_gradable(lab_course: Path) -> None:
    course = CourseStore(lab_course).course  # raises on any error in the pasted course
    gradable = {e.id: e for part in course.parts.values() for e in part.exercises if e.lab}
    assert sorted(gradable) == EXERCISES and len(EXERCISES) >= 8
    for exercise_id, exercise in gradable.items():
        assert exercise.lab is not None
        assert set(exercise.lab.submit) <= {"Dockerfile", ".dockerignore", "start.sh"}
        assert (SOLUTIONS / exercise_id / "pass").is_dir()
        assert (SOLUTIONS / exercise_id / "fail").is_dir()


def test_pasting_changes_no_task_or_expected_result(lab_course: Path) -> None:
    shipped = validate(default_course_dir()).course
    pasted = CourseStore(lab_course).course
    assert shipped is not None
    for number, part in pasted.parts.items():
        before = {e.id: e for e in shipped.parts[number].exercises}
        for exercise in part.exercises:
            original = before[exercise.id]
            assert (exercise.task, exercise.expected, exercise.files) == (
                original.task,
                original.expected,
                original.files,
            )


def test_a_snippet_goes_after_the_expected_result() -> None:
    article = (
        "### ⭐ 1. A\n<!-- id: p09-ex-a -->\n\nDo.\n\n**Expected result:** done.\n\n### ⭐ 2. B\n"
    )
    pasted = paste_lab(article, "p09-ex-a", "```toml lab\nx = 1\n```\n")
    assert pasted == (
        "### ⭐ 1. A\n<!-- id: p09-ex-a -->\n\nDo.\n\n**Expected result:** done.\n\n"
        "```toml lab\nx = 1\n```\n\n### ⭐ 2. B\n"
    )
