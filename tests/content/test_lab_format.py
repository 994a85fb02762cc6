"""The ```toml lab block: parsed into Exercise.lab, every mistake reported on its line."""

from __future__ import annotations

import pytest

from content.lab_block import is_lab_fence, parse_lab, safe_path
from content.model import Exercise, LabExpect
from content.validator import validate
from tests.content.conftest import VALID, MakeCourse

BASICS = (VALID / "01-basics.md").read_text(encoding="utf-8")
ANCHOR = "**Expected result:** `docker stop` returns at once.\n"  # exercise 4, "Exec form"

LAB = """
```toml lab
# Graded by the bot.
task = "Submit the fixed Dockerfile."
submit = ["Dockerfile"]
base_images = ["busybox:latest"]

[context]
"app/server.sh" = "echo serving\\n"

[run]
command = ["sh", "-c", "echo ok"]
timeout = 5
memory_mb = 32

[expect]
exit_code = 0
stdout_contains = ["ok"]
non_root = true
healthcheck = true
max_size_mb = 5
max_layers = 3
no_secret = ["hunter2"]
absent = ["/tmp/cache"]
```
"""


def with_lab(block: str, anchor: str = ANCHOR) -> str:
    assert anchor in BASICS
    return BASICS.replace(anchor, anchor + block, 1)


def exercise(make_course: MakeCourse, text: str) -> tuple[Exercise, list[str]]:
    result = validate(make_course(**{"01-basics.md": text}))
    assert result.course is not None
    found = next(e for e in result.course.parts[1].exercises if e.id == "p01-ex-exec-form")
    return found, [f"{p.line}: {p.message}" for p in result.errors]


def lab_line(text: str) -> int:
    return text.split("\n").index("```toml lab") + 1


def test_a_lab_block_becomes_the_exercise_lab(make_course: MakeCourse) -> None:
    found, errors = exercise(make_course, with_lab(LAB))
    assert errors == []
    lab = found.lab
    assert lab is not None
    assert lab.task == "Submit the fixed Dockerfile."
    assert lab.submit == ("Dockerfile",)
    assert lab.base_images == ("busybox:latest",)
    assert lab.context == {"app/server.sh": "echo serving\n"}
    assert lab.command == ("sh", "-c", "echo ok")
    assert (lab.timeout, lab.memory_mb) == (5.0, 32)
    assert lab.expect == LabExpect(
        exit_code=0,
        stdout_contains=("ok",),
        non_root=True,
        healthcheck=True,
        max_size_mb=5,
        max_layers=3,
        no_secret=("hunter2",),
        absent=("/tmp/cache",),
    )
    assert lab.line == lab_line(with_lab(LAB))


def test_the_lab_block_is_neither_task_nor_expected_result(make_course: MakeCourse) -> None:
    found, _ = exercise(make_course, with_lab(LAB))
    assert found.expected == "`docker stop` returns at once."
    assert "toml" not in found.task and "base_images" not in found.task
    assert found.files == {}


def test_defaults_and_exercises_without_lab(make_course: MakeCourse) -> None:
    block = '\n```toml lab\nbase_images = ["busybox:latest"]\n```\n'
    found, errors = exercise(make_course, with_lab(block))
    assert errors == []
    assert found.lab is not None
    assert found.lab.submit == ("Dockerfile",)
    assert (found.lab.timeout, found.lab.command, found.lab.memory_mb) == (10.0, None, None)
    assert not found.lab.expect.runs
    plain = validate(VALID).course
    assert plain is not None
    assert all(e.lab is None for e in plain.parts[1].exercises)


