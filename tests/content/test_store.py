"""CourseStore: loaded once, reloaded without a restart, never replaced by a broken course."""

from __future__ import annotations

import threading

import pytest

from content.store import CourseLoadError, CourseStore
from tests.content.conftest import BROKEN, MakeCourse

PART_1 = "01-basics.md"


def test_loads_the_course_once(make_course: MakeCourse) -> None:
    store = CourseStore(make_course())
    assert store.course.title == "Fixture Course"
    assert store.course is store.course
    assert (store.generation, store.problems) == (1, ())


def test_a_broken_course_does_not_load_and_says_where(make_course: MakeCourse) -> None:
    course = make_course(**{PART_1: BROKEN / "missing-id.md"})
    with pytest.raises(CourseLoadError) as caught:
        CourseStore(course)
    assert f"{course / PART_1}:112: error: missing id" in str(caught.value)


def test_reload_swaps_in_an_edited_course(make_course: MakeCourse) -> None:
    directory = make_course()
    store = CourseStore(directory)
    before = store.course
    article = directory / PART_1
    article.write_text(
        article.read_text(encoding="utf-8").replace("Every commit", "Each commit"), encoding="utf-8"
    )
    assert store.reload() == ()
    assert store.course is not before
    assert store.course.parts[1].questions[0].prompt.startswith("Each commit")
    assert before.parts[1].questions[0].prompt.startswith("Every commit")  # old readers unharmed
    assert store.generation == 2


def test_a_broken_edit_keeps_the_previous_course_and_reports_it(make_course: MakeCourse) -> None:
    directory = make_course()
    store = CourseStore(directory)
    before = store.course
    (directory / PART_1).write_bytes((BROKEN / "review-not-increasing.md").read_bytes())
    problems = store.reload()
    assert [(p.path.name, p.line) for p in problems if p.is_error] == [(PART_1, 182)]
    assert store.course is before
    assert store.generation == 1


def test_readers_always_see_a_whole_course_while_reloading(make_course: MakeCourse) -> None:
    store = CourseStore(make_course())
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(len(store.course.parts[1].questions))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        store.reload()
    stop.set()
    reader.join()
    assert seen and set(seen) == {2}
    assert store.generation == 6
