"""Time loading the course (parse, chunk, validate): the shipped one and one ten times its size.

    .venv/bin/python bench/bench_content.py [--repeat 5] [--factor 10]

The synthetic course copies every written article `factor` times under new part numbers (ids
and front matter moved along), so its cost shows how loading grows with the amount of text.
Figures and the machine they came from belong in bench/README.md.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from content.cli import default_course_dir
from content.model import Course
from content.validator import validate

FIXTURE_COURSE = Path(__file__).resolve().parent.parent / "tests" / "content" / "fixtures" / "valid"


def written_articles(directory: Path) -> list[tuple[dict[str, object], Path]]:
    config = tomllib.loads((directory / "course.toml").read_text(encoding="utf-8"))
    found = []
    for part in config["parts"]:
        path = directory / f"{part['number']:02d}-{part['slug']}.md"
        if path.is_file():
            found.append((part, path))
    return found


def synthesize(source: Path, target: Path, factor: int) -> None:
    """Write into `target` a course holding every written article of `source` `factor` times."""
    articles = written_articles(source) or written_articles(FIXTURE_COURSE)
    toml = ['title = "Synthetic"', 'slug = "synthetic"']
    numbers = []
    for copy in range(factor):
        for part, path in articles:
            number = len(numbers)
            slug = f"{part['slug']}-{copy}"
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"(?m)^part: \d+$", f"part: {number}", text, count=1)
            text = re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text, count=1)
            text = re.sub(r"(<!--\s*id:\s*)p\d+-", rf"\g<1>p{number:02d}-", text)
            (target / f"{number:02d}-{slug}.md").write_text(text, encoding="utf-8")
            toml += [
                "[[parts]]",
                f"number = {number}",
                f'slug = "{slug}"',
                f'title = "{part["title"]}"',
                f'block = "{part["block"]}"',
                f"minutes = {part['minutes']}",
            ]
            numbers.append(number)
    toml += [
        "[[tracks]]",
        'slug = "all"',
        'name = "All"',
        'summary = "Everything"',
        f"parts = {numbers}",
        "hours = 1",
        "[study_plan]",
        "steps = []",
        "weekly_pace = { min = 1, max = 2 }",
    ]
    (target / "course.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")


def measure(directory: Path, repeat: int) -> tuple[Course, list[float]]:
    times = []
    course = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = validate(directory)
        times.append(time.perf_counter() - start)
        if result.errors:
            raise SystemExit(f"{directory} has errors; run `tutorbot content check {directory}`")
        course = result.course
    assert course is not None
    return course, times


def report(name: str, directory: Path, repeat: int) -> None:
    course, times = measure(directory, repeat)
    written = [part for part in course.parts.values() if part.path is not None]
    size = sum(part.path.stat().st_size for part in written if part.path is not None)
    sections = [section for part in written for section in part.sections]
    chunks = sum(len(section.chunks) for section in sections)
    median = statistics.median(times)
    print(
        f"{name:<16} {len(written):>8} {size / 1e6:>8.2f} MB {len(sections):>8} {chunks:>7}"
        f" {min(times) * 1e3:>8.0f} ms {median * 1e3:>8.0f} ms {size / 1e6 / median:>7.1f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per course (default 5)")
    parser.add_argument("--factor", type=int, default=10, help="synthetic size (default 10x)")
    args = parser.parse_args()
    print(
        f"{'course':<16} {'articles':>8} {'size':>11} {'sections':>8} {'chunks':>7}"
        f" {'best':>11} {'median':>11} {'rate':>12}"
    )
    report("shipped", default_course_dir(), args.repeat)
    with tempfile.TemporaryDirectory() as scratch:
        synthesize(default_course_dir(), Path(scratch), args.factor)
        report(f"synthetic x{args.factor}", Path(scratch), args.repeat)


if __name__ == "__main__":
    main()
