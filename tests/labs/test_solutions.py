"""Every lab in the course has a right and a broken answer, and every answer belongs to a lab."""

from __future__ import annotations

from bot.config import default_course_dir
from content.store import CourseStore
from tests.labs.conftest import SOLUTIONS, fails_on, graded_exercises

# What a learner's submission may be (one modal input each): the build files or a shell script.
BUILD_FILES = {"Dockerfile", ".dockerignore"}


def test_every_lab_has_both_answers_and_a_reason_to_fail() -> None:
    exercises = graded_exercises()
    assert len(exercises) >= 8
    for exercise_id in exercises:
        for kind in ("pass", "fail"):
            assert (SOLUTIONS / exercise_id / kind).is_dir(), f"{exercise_id}: no {kind}/ answer"
        assert fails_on(exercise_id), f"{exercise_id}: fails_on.txt is empty"


def test_every_answer_folder_belongs_to_a_lab() -> None:
    folders = {path.name for path in SOLUTIONS.iterdir() if path.is_dir()}
    assert folders - set(graded_exercises()) == set()


def test_labs_ask_only_for_files_a_learner_can_submit() -> None:
    course = CourseStore(default_course_dir()).course
    for part in course.parts.values():
        for exercise in part.exercises:
            lab = exercise.lab
            if lab is None:
                continue
            for name in lab.submit:
                if lab.compose is not None:
                    assert name.endswith((".yaml", ".yml")), (exercise.id, name)
                else:
                    assert name in BUILD_FILES or name.endswith(".sh"), (exercise.id, name)
