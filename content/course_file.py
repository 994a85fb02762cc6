"""course.toml into a CourseFile: the parts, tracks and study plan, each problem on its line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from content.model import PartInfo, Problem, StudyPlan, StudyStep, Track
from content.problems import Problems, read_text

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TOML_LINE = re.compile(r"at line (\d+)")
_TOML_TABLE = re.compile(r"\s*\[\[?\s*([A-Za-z_]+)\s*\]\]?")


@dataclass(frozen=True)
class CourseFile:
    """What course.toml says, and where it says it (for the validator's messages)."""

    path: Path
    title: str
    slug: str
    description: str
    parts: tuple[PartInfo, ...]
    part_lines: tuple[int, ...]
    tracks: tuple[Track, ...]
    track_lines: tuple[int, ...]  # the line of each track's `parts`
    study_plan: StudyPlan
    study_plan_line: int
    draft: bool = False  # still being written: unwritten parts are warnings, not errors


class _TomlLines:
    """Where each table of a TOML file starts, and where a key of it is written."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.starts: dict[str, list[int]] = {}
        for number, line in enumerate(self.lines, 1):
            found = _TOML_TABLE.match(line)
            if found:
                self.starts.setdefault(found.group(1), []).append(number)

    def table(self, name: str, index: int = 0) -> int:
        starts = self.starts.get(name, [])
        return starts[index] if index < len(starts) else 1

    def key_line(self, key: str) -> int:
        """The line of a top-level key (1 when not found)."""
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number, line in enumerate(self.lines, 1):
            if _TOML_TABLE.match(line):
                break
            if pattern.match(line):
                return number
        return 1

    def key(self, name: str, index: int, key: str) -> int:
        start = self.table(name, index)
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > start and _TOML_TABLE.match(line):
                break
            if pattern.match(line):
                return number
        return start


def _field(
    table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: int, report: Problems
) -> Any:
    value = table.get(key)
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    names = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
    said = "is missing" if value is None else f"must be {names}, not {value!r}"
    report.error(where, f"'{key}' {said}")
    return None


def _int_list(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    return None


def parse_course_file(path: Path, problems: list[Problem]) -> CourseFile | None:
    """course.toml, or None when it cannot be used at all."""
    report = Problems(problems, path)
    text = read_text(path, problems)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        report.error(int(found.group(1)) if found else 1, f"not valid TOML: {exc}")
        return None
    where = _TomlLines(text)
    infos, part_lines = _parse_parts(data.get("parts"), where, report)
    tracks, track_lines = _parse_tracks(data.get("tracks"), where, report)
    plan = _parse_study_plan(data.get("study_plan"), where, report)
    title = _field(data, "title", str, 1, report)
    slug = _field(data, "slug", str, 1, report)
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        report.error(where.key_line("draft"), f"'draft' must be true or false, not {draft!r}")
    if title is None or slug is None or plan is None:
        return None
    return CourseFile(
        path,
        title,
        slug,
        str(data.get("description", "")),
        infos,
        part_lines,
        tracks,
        track_lines,
        plan,
        where.table("study_plan"),
        draft is True,
    )


def _parse_parts(
    tables: Any, where: _TomlLines, report: Problems
) -> tuple[tuple[PartInfo, ...], tuple[int, ...]]:
    if not isinstance(tables, list) or not tables:
        report.error(1, "course.toml lists no [[parts]]")
        return (), ()
    infos: list[PartInfo] = []
    lines: list[int] = []
    seen: dict[object, int] = {}
    for index, table in enumerate(tables):
        line = where.table("parts", index)
        if not isinstance(table, dict):
            report.error(line, "each part must be a [[parts]] table")
            continue
        values = [
            _field(table, "number", int, line, report),
            _field(table, "slug", str, line, report),
            _field(table, "title", str, line, report),
            _field(table, "block", str, line, report),
            _field(table, "minutes", int, line, report),
        ]
        if None in values:
            continue
        info = PartInfo(*values)
        if not _SLUG.fullmatch(info.slug):
            report.error(line, f"part slug {info.slug!r} must be lowercase words joined by dashes")
        for key in (info.number, info.slug):
            if key in seen:
                report.error(line, f"part {key!r} is listed twice (first at line {seen[key]})")
            seen.setdefault(key, line)
        infos.append(info)
        lines.append(line)
    order = sorted(range(len(infos)), key=lambda i: infos[i].number)
    return tuple(infos[i] for i in order), tuple(lines[i] for i in order)


def _parse_tracks(
    tables: Any, where: _TomlLines, report: Problems
) -> tuple[tuple[Track, ...], tuple[int, ...]]:
    tracks: list[Track] = []
    lines: list[int] = []
    for index, table in enumerate(tables if isinstance(tables, list) else ()):
        line = where.table("tracks", index)
        if not isinstance(table, dict):
            report.error(line, "each track must be a [[tracks]] table")
            continue
        parts_line = where.key("tracks", index, "parts")
        slug = _field(table, "slug", str, line, report)
        name = _field(table, "name", str, line, report)
        summary = _field(table, "summary", str, line, report)
        parts = _int_list(table.get("parts"))
        if parts is None:
            report.error(parts_line, "a track's 'parts' must be a list of part numbers")
        hours = _field(table, "hours", (int, float), line, report)
        if slug is None or name is None or summary is None or parts is None or hours is None:
            continue
        tracks.append(Track(slug, name, summary, parts=parts, hours=float(hours)))
        lines.append(parts_line)
    if not tracks:
        report.error(1, "course.toml lists no [[tracks]]")
    return tuple(tracks), tuple(lines)


def _parse_study_plan(table: Any, where: _TomlLines, report: Problems) -> StudyPlan | None:
    line = where.table("study_plan")
    if not isinstance(table, dict):
        report.error(1, "course.toml has no [study_plan]")
        return None
    steps: list[StudyStep] = []
    for step in table.get("steps", []):
        step = step if isinstance(step, dict) else {}
        days, parts = _int_list(step.get("days")), _int_list(step.get("parts"))
        if days is None or parts is None:
            report.error(line, "each study plan step needs 'days' and 'parts' as lists of numbers")
            continue
        steps.append(StudyStep(days, parts, str(step.get("note", ""))))
    pace = table.get("weekly_pace")
    low, high = (pace.get("min"), pace.get("max")) if isinstance(pace, dict) else (None, None)
    if not (isinstance(low, int) and isinstance(high, int) and 0 < low <= high):
        report.error(line, "study_plan.weekly_pace needs whole numbers 0 < min <= max")
        return None
    return StudyPlan(tuple(steps), low, high, str(table.get("monthly_review", "")))


# --- articles ---------------------------------------------------------------------------------
