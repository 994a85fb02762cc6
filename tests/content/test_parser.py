"""The parser builds the model the bot uses: checked field by field on the valid fixture."""

from __future__ import annotations

import pytest

from content.model import SECTION_NAMES, Course, Part, Track
from content.validator import validate
from tests.content.conftest import VALID


@pytest.fixture(scope="module")
def course() -> Course:
    result = validate(VALID)
    assert result.course is not None and result.problems == ()
    return result.course


@pytest.fixture(scope="module")
def part(course: Course) -> Part:
    return course.parts[1]


def test_course_toml_becomes_the_course(course: Course) -> None:
    assert course.title == "Fixture Course"
    assert list(course.parts) == [0, 1]
    assert course.parts[1].info.filename == "01-basics.md"
    assert [(t.slug, t.parts, t.hours) for t in course.tracks] == [
        ("quick", (1,), 1.0),
        ("all", (0, 1), 2.0),
    ]
    plan = course.study_plan
    assert [(s.days, s.parts) for s in plan.steps] == [((1,), (0,)), ((2,), (1,))]
    assert (plan.weekly_min, plan.weekly_max, plan.monthly_review) == (1, 2, "quick-reference")


def test_every_track_starts_with_part_0_then_goes_in_order() -> None:
    assert Track("t", "T", "", (9, 1, 5), 3).sequence == (0, 1, 5, 9)
    assert Track("t", "T", "", (0, 2, 1), 3).sequence == (0, 1, 2)


def test_sections_come_in_template_order_with_their_lines(part: Part) -> None:
    assert [s.name for s in part.sections] == list(SECTION_NAMES)
    assert [s.line for s in part.sections][:3] == [9, 15, 20]
    story = part.sections[2]
    assert story.markdown.startswith("At 03:12 the pager went off")


def test_sections_are_chunked_with_their_place(part: Part) -> None:
    for section in part.sections:
        assert section.chunks
        total = len(section.chunks)
        assert [(c.part, c.section, c.index, c.total) for c in section.chunks] == [
            (1, section.name, i, total) for i in range(1, total + 1)
        ]
    glance = part.sections[0].chunks[0].text
    assert glance.startswith("```\nWhat")  # the table, as a monospace block
    assert "<!--" not in part.sections[-2].chunks[0].text  # the Quick Reference id is not shown


def test_a_multiple_choice_question(part: Part) -> None:
    question = part.questions[0]
    assert (question.id, question.part, question.line) == ("p01-dbg-cache-order", 1, 57)
    assert question.title == "The cache that never hits"
    assert question.language == "dockerfile"
    assert question.snippet.startswith("FROM node:20-slim\n")
    assert question.prompt == "Every commit reinstalls all dependencies. Why?"
    assert [c.letter for c in question.choices] == ["A", "B", "C"]
    assert question.choices[2].text == "`npm ci` always deletes `node_modules`."
    assert (question.correct, question.reveal) == ("B", None)
    assert question.explanation.startswith("A layer's cache key includes")
    assert question.body.startswith("```dockerfile\nFROM node:20-slim\n")
    assert question.body.endswith("**C.** `npm ci` always deletes `node_modules`.")
    assert question.solution.startswith("**Answer: B.** `COPY . .` comes before `npm ci`")


def test_a_reveal_question(part: Part) -> None:
    question = part.questions[1]
    assert question.choices == ()
    assert question.correct is None
    assert (
        question.reveal == "The shell from the shell form of `CMD`, which does not forward SIGTERM."
    )
    assert question.explanation.startswith("Use the exec form")


def test_exercises(part: Part) -> None:
    assert [e.stars for e in part.exercises] == [1, 1, 2, 2, 3]
    reorder = part.exercises[2]
    assert (reorder.id, reorder.title, reorder.line) == (
        "p01-ex-reorder",
        "Reorder for the cache",
        119,
    )
    assert reorder.task.startswith("Reorder this Dockerfile")
    assert reorder.expected == "the second build prints `CACHED` for the `npm ci` step."
    dockerfile = (
        'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n'
    )
    assert dict(reorder.files) == {"Dockerfile": dockerfile}
    assert part.exercises[0].files == {}


def test_interview_questions_and_the_quick_reference_are_cards(part: Part) -> None:
    assert [(c.id, c.kind) for c in part.cards] == [
        ("p01-int-cache-key", "interview"),
        ("p01-int-pid1", "interview"),
        ("p01-quickref", "quickref"),
    ]
    interview = part.cards[0]
    assert interview.front == "What does a layer's cache key depend on?"
    assert interview.back.startswith("The parent layer, the instruction text")
    quickref = part.cards[2]
    assert quickref.front == "Quick Reference · Part 1: The basics"
    assert quickref.back.startswith("```\nCommand")


def test_the_review_schedule_gives_day_offsets(part: Part) -> None:
    assert part.review_offsets == (1, 3, 7, 30)
    assert part.review[0].text == "redo Debug This question 1 without looking."
