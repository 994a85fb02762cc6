"""`tutorbot content check | export | preview`, and the shipped course through them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from content.cli import default_course_dir, register
from content.reader import part_chunks
from content.store import CourseStore
from tests.content.conftest import BROKEN, VALID, MakeCourse

# The four tracks exactly as shared/COURSE.md gives them: parts and hours.
COURSE_MD_TRACKS = {
    "performance": ([1, 3, 5, 6, 9], 8),
    "security": ([1, 7, 8, 12], 6),
    "production": ([1, 11, 13, 15, 17, 18, 19], 10),
    "complete": (list(range(21)), 40),
}


def run(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="tutorbot")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["content", *map(str, argv)])
    return args.func(args)


def test_check_passes_a_valid_course(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("check", VALID, "--strict") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].endswith(": 0 errors, 0 warnings; 2 of 2 parts written")


def test_check_prints_file_line_message_and_fails(
    make_course: MakeCourse, capsys: pytest.CaptureFixture[str]
) -> None:
    make_course(**{"01-basics.md": BROKEN / "unclosed-fence.md"})  # the working dir's "course"
    assert run("check", "course") == 1
    assert capsys.readouterr().out.splitlines() == [
        "course/01-basics.md:173: error: code block is never closed: it swallows the rest of "
        "the file",
        "course/01-basics.md:187: error: missing section '## Review Schedule' (expected at the "
        "end)",
        "course: 2 errors, 0 warnings; 2 of 2 parts written",
    ]


def test_check_fails_on_an_unwritten_part_unless_the_course_is_a_draft(
    make_course: MakeCourse, capsys: pytest.CaptureFixture[str]
) -> None:
    course = make_course()
    (course / "00-welcome.md").unlink()
    assert run("check", course) == 1
    assert "course.toml:6: error: Part 0 is unwritten" in capsys.readouterr().out
    toml = course / "course.toml"
    toml.write_text("draft = true\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    assert run("check", course) == 0
    assert "course.toml:7: warning: Part 0 is unwritten" in capsys.readouterr().out
    assert run("check", course, "--strict") == 1


def test_export_prints_the_parsed_course_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("export", VALID) == 0
    course = json.loads(capsys.readouterr().out)
    part = course["parts"][1]
    assert part["status"] == "written"
    assert part["sections"][0]["name"] == "At a Glance"
    assert part["sections"][4]["chunks"][0]["label"] == "Part 1 · Deep Dive · 1/1"
    question = part["questions"][0]
    assert (question["kind"], question["correct"], len(question["choices"])) == ("choice", "B", 3)
    assert question["explanation"].startswith("A layer's cache key")
    assert part["questions"][1]["answer"].startswith("The shell")
    assert "Dockerfile" in part["exercises"][2]["files"]
    assert [c["kind"] for c in part["cards"]] == ["interview", "interview", "quickref"]
    assert part["review_offsets"] == [1, 3, 7, 30]
    assert course["tracks"][0]["sequence"] == [0, 1]


def test_preview_shows_the_chunks_with_their_labels(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("preview", "1", "deep-dive", "--dir", VALID) == 0
    out = capsys.readouterr().out
    assert out.startswith("Part 1 · The basics\n")
    assert "── Part 1 · Deep Dive · 1/1 (" in out
    assert "$ docker run -d --name web nginx:1.27" in out
    assert "Mental Model" not in out


def test_preview_of_an_unwritten_part_or_unknown_section(
    make_course: MakeCourse, capsys: pytest.CaptureFixture[str]
) -> None:
    course = make_course()
    (course / "00-welcome.md").unlink()
    assert run("preview", "0", "--dir", course) == 1
    assert "Part 0, Welcome, is not written yet: coming soon." in capsys.readouterr().out
    assert run("preview", "1", "Epilogue", "--dir", course) == 1
    assert "Part 1 has no section 'Epilogue': At a Glance, " in capsys.readouterr().out


def test_the_shipped_course_exports_all_parts_and_the_course_md_tracks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Holds whether or not the articles are written yet (unwritten parts are warnings)."""
    run("export")
    course = json.loads(capsys.readouterr().out)
    assert [part["number"] for part in course["parts"]] == list(range(21))
    assert course["parts"][0]["title"] == "How to use this series"
    tracks = {t["slug"]: (t["parts"], t["hours"]) for t in course["tracks"]}
    assert tracks == COURSE_MD_TRACKS
    for track in course["tracks"]:
        assert track["sequence"][0] == 0
    for part in course["parts"]:
        assert part["status"] in ("written", "unwritten")
        assert len(part["sections"]) == (11 if part["status"] == "written" else 0)


def test_the_shipped_course_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert (default_course_dir() / "course.toml").is_file()
    code = run("check")
    assert code == 0, capsys.readouterr().out


def test_preview_shows_exactly_what_a_learner_reads(capsys: pytest.CaptureFixture[str]) -> None:
    part = CourseStore(default_course_dir()).course.parts[2]
    assert run("preview", "2") == 0
    shown = capsys.readouterr().out
    assert shown.count("── Part 2 · ") == len(part_chunks(part))
    assert "**Answer:**" not in shown and "quiz 2" in shown
    for question in part.questions:
        assert question.explanation not in shown
