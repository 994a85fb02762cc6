"""Everything `tutorbot content check` reports, and `validate`, the one way to load a course.

The parser reports what is wrong inside one article as it reads it; this module adds what needs
the whole course (ids used twice, tracks, unwritten parts), what Discord cannot show (a question
that does not fit one message) and text that is not clean: invalid UTF-8 (found while reading),
control and replacement characters, and mojibake, UTF-8 that was once decoded with the wrong
code page ("ðŸŽ¯" or "π―" where "🎯" was meant).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from content.chunker import DEFAULT_TARGET, EMBED_LIMIT, measure
from content.course_file import CourseFile
from content.loader import Loaded, load_course
from content.model import Card, Course, Exercise, Problem, Question

TITLE_LIMIT = 256  # an embed title

# UTF-8 byte sequences; a 4-byte one is recognised from its first two bytes, since mojibake
# often loses the bytes a code page leaves undefined.
_UTF8_ANY = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf]|[\xf1-\xf3][\x80-\xbf]|\xf4[\x80-\x8f]"
)
# Three and four bytes only (punctuation, symbols, emoji): for code pages whose letters would
# otherwise pair up by chance in real Greek, Cyrillic or box-drawing text.
_UTF8_LONG = re.compile(
    rb"\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xf0[\x90-\xbf]|[\xf1-\xf3][\x80-\xbf]|\xf4[\x80-\x8f]"
)
_UTF8_WHOLE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CODE_PAGES = (
    ("cp1252", _UTF8_ANY),  # Windows, Western: "Ã©", "â€™", "ðŸŽ¯"
    ("latin-1", _UTF8_ANY),
    ("mac_roman", _UTF8_LONG),  # its punctuation pairs with accents in real French: l’été
    ("iso8859_7", _UTF8_LONG),  # Greek: "π―"
    ("cp1251", _UTF8_LONG),  # Cyrillic: "рџЋЇ"
    ("cp437", _UTF8_LONG),  # DOS consoles: "≡ƒÄ»"
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_C1_CONTROL = re.compile(r"[\x80-\x9f]")


@dataclass(frozen=True)
class Validation:
    course: Course | None  # None when course.toml itself is unusable
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.is_error)


def validate(directory: Path, *, strict: bool = False, target: int = DEFAULT_TARGET) -> Validation:
    """Load the course in `directory` and report every problem, sorted by file and line.

    With `strict`, warnings (such as unwritten parts) count as errors.
    """
    problems: list[Problem] = []
    loaded = load_course(Path(directory), problems, target)
    if loaded is not None:
        _check_texts(loaded, problems)
        _check_parts(loaded, problems)
        _check_tracks(loaded.config, problems)
        _check_ids(loaded.course, problems)
        _check_fit(loaded.course, problems)
    if strict:
        problems = [replace(problem, severity="error") for problem in problems]
    problems.sort(key=lambda p: (str(p.path), p.line, p.message))
    return Validation(loaded.course if loaded else None, tuple(problems))


# --- clean text -------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _byte(char: str, code_page: str) -> int | None:
    try:
        return char.encode(code_page)[0]
    except UnicodeEncodeError:
        return None


def _segments(run: str, code_page: str) -> Iterator[tuple[str, bytes]]:
    """The stretches of `run` that `code_page` can encode, with their bytes (one per character)."""
    text, raw = [], bytearray()
    for char in run + "\U0010ffff":  # a sentinel no code page encodes
        byte = _byte(char, code_page)
        if byte is not None:
            text.append(char)
            raw.append(byte)
        elif len(text) >= 2:
            yield "".join(text), bytes(raw)
            text, raw = [], bytearray()
        else:
            text, raw = [], bytearray()


def mojibake(line: str) -> str | None:
    """Why `line` looks like mis-decoded text, or None.

    These code pages map one byte to one character, so a stretch of characters that encodes
    back to valid UTF-8 sequences was UTF-8 once. Of several explanations, the one that decodes
    a whole character from the longest stretch wins, then the more common code page.
    """
    for run in _NON_ASCII_RUN.finditer(line):
        found = max(_explanations(run.group()), default=None)
        if found:
            complete, _, _, code_page, shown, meant = found
            shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown)
            if complete:
                return f'mojibake "{shown}": UTF-8 read as {code_page}; "{meant}" was meant'
            return f'mojibake "{shown}": UTF-8 read as {code_page} (an emoji or symbol was lost)'
    return None


def _explanations(run: str) -> Iterator[tuple[bool, int, int, str, str, str]]:
    """(decodes whole, length, -rank, code page, mis-decoded text, meant text) per code page."""
    for rank, (code_page, pattern) in enumerate(_CODE_PAGES):
        for text, raw in _segments(run, code_page):
            found = pattern.search(raw)
            if found is None:
                continue
            whole = _UTF8_WHOLE.match(raw, found.start())
            if whole:
                shown = text[whole.start() : whole.end()]
                yield True, len(shown), -rank, code_page, shown, whole.group().decode("utf-8")
            else:
                shown = text[found.start() : found.end()]
                yield False, len(shown), -rank, code_page, shown, ""


def text_problem(line: str) -> str | None:
    """What is not clean in one line of an article, or None."""
    if line.isascii():
        return None
    found = mojibake(line)
    if found:
        return found
    control = _C1_CONTROL.search(line)
    if control:
        return (
            f"control character U+{ord(control.group()):04X}: text decoded with the wrong code page"
        )
    if "\ufffd" in line:
        return "replacement character U+FFFD: text was lost in a conversion between encodings"
    return None


def _check_texts(loaded: Loaded, problems: list[Problem]) -> None:
    unreadable = {(p.path, p.line) for p in problems if p.message.startswith("not valid UTF-8")}
    for path, text in loaded.texts.items():
        for number, line in enumerate(text.split("\n"), 1):
            found = text_problem(line)
            if found and (path, number) not in unreadable:
                problems.append(Problem(path, number, found))


# --- the course as a whole ----------------------------------------------------------------------


def _check_parts(loaded: Loaded, problems: list[Problem]) -> None:
    config = loaded.config
    for info, line in zip(config.parts, config.part_lines, strict=True):
        if not loaded.course.parts[info.number].written:
            problems.append(
                Problem(
                    config.path,
                    line,
                    f"Part {info.number} is unwritten: {info.filename} does not exist yet"
                    + ("" if config.draft else " (a course still being written says draft = true)"),
                    "warning" if config.draft else "error",
                )
            )
    listed = {info.filename for info in config.parts}
    for path in sorted(config.path.parent.glob("*.md")):
        if path.name not in listed:
            problems.append(
                Problem(
                    path,
                    1,
                    "not part of the course: no [[parts]] entry in course.toml is named like it",
                    "warning",
                )
            )


def _check_tracks(config: CourseFile, problems: list[Problem]) -> None:
    numbers = {info.number for info in config.parts}
    seen: set[str] = set()
    for track, line in zip(config.tracks, config.track_lines, strict=True):
        unknown = [number for number in track.parts if number not in numbers]
        if unknown:
            problems.append(
                Problem(
                    config.path,
                    line,
                    f"track '{track.slug}' names parts that course.toml does not list: "
                    + ", ".join(map(str, unknown)),
                )
            )
        if len(set(track.parts)) != len(track.parts):
            problems.append(Problem(config.path, line, f"track '{track.slug}' repeats a part"))
        if track.slug in seen:
            problems.append(Problem(config.path, line, f"track '{track.slug}' is listed twice"))
        seen.add(track.slug)
    for step in config.study_plan.steps:
        unknown = [number for number in step.parts if number not in numbers]
        if unknown:
            problems.append(
                Problem(
                    config.path,
                    config.study_plan_line,
                    "the study plan names parts that course.toml does not list: "
                    + ", ".join(map(str, unknown)),
                )
            )


def _check_ids(course: Course, problems: list[Problem]) -> None:
    first: dict[str, tuple[Path, int]] = {}
    for part in course.parts.values():
        if part.path is None:
            continue
        items: tuple[Question | Exercise | Card, ...] = (
            *part.questions,
            *part.exercises,
            *part.cards,
        )
        for item in items:
            if not item.id:
                continue  # the parser reported it
            if item.id in first:
                path, line = first[item.id]
                where = f"line {line}" if path == part.path else f"{path.name}:{line}"
                problems.append(
                    Problem(part.path, item.line, f"id '{item.id}' is already used at {where}")
                )
            else:
                first[item.id] = (part.path, item.line)


def _check_fit(course: Course, problems: list[Problem]) -> None:
    """Whatever the bot shows as one embed must fit one embed."""
    for part in course.parts.values():
        if part.path is None:
            continue
        checks: list[tuple[str, int, str, int]] = []  # text, line, what it is, its limit
        for question in part.questions:
            checks += [
                (question.title, question.line, "the question's title", TITLE_LIMIT),
                (
                    question.body,
                    question.line,
                    "the question (snippet, text, choices)",
                    EMBED_LIMIT,
                ),
                (question.solution, question.line, "the answer with its explanation", EMBED_LIMIT),
            ]
        checks += [(e.title, e.line, "the exercise's title", TITLE_LIMIT) for e in part.exercises]
        for card in part.cards:
            if card.kind == "interview":
                checks += [
                    (card.front, card.line, "the interview question", TITLE_LIMIT),
                    (card.back, card.line, "the model answer", EMBED_LIMIT),
                ]
            elif measure(card.back) > EMBED_LIMIT:
                problems.append(
                    Problem(
                        part.path,
                        card.line,
                        f"the Quick Reference card takes {measure(card.back)} characters, more "
                        f"than one embed ({EMBED_LIMIT}): reviews will show it in pieces",
                        "warning",
                    )
                )
        for text, line, what, limit in checks:
            size = measure(text)
            if size > limit:
                problems.append(
                    Problem(
                        part.path,
                        line,
                        f"{what} does not fit one Discord embed: {size} characters, limit {limit}",
                    )
                )