@pytest.mark.parametrize(
    ("lines", "message", "offset"),
    [
        (['base_images = ["busybox:latest"]', "timeout = 5"], "unknown key 'timeout'", 2),
        (['base_images = ["busybox"]', "[expect]", "exit_kode = 0"], "did you mean 'exit_code'", 3),
        (["[expect]", "exit_code = 0"], "needs 'base_images'", 0),
        (['base_images = ["Busy Box"]'], "'Busy Box' is not an image name", 1),
        (['base_images = ["busybox"]', 'submit = ["../Dockerfile"]'], "not a relative path", 2),
        (['base_images = ["busybox"]', 'submit = ["start.sh"]'], "nothing to build", 2),
        (['base_images = ["busybox"]', "[expect]", "exit_code = 300"], "from 0 to 255", 3),
        (['base_images = ["busybox"]', "[expect]", 'non_root = "yes"'], "true or false", 3),
        (
            ['base_images = ["busybox"]', "[expect]", "exit_code = 0", "running_for = 2"],
            "not both",
            4,
        ),
        (['base_images = ["busybox"]', "[expect]", "exit_on_stop = 143"], "needs 'running_for'", 3),
        (['base_images = ["busybox"]', "[expect]", 'absent = ["tmp/x"]'], "absolute path", 3),
        (['base_images = ["busybox"]', "[run]", "timeout = 600"], "from 1 to 60", 3),
        (['base_images = ["busybox"]', "[expect]", "max_layers = 1.5"], "whole number", 3),
        (['base_images = ["busybox"]', "[expect]", "max_added_mb = -1"], "from 0 to", 3),
        (['base_images = ["busybox"]', "[expect]", 'oom_killed = "yes"'], "true or false", 3),
        (['base_images = ["busybox"]', "[expect]", "max_added_layers = 0.5"], "whole number", 3),
        (['base_images = ["busybox"]', "submit = ", ""], "not valid TOML", 2),
    ],
)
def test_mistakes_are_errors_on_their_line(
    make_course: MakeCourse, lines: list[str], message: str, offset: int
) -> None:
    assert_refused_on_line(make_course, lines, message, offset)


def assert_refused_on_line(
    make_course: MakeCourse, lines: list[str], message: str, offset: int
) -> None:
    """A lab block of `lines` gives no lab and an error with `message` `offset` lines in."""
    text = with_lab("\n```toml lab\n" + "\n".join(lines) + "\n```\n")
    found, errors = exercise(make_course, text)
    assert found.lab is None
    line = lab_line(text) + offset
    assert any(e.startswith(f"{line}: ") and message in e for e in errors), errors


def test_a_context_file_may_not_shadow_a_fixture(make_course: MakeCourse) -> None:
    anchor = "**Expected result:** the second build prints `CACHED` for the `npm ci` step.\n"
    block = (
        '\n```toml lab\nbase_images = ["node:20-slim"]\n[context]\n"Dockerfile" = "FROM x"\n```\n'
    )
    result = validate(make_course(**{"01-basics.md": with_lab(block, anchor)}))
    assert any("already a fixture file" in p.message for p in result.errors)


BLOCK = '\n```toml lab\nbase_images = ["busybox"]\n```\n'


def test_an_exercise_has_one_lab_block(make_course: MakeCourse) -> None:
    _, errors = exercise(make_course, with_lab(BLOCK + BLOCK))
    assert any("at most one lab block" in e for e in errors)


def test_the_lab_block_comes_last(make_course: MakeCourse) -> None:
    task = "Rewrite `CMD python app.py` in exec form.\n"
    _, errors = exercise(make_course, BASICS.replace(task, task + BLOCK))
    assert any("must be the exercise's last block" in e for e in errors)


def test_the_fence_and_paths() -> None:
    assert is_lab_fence("toml lab")
    assert not is_lab_fence("toml") and not is_lab_fence("dockerfile file=Dockerfile")
    assert safe_path("src/lib/util.sh") and safe_path(".dockerignore")
    assert not safe_path("/etc/passwd") and not safe_path("a/../b") and not safe_path("a b")


def test_fixtures_and_context_together_have_a_size_limit() -> None:
    problems: list[tuple[int, str]] = []
    big = "x" * (70 * 1024)
    lab = parse_lab('base_images = ["busybox"]\n', 10, {"Dockerfile": big}, problems)
    assert lab is None
    assert problems and "bytes, over" in problems[0][1]


def test_the_example_in_the_authoring_guide_parses() -> None:
    guide = (VALID.parents[3] / "content" / "README.md").read_text(encoding="utf-8")
    section = guide.split("## Labs: exercises the bot grades", 1)[1].split("\n## ", 1)[0]
    block = section.split("```toml lab\n", 1)[1].split("```\n", 1)[0]
    problems: list[tuple[int, str]] = []
    files = {"Dockerfile": "FROM busybox:latest\n"}
    lab = parse_lab(block, 1, files, problems)
    assert problems == [] and lab is not None
    assert lab.expect.max_size_mb == 3 and lab.expect.absent == ("/tmp/payload.bin",)
    documented = set(section.split("| key | meaning |", 1)[1].split("\n\n", 1)[0].split("`"))
    assert {"task", "submit", "base_images", "[context]"} <= documented
    assert {f"[expect] {name}" for name in LabExpect.__dataclass_fields__} <= documented
