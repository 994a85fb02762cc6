"""`content check`: every kind of broken article is reported at the right file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import content
from content.model import PartInfo, Problem
from content.parser import parse_article
from content.validator import text_problem, validate
from tests.content.conftest import BROKEN, VALID, MakeCourse

PART_1 = "01-basics.md"

# fixture in fixtures/broken/ (copied over Part 1) -> every error it must produce: (line, words)
BROKEN_ARTICLES: dict[str, list[tuple[int, str]]] = {
    "missing-section.md": [(25, "missing section '## Mental Model' (expected before this line)")],
    "out-of-order.md": [(28, "section '## Production Story' is out of order")],
    "unknown-section.md": [
        (15, "unknown section '## What You’ll Learn' (did you mean '## What You'll Learn'?)"),
        (20, "missing section '## What You'll Learn'"),
    ],
    "duplicate-section.md": [(53, "section '## Common Mistakes' appears twice (first at line 48)")],
    "no-front-matter.md": [(1, "no front matter")],
    "front-matter-mismatch.md": [
        (3, "front matter slug is 'basic', but course.toml says 'basics'")
    ],
    "question-no-answer.md": [(57, "question has no answer")],
    "question-no-explanation.md": [(77, "no explanation after the answer")],
    "answer-raw-html.md": [
        (76, "put a blank line after <summary>…</summary>"),
        (78, "the answer must start with a paragraph beginning **Answer:**"),
    ],
    "no-correct-answer.md": [(77, "no correct answer")],
    "several-correct.md": [(77, "several correct answers (B and C)")],
    "unknown-letter.md": [
        (77, "the answer names choice D, which does not exist (choices A, B, C)")
    ],
    "one-choice.md": [(70, "a question has 2 to 5 choices, this one has 1")],
    "six-choices.md": [(70, "a question has 2 to 5 choices, this one has 6")],
    "choice-letters.md": [
        (71, "expected **B.**, found **C.**"),
        (72, "expected **C.**, found **B.**"),
    ],
    "duplicate-id.md": [(84, "id 'p01-dbg-cache-order' is already used at line 57")],
    "missing-id.md": [(112, "missing id")],
    "bad-id.md": [(58, "id 'p05-dbg-cache-order' must be p01- then lowercase")],
    "long-id.md": [(106, "is 50 characters; at most 40")],
    "exercise-no-stars.md": [(105, "exercise heading must start with its difficulty")],
    "exercise-four-stars.md": [(141, "4 stars: exercises are rated ⭐ to ⭐⭐⭐")],
    "exercise-no-expected.md": [(112, "exercise has no paragraph starting **Expected result:**")],
    "duplicate-fixture-file.md": [(132, "fixture file 'Dockerfile' is given twice")],
    "interview-no-answer.md": [(160, "interview question has no model answer")],
    "quickref-no-id.md": [(170, "Quick Reference has no id")],
    "review-unparsed.md": [(181, "a review item must start with **Day N:**")],
    "review-not-increasing.md": [(182, "Day 2 is not after Day 3")],
    "invalid-utf8.bin": [(22, "not valid UTF-8: byte 0xff at column 20")],
    "byte-order-mark.md": [(1, "byte order mark")],
    "mojibake-cp1252.md": [(22, 'mojibake "ðŸŽ¯": UTF-8 read as cp1252; "🎯" was meant')],
    "mojibake-greek.md": [(22, 'mojibake "π―": UTF-8 read as iso8859_7')],
    "question-too-long.md": [
        (57, "the question (snippet, text, choices) does not fit one Discord")
    ],
    "unclosed-fence.md": [
        (173, "code block is never closed"),
        (187, "missing section '## Review Schedule' (expected at the end)"),
    ],
}


@pytest.mark.parametrize("fixture", sorted(BROKEN_ARTICLES))
def test_each_broken_article_is_reported_at_its_file_and_line(
    make_course: MakeCourse, fixture: str
) -> None:
    course = make_course(**{PART_1: BROKEN / fixture})
    errors = validate(course).errors
    expected = BROKEN_ARTICLES[fixture]
    assert [(p.path, p.line) for p in errors] == [(course / PART_1, line) for line, _ in expected]
    for problem, (_, words) in zip(errors, expected, strict=True):
        assert words in problem.message


def test_every_broken_fixture_is_covered() -> None:
    fixtures = {path.name for path in BROKEN.iterdir() if path.suffix != ".toml"}
    assert fixtures == {*BROKEN_ARTICLES, "tilde-fence.md"}  # the one that only warns


def test_the_valid_fixture_course_has_no_problem_even_strictly() -> None:
    result = validate(VALID, strict=True)
    assert result.course is not None
    assert result.problems == ()


def test_a_track_naming_a_missing_part_is_reported_at_its_parts_line(
    make_course: MakeCourse,
) -> None:
    course = make_course(**{"course.toml": BROKEN / "track-unknown-part.toml"})
    [error] = validate(course).errors
    assert (error.path.name, error.line) == ("course.toml", 24)
    assert error.message == "track 'quick' names parts that course.toml does not list: 7"


def test_invalid_toml_is_reported_at_its_line_and_gives_no_course(make_course: MakeCourse) -> None:
    course = make_course(**{"course.toml": BROKEN / "invalid-toml.toml"})
    result = validate(course)
    assert result.course is None
    [error] = result.errors
    assert (error.path.name, error.line) == ("course.toml", 17)
    assert error.message.startswith("not valid TOML")


UNWRITTEN_PART = """
[[parts]]
number = 2
slug = "next"
title = "Next"
block = "Internals"
minutes = 30
"""


def test_an_unwritten_part_is_an_error_and_a_warning_in_a_draft(make_course: MakeCourse) -> None:
    toml = (VALID / "course.toml").read_text(encoding="utf-8")
    holed = toml.replace("\n[[tracks]]", UNWRITTEN_PART + "\n[[tracks]]", 1)
    draft = make_course(**{"course.toml": holed})
    [error] = validate(draft).errors
    assert (error.path.name, error.line) == ("course.toml", 20)
    assert error.message.startswith("Part 2 is unwritten: 02-next.md does not exist yet")
    assert "draft = true" in error.message  # the way out, for a course still being written
    (draft / "course.toml").write_text(
        holed.replace("\n[[parts]]", "\ndraft = true\n[[parts]]", 1), encoding="utf-8"
    )
    relaxed = validate(draft)
    assert relaxed.errors == ()
    [warning] = relaxed.problems
    assert (warning.line, warning.severity) == (21, "warning")
    assert warning.message == "Part 2 is unwritten: 02-next.md does not exist yet"
    assert relaxed.course is not None and not relaxed.course.parts[2].written
    [error] = validate(draft, strict=True).errors
    assert error.message == warning.message


def test_draft_must_be_true_or_false(make_course: MakeCourse) -> None:
    toml = (VALID / "course.toml").read_text(encoding="utf-8")
    course = make_course(**{"course.toml": 'draft = "yes"\n' + toml})
    [error] = validate(course).errors
    assert (error.line, error.message) == (1, "'draft' must be true or false, not 'yes'")


def test_an_article_not_in_course_toml_is_a_warning(make_course: MakeCourse) -> None:
    course = make_course(**{"07-stray.md": "# Nothing\n"})
    [warning] = validate(course).problems
    assert (warning.path.name, warning.line, warning.severity) == ("07-stray.md", 1, "warning")
    assert "not part of the course" in warning.message


def test_a_tilde_fence_only_warns_since_discord_shows_only_backtick_fences(
    make_course: MakeCourse,
) -> None:
    result = validate(make_course(**{PART_1: BROKEN / "tilde-fence.md"}))
    assert result.errors == ()
    [warning] = result.problems
    assert (warning.line, warning.severity) == (39, "warning")
    assert "not ~~~" in warning.message


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("The goal ðŸŽ¯ is set", '"🎯" was meant'),
        ("it’s â€™ here", '"’" was meant'),
        ("cafÃ©", '"é" was meant'),
        ("âœ… done", '"✅" was meant'),
        ("ð\x9f\x8e¯ with its control bytes", "latin-1"),
        ("рџЋЇ", "cp1251"),
        ("≡ƒÄ»", "cp437"),
        ("π― target", "iso8859_7 (an emoji or symbol was lost)"),
    ],
)
def test_mojibake_is_recognised_and_explained(line: str, meant: str) -> None:
    problem = text_problem(line)
    assert problem is not None and problem.startswith("mojibake")
    assert meant in problem


@pytest.mark.parametrize(
    "line",
    [
        "café, naïve, résumé, Zürich, São Paulo, ¿Qué?",
        "— “quoted” … ‘single’ – «élan» l’été “École”",
        "🎯 ⭐⭐ ⭐️ ✅ 🐳 👨‍👩‍👧 🇩🇪",
        "日本語のテキスト — ok",
        "Ελληνικά κείμενα, μs, λ → x",
        "Привет, мир",
        "┌──┐ │ ├─┤ └──┘ ═══ ║",
        "×÷±° ½ ¼ µs § ¶ © ® ™ ≈ ≠ ≤ ≥ ∞",
        "zero\u200bwidth\u2060joiners",
    ],
)
def test_clean_text_is_not_mojibake(line: str) -> None:
    assert text_problem(line) is None


def test_control_and_replacement_characters_are_reported() -> None:
    assert text_problem("a\x85b") == (
        "control character U+0085: text decoded with the wrong code page"
    )
    problem = text_problem("lost \ufffd here")
    assert problem is not None and problem.startswith("replacement character U+FFFD")


def test_problems_print_as_file_line_severity_message(make_course: MakeCourse) -> None:
    course = make_course(**{PART_1: BROKEN / "missing-id.md"})
    [error] = validate(course).errors
    assert str(error) == f"{Path(course / PART_1)}:112: error: {error.message}"


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mangled_article_is_reported_never_crashes(data: st.DataObject) -> None:
    """Lines deleted, repeated or swapped at random: problems, each inside the file, no crash."""
    lines = (VALID / PART_1).read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "repeat", "swap"]))
        if action == "delete":
            del lines[at]
        elif action == "repeat":
            lines.insert(at, lines[at])
        else:
            other = data.draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    problems: list[Problem] = []
    info = PartInfo(1, "basics", "The basics", "Internals", 60)
    part = parse_article(Path("01-basics.md"), "\n".join(lines), info, problems)
    assert part.info == info
    assert all(1 <= problem.line <= len(lines) for problem in problems)


def test_the_complete_example_in_the_authoring_guide_passes(tmp_path: Path) -> None:
    guide = (Path(content.__file__).parent / "README.md").read_text(encoding="utf-8")
    example = guide.split("## A complete small article", 1)[1].split("````markdown\n", 1)[1]
    article = example.rsplit("````", 1)[0]
    problems: list[Problem] = []
    info = PartInfo(5, "dockerfile-optimization", "Dockerfile optimization", "Dockerfile", 90)
    part = parse_article(tmp_path / info.filename, article, info, problems)
    assert problems == []
    assert [len(part.questions), len(part.exercises), len(part.cards)] == [1, 5, 2]
    assert part.exercises[2].files == {"Dockerfile": "FROM node:20-slim\nCOPY . .\nRUN npm ci\n"}
