"""A course directory into a Course: course.toml, then every written article, once each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from content.chunker import DEFAULT_TARGET
from content.course_file import CourseFile, parse_course_file
from content.model import Course, Part, Problem
from content.parser import parse_article
from content.problems import read_text


@dataclass(frozen=True)
class Loaded:
    """A parsed course with what the validator needs beyond the model."""

    course: Course
    config: CourseFile
    texts: Mapping[Path, str]  # the article texts, by path


def load_course(
    directory: Path, problems: list[Problem], target: int = DEFAULT_TARGET
) -> Loaded | None:
    """course.toml and every written article of `directory`; None when course.toml is unusable."""
    path = directory / "course.toml"
    if not path.is_file():
        problems.append(Problem(path, 1, f"no course.toml in {directory}"))
        return None
    config = parse_course_file(path, problems)
    if config is None:
        return None
    parts: dict[int, Part] = {}
    texts: dict[Path, str] = {}
    for info in config.parts:
        article = directory / info.filename
        if not article.is_file():
            parts[info.number] = Part(info, None)
            continue
        texts[article] = read_text(article, problems)
        parts[info.number] = parse_article(article, texts[article], info, problems, target)
    course = Course(
        config.title, config.slug, config.description, parts, config.tracks, config.study_plan
    )
    return Loaded(course, config, texts)
