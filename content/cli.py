"""`tutorbot content check | export | preview`: the course from the command line.

`register(subparsers)` adds the `content` command group to an argparse parser; every command
function takes the parsed arguments and returns the process exit code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from content.chunker import measure
from content.model import Course, Part, Problem
from content.reader import part_chunks
from content.validator import validate

RULE_WIDTH = 72


def default_course_dir() -> Path:
    """The shipped Docker course."""
    return Path(__file__).resolve().parent / "courses" / "docker"


def register(subparsers: Any) -> None:
    """Add `content` and its commands to the sub-parsers of the `tutorbot` parser."""
    content = subparsers.add_parser(
        "content",
        help="Check, export or preview the course.",
        description="Check, export or preview the course's articles.",
    )
    commands = content.add_subparsers(dest="content_command", metavar="COMMAND", required=True)
    directory_help = "course directory (default: the shipped Docker course)"

    check = commands.add_parser("check", help="Report every problem as file:line: message.")
    check.add_argument("dir", nargs="?", type=Path, help=directory_help)
    check.add_argument(
        "--strict", action="store_true", help="count warnings, such as unwritten parts, as errors"
    )
    check.set_defaults(func=cmd_check)

    export = commands.add_parser("export", help="Print the parsed course as JSON.")
    export.add_argument("dir", nargs="?", type=Path, help=directory_help)
    export.set_defaults(func=cmd_export)

    preview = commands.add_parser("preview", help="Show a part's chunks as a learner reads them.")
    preview.add_argument("part", type=int, help="part number")
    preview.add_argument("section", nargs="?", help="one section, e.g. 'Deep Dive' or deep-dive")
    preview.add_argument("--dir", type=Path, help=directory_help)
    preview.set_defaults(func=cmd_preview)


def _shown(path: Path) -> str:
    """A path as short as it can be: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line(problem: Problem) -> str:
    return f"{_shown(problem.path)}:{problem.line}: {problem.severity}: {problem.message}"


def cmd_check(args: argparse.Namespace) -> int:
    directory = args.dir or default_course_dir()
    result = validate(directory, strict=args.strict)
    for problem in result.problems:
        print(_line(problem))
    errors = len(result.errors)
    warnings = len(result.problems) - errors
    summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if result.course is not None:
        parts = result.course.parts.values()
        written = sum(part.written for part in parts)
        summary += f"; {written} of {len(parts)} parts written"
    print(f"{_shown(directory)}: {summary}")
    return 1 if errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    result = validate(args.dir or default_course_dir())
    for problem in result.problems:
        print(_line(problem), file=sys.stderr)
    if result.course is None:
        return 1
    json.dump(course_json(result.course), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 1 if result.errors else 0


def cmd_preview(args: argparse.Namespace) -> int:
    result = validate(args.dir or default_course_dir())
    if result.course is None:
        for problem in result.problems:
            print(_line(problem), file=sys.stderr)
        return 1
    part = result.course.parts.get(args.part)
    if part is None:
        print(f"There is no Part {args.part}.", file=sys.stderr)
        return 1
    if not part.written:
        print(f"Part {part.info.number}, {part.info.title}, is not written yet: coming soon.")
        return 1
    chunks = part_chunks(part)  # exactly what a learner gets: Debug This answers hidden
    if args.section:
        wanted = _key(args.section)
        chunks = tuple(c for c in chunks if _key(c.section) == wanted)
        if not chunks:
            names = ", ".join(s.name for s in part.sections)
            print(f"Part {part.info.number} has no section {args.section!r}: {names}.")
            return 1
    print(f"Part {part.info.number} · {part.info.title}\n")
    for chunk in chunks:
        head = f"── {chunk.label} ({measure(chunk.text)} chars) "
        print(head + "─" * max(3, RULE_WIDTH - len(head)))
        print(chunk.text, end="\n\n")
    return 0


def _key(name: str) -> str:
    """A section name to compare loosely: "deep-dive" and "Deep Dive" are the same."""
    return re.sub(r"[^a-z0-9]", "", name.casefold())


# --- JSON -------------------------------------------------------------------------------------


def course_json(course: Course) -> dict[str, Any]:
    """The whole parsed course as plain JSON values."""
    plan = course.study_plan
    return {
        "title": course.title,
        "slug": course.slug,
        "description": course.description,
        "parts": [_part_json(part) for part in course.parts.values()],
        "tracks": [
            {
                "slug": track.slug,
                "name": track.name,
                "summary": track.summary,
                "parts": list(track.parts),
                "sequence": list(track.sequence),
                "hours": track.hours,
            }
            for track in course.tracks
        ],
        "study_plan": {
            "steps": [
                {"days": list(step.days), "parts": list(step.parts), "note": step.note}
                for step in plan.steps
            ],
            "weekly_pace": {"min": plan.weekly_min, "max": plan.weekly_max},
            "monthly_review": plan.monthly_review,
        },
    }


def _part_json(part: Part) -> dict[str, Any]:
    info = part.info
    return {
        "number": info.number,
        "slug": info.slug,
        "title": info.title,
        "block": info.block,
        "minutes": info.minutes,
        "status": "written" if part.written else "unwritten",
        "file": info.filename,
        "sections": [
            {
                "name": section.name,
                "line": section.line,
                "markdown": section.markdown,
                "chunks": [{"label": c.label, "text": c.text} for c in section.chunks],
            }
            for section in part.sections
        ],
        "questions": [
            {
                "id": q.id,
                "line": q.line,
                "title": q.title,
                "kind": "choice" if q.choices else "reveal",
                "snippet": {"language": q.language, "code": q.snippet} if q.snippet else None,
                "prompt": q.prompt,
                "choices": [{"letter": c.letter, "text": c.text} for c in q.choices],
                "correct": q.correct,
                "answer": q.reveal,
                "explanation": q.explanation,
            }
            for q in part.questions
        ],
        "exercises": [
            {
                "id": e.id,
                "line": e.line,
                "stars": e.stars,
                "title": e.title,
                "task": e.task,
                "expected": e.expected,
                "files": dict(e.files),
            }
            for e in part.exercises
        ],
        "cards": [
            {"id": c.id, "line": c.line, "kind": c.kind, "front": c.front, "back": c.back}
            for c in part.cards
        ],
        "review": [{"day": step.day, "text": step.text} for step in part.review],
        "review_offsets": list(part.review_offsets),
    }
