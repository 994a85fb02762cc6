"""Fixtures for the content tests: a small valid course and ways to break it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"

MakeCourse = Callable[..., Path]


@pytest.fixture
def make_course(tmp_path: Path) -> MakeCourse:
    """A copy of the valid course in a temporary directory, with files replaced or added.

    `make_course(**{"01-basics.md": BROKEN / "x.md"})` copies a fixture over Part 1; a str value
    is written as the file's text.
    """

    def make(**files: Path | str) -> Path:
        course = tmp_path / "course"
        shutil.copytree(VALID, course)
        for name, source in files.items():
            if isinstance(source, Path):
                shutil.copyfile(source, course / name)
            else:
                (course / name).write_text(source, encoding="utf-8")
        return course

    return make
