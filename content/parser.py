"""course.toml and the articles into the model, noting every problem with its file and line.

Each article is read once and parsed once (markdown-it-py, block level: CommonMark, tables, front
matter); sections, questions, chunks and rendered fields all come from that one token stream.
The rules of the format are those of content/README.md. Problems that need the whole course
(ids used twice, tracks, unwritten parts, encodings) are left to `content.validator`.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from content.chunker import (
    DEFAULT_TARGET,
    chunk_tokens,
    fence_is_closed,
    normalize_newlines,
    render,
)
from content.lab import is_lab_fence, parse_lab
from content.model import (
    SECTION_NAMES,
    Card,
    Choice,
    Chunk,
    Course,
    Exercise,
    Lab,
    Part,
    PartInfo,
    Problem,
    Question,
    ReviewStep,
    Section,
    Severity,
    StudyPlan,
    StudyStep,
    Track,
)

_md = (
    MarkdownIt("commonmark")
    .enable("table")
    .use(front_matter_plugin)
    .disable(["inline", "text_join"])
)

MAX_ID_LENGTH = 40
_ID = re.compile(r"\s*<!--\s*id:\s*(\S*)\s*-->\s*")
_NUMBER = re.compile(r"\d+[.)]\s+")
_STARS = re.compile(r"((?:\u2b50\ufe0f?)+)\s*(.*)", re.DOTALL)
_CHOICE = re.compile(r"\*\*([A-Za-z])[.)]\*\*\s*(.*)", re.DOTALL)
_ANSWER = re.compile(r"\*\*Answer:\*\*\s*(.*)", re.DOTALL)
_EXPECTED = re.compile(r"\*\*Expected result:\*\*\s*", re.DOTALL)
_DAY = re.compile(r"\*\*Day\s+(\d+):\*\*\s*(.*)", re.DOTALL)
_ONE_LETTER = re.compile(r"([A-Z])[.)]?")
_LETTERS = re.compile(r"[A-Z](?:\s*(?:,|/|&|\+|and|or)?\s*[A-Z])+[.)]?")
_DETAILS_OPEN = re.compile(r"<details[\s>]", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_HTML_WRAPPER = re.compile(r"</?details(?:\s[^>]*)?>|<summary(?:\s[^>]*)?>.*?</summary>", re.I)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TOML_LINE = re.compile(r"at line (\d+)")
_TOML_TABLE = re.compile(r"\s*\[\[?\s*([A-Za-z_]+)\s*\]\]?")
FRONT_MATTER_KEYS = ("part", "slug", "title")
T = TypeVar("T")


class Problems:
    """Collects problems, bound to one file at a time."""

    def __init__(self, sink: list[Problem], path: Path):
        self.sink, self.path = sink, path

    def error(self, line: int, message: str) -> None:
        self.add(line, message, "error")

    def warn(self, line: int, message: str) -> None:
        self.add(line, message, "warning")

    def add(self, line: int, message: str, severity: Severity) -> None:
        self.sink.append(Problem(self.path, line, message, severity))


# --- reading ----------------------------------------------------------------------------------


def read_text(path: Path, problems: list[Problem]) -> str:
    """The file as text; bytes that are not UTF-8 are reported by line and replaced."""
    raw = path.read_bytes()
    report = Problems(problems, path)
    if raw.startswith(b"\xef\xbb\xbf"):
        report.error(1, "the file starts with a byte order mark: save it as UTF-8 without BOM")
        raw = raw[3:]
    try:
        return normalize_newlines(raw.decode("utf-8"))
    except UnicodeDecodeError:
        for number, line in enumerate(raw.split(b"\n"), 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                report.error(
                    number,
                    f"not valid UTF-8: byte 0x{line[exc.start]:02x} at column {exc.start + 1}",
                )
        return normalize_newlines(raw.decode("utf-8", errors="replace"))


# --- course.toml ------------------------------------------------------------------------------


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


@dataclass
class _Item:
    """A `###` entry of a structured section: its heading and top-level blocks."""

    title: str
    line: int  # 1-based
    start: int  # 0-based line range
    end: int
    blocks: list[int] = field(default_factory=list)  # token indices


class _Article:
    """One article being parsed: its lines, tokens and problems."""

    def __init__(self, path: Path, text: str, info: PartInfo, report: Problems, target: int):
        self.path, self.info, self.report, self.target = path, info, report, target
        self.lines = text.split("\n")
        self.tokens = _md.parse(text)
        self.top = [
            index
            for index, token in enumerate(self.tokens)
            if token.level == 0 and token.nesting != -1 and token.map and token.type != "inline"
        ]
        self.top_lines = [self._start(index) for index in self.top]

    # helpers on tokens

    def _start(self, index: int) -> int:
        token_map = self.tokens[index].map
        assert token_map is not None
        return token_map[0]

    def _end(self, index: int) -> int:
        token_map = self.tokens[index].map
        assert token_map is not None
        return token_map[1]

    def _blocks(self, start: int, end: int) -> list[int]:
        """Token indices of the top-level blocks that start in lines [start, end)."""
        return self.top[bisect_left(self.top_lines, start) : bisect_left(self.top_lines, end)]

    def _slice(self, start: int, end: int) -> list[Token]:
        """The tokens of lines [start, end)."""
        low, high = bisect_left(self.top_lines, start), bisect_left(self.top_lines, end)
        if low == len(self.top):
            return []
        return self.tokens[self.top[low] : self.top[high] if high < len(self.top) else None]

    def _text(self, index: int) -> str:
        """The raw inline text of a heading or paragraph token (the `inline` that follows it)."""
        return self.tokens[index + 1].content.strip()

    def _render(self, start: int, end: int) -> str:
        return render(self.lines, self._slice(start, end), start, end) if start < end else ""

    def _render_blocks(self, blocks: Sequence[int]) -> str:
        pieces = (self._render(self._start(b), self._end(b)) for b in blocks)
        return "\n\n".join(piece for piece in pieces if piece)

    def _headings(self, tag: str, start: int, end: int) -> list[int]:
        return [
            b
            for b in self._blocks(start, end)
            if self.tokens[b].type == "heading_open" and self.tokens[b].tag == tag
        ]

    # the article

    def parse(self) -> Part:
        self._front_matter()
        self._check_fences()
        sections = self._sections()
        parsed = [
            Section(
                name,
                "\n".join(self.lines[start:end]).strip("\n"),
                self._chunks(name, start, end),
                line,
            )
            for name, line, start, end in sections
        ]
        ranges = {name: (line, start, end) for name, line, start, end in sections}
        questions = tuple(self._each("Debug This", ranges, self._question, "questions"))
        exercises = tuple(self._each("Exercises", ranges, self._exercise, "exercises"))
        cards = list(self._each("Interview Questions", ranges, self._interview, "questions"))
        if "Quick Reference" in ranges:
            cards.append(self._quick_reference(*ranges["Quick Reference"]))
        review = self._review(*ranges["Review Schedule"]) if "Review Schedule" in ranges else ()
        return Part(self.info, self.path, tuple(parsed), questions, exercises, tuple(cards), review)

    def _chunks(self, name: str, start: int, end: int) -> tuple[Chunk, ...]:
        texts = chunk_tokens(self.lines, self._slice(start, end), start, end, target=self.target)
        number = self.info.number
        return tuple(Chunk(text, number, name, i, len(texts)) for i, text in enumerate(texts, 1))

    def _front_matter(self) -> None:
        token = self.tokens[0] if self.tokens else None
        if token is None or token.type != "front_matter":
            opened = bool(self.lines) and self.lines[0].strip() == "---"
            self.report.error(
                1,
                "front matter is not closed with ---"
                if opened
                else "no front matter: start the file with ---, part, slug and title, then ---",
            )
            return
        try:
            data = yaml.safe_load(token.content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.report.error(
                2 + (mark.line if mark else 0), f"front matter is not valid YAML: {exc}"
            )
            return
        if not isinstance(data, dict):
            self.report.error(1, "front matter must be a mapping of part, slug and title")
            return
        end = self._end(0)
        key_lines = {
            line.split(":", 1)[0].strip(): number
            for number, line in enumerate(self.lines[1:end], 2)
            if ":" in line
        }
        for key in FRONT_MATTER_KEYS:
            expected = getattr(self.info, "number" if key == "part" else key)
            if key not in data:
                self.report.error(1, f"front matter has no '{key}' (course.toml: {expected!r})")
            elif data[key] != expected:
                self.report.error(
                    key_lines.get(key, 1),
                    f"front matter {key} is {data[key]!r}, but course.toml says {expected!r}",
                )
        for key in sorted(map(str, data.keys() - set(FRONT_MATTER_KEYS))):
            self.report.warn(key_lines.get(key, 1), f"unknown front matter key '{key}'")

    def _check_fences(self) -> None:
        for token in self.tokens:
            if token.type != "fence" or token.map is None:
                continue
            line = token.map[0] + 1
            if token.level == 0 and not fence_is_closed(self.lines, token):
                self.report.error(
                    line, "code block is never closed: it swallows the rest of the file"
                )
            if token.markup != "```":
                self.report.warn(line, f"Discord renders only ``` code blocks, not {token.markup}")

    def _sections(self) -> list[tuple[str, int, int, int]]:
        """(name, heading line, body start, body end) of the known sections, first occurrences."""
        headings = self._headings("h2", 0, len(self.lines))
        starts = [self._start(b) for b in headings] + [len(self.lines)]
        self._check_preamble(starts[0])
        found: dict[str, tuple[str, int, int, int]] = {}
        order = {name: index for index, name in enumerate(SECTION_NAMES)}
        latest = -1
        for k, b in enumerate(headings):
            name, line = self._text(b), starts[k] + 1
            if name not in order:
                self.report.error(line, f"unknown section '## {name}'{_did_you_mean(name)}")
            elif name in found:
                self.report.error(
                    line, f"section '## {name}' appears twice (first at line {found[name][1]})"
                )
            else:
                if order[name] < latest:
                    self.report.error(
                        line,
                        f"section '## {name}' is out of order: it comes before "
                        f"'## {SECTION_NAMES[latest]}' in the template",
                    )
                latest = max(latest, order[name])
                found[name] = (name, line, self._end(b), starts[k + 1])
        for index, name in enumerate(SECTION_NAMES):
            if name not in found:
                later = [found[n][1] for n in SECTION_NAMES[index + 1 :] if n in found]
                line = min(later) if later else len(self.lines)
                self.report.error(
                    line,
                    f"missing section '## {name}' (expected before this line)"
                    if later
                    else f"missing section '## {name}' (expected at the end)",
                )
        return sorted(found.values(), key=lambda section: section[1])

    def _check_preamble(self, first_section: int) -> None:
        for b in self._blocks(0, first_section):
            token = self.tokens[b]
            if token.type in ("front_matter", "html_block") or token.tag == "h1":
                continue
            self.report.warn(self._start(b) + 1, "text before the first section is not shown")
            return

    # structured sections

    def _items(self, start: int, end: int) -> list[_Item]:
        headings = self._headings("h3", start, end)
        bounds = [self._start(b) for b in headings] + [end]
        return [
            _Item(
                _NUMBER.sub("", self._text(b), count=1),
                bounds[k] + 1,
                bounds[k],
                bounds[k + 1],
                self._blocks(self._end(b), bounds[k + 1]),
            )
            for k, b in enumerate(headings)
        ]

    def _each(
        self,
        name: str,
        ranges: Mapping[str, tuple[int, int, int]],
        parse: Callable[[_Item], T],
        noun: str,
    ) -> Iterator[T]:
        if name not in ranges:
            return
        line, start, end = ranges[name]
        items = self._items(start, end)
        if name == "Exercises" and len(items) != 5:
            self.report.warn(
                line, f"the template asks for five exercises, this part has {len(items)}"
            )
        elif not items:
            self.report.warn(line, f"'## {name}' has no {noun} (### headings)")
        for item in items:
            yield parse(item)

    def _take_id(self, item: _Item) -> str:
        """The item's id from the comment right after its heading; removes it from the blocks."""
        for position, b in enumerate(item.blocks):
            token = self.tokens[b]
            found = _ID.fullmatch(token.content) if token.type == "html_block" else None
            if found is None:
                continue
            del item.blocks[position]
            line = self._start(b) + 1
            if position:
                self.report.error(line, "the id comment must come right after the heading")
            return self._check_id(found.group(1), line)
        self.report.error(
            item.line, "missing id: put <!-- id: pNN-... --> on the line after the heading"
        )
        return ""

    def _check_id(self, ident: str, line: int) -> str:
        number = self.info.number
        if not re.fullmatch(rf"p{number:02d}-[a-z0-9-]+", ident):
            self.report.error(
                line, f"id '{ident}' must be p{number:02d}- then lowercase letters, digits, dashes"
            )
        elif len(ident) > MAX_ID_LENGTH:
            self.report.error(
                line,
                f"id '{ident}' is {len(ident)} characters; at most {MAX_ID_LENGTH} "
                "(ids travel inside Discord button ids, which are capped at 100)",
            )
        return ident

    def _split_details(self, item: _Item) -> tuple[list[int], list[int] | None, int]:
        """The blocks before a <details> block, the blocks inside it (None without one), and the
        line of its opening tag. Blocks after </details> are reported: they would be lost."""
        for position, b in enumerate(item.blocks):
            token = self.tokens[b]
            if token.type != "html_block" or not _DETAILS_OPEN.search(token.content):
                continue
            line = self._start(b) + 1
            self._check_wrapper(b)
            inside: list[int] = []
            for after, c in enumerate(item.blocks[position + 1 :], position + 1):
                closing = self.tokens[c]
                if closing.type == "html_block" and _DETAILS_CLOSE.search(closing.content):
                    if after + 1 < len(item.blocks):
                        stray = self._start(item.blocks[after + 1]) + 1
                        self.report.warn(stray, "text after </details> is not shown")
                    return item.blocks[:position], inside, line
                inside.append(c)
            if not _DETAILS_CLOSE.search(token.content):
                self.report.error(line, "<details> is never closed with </details>")
            return item.blocks[:position], inside, line
        return item.blocks, None, item.line

    def _check_wrapper(self, b: int) -> None:
        """The <details>/<summary> lines must hold nothing else, or the answer stays raw HTML."""
        for number, text in enumerate(self.tokens[b].content.split("\n"), self._start(b) + 1):
            if _HTML_WRAPPER.sub("", text).strip():
                self.report.error(
                    number,
                    "put a blank line after <summary>…</summary>: the answer must be Markdown",
                )
                return

    def _question(self, item: _Item) -> Question:
        ident = self._take_id(item)
        outside, inside, details_line = self._split_details(item)
        snippet = language = ""
        choices: tuple[Choice, ...] | None = None
        prompt: list[int] = []
        for b in outside:
            token = self.tokens[b]
            if token.type == "fence" and not snippet:
                snippet, language = token.content, (token.info.split() or [""])[0]
            elif token.type.endswith("_list_open") and self._is_choice_list(b):
                if choices is not None:
                    self.report.error(self._start(b) + 1, "a second list of choices")
                else:
                    choices = self._choices(b)
            else:
                prompt.append(b)
        if not snippet:
            self.report.warn(item.line, "question has no code snippet")
        if not prompt:
            self.report.error(item.line, "question has no text: say what the learner must find")
        correct, reveal, explanation = self._answer(item, inside, details_line, choices)
        return Question(
            ident,
            self.info.number,
            item.title,
            snippet,
            language,
            self._render_blocks(prompt),
            choices or (),
            correct,
            reveal,
            explanation,
            item.line,
        )

    def _list_items(self, b: int) -> list[int]:
        level = self.tokens[b].level + 1
        items = []
        for index in range(b + 1, len(self.tokens)):
            token = self.tokens[index]
            if token.level < level:
                break
            if token.type == "list_item_open" and token.level == level:
                items.append(index)
        return items

    def _children(self, index: int) -> int:
        """How many blocks the container opened at token `index` holds directly."""
        level = self.tokens[index].level + 1
        count = 0
        for position in range(index + 1, len(self.tokens)):
            token = self.tokens[position]
            if token.level < level:
                break
            count += token.level == level and token.nesting != -1
        return count

    def _is_choice_list(self, b: int) -> bool:
        first = self._list_items(b)[0]
        return self.tokens[first + 1].type == "paragraph_open" and bool(
            _CHOICE.match(self._text(first + 1))
        )

    def _choices(self, b: int) -> tuple[Choice, ...]:
        items = self._list_items(b)
        choices: list[Choice] = []
        for position, index in enumerate(items):
            line = self._start(index) + 1
            expected = chr(ord("A") + position)
            found = (
                _CHOICE.match(self._text(index + 1))
                if self.tokens[index + 1].type == "paragraph_open"
                else None
            )
            if found is None:
                self.report.error(line, f"choice must start with **{expected}.**")
                continue
            letter = found.group(1)
            if letter != expected:
                self.report.error(
                    line,
                    f"choices are lettered A, B, C… in order: expected **{expected}.**, "
                    f"found **{letter}.**",
                )
            if self._children(index) > 1:
                self.report.error(line, "a choice must be a single paragraph")
            choices.append(Choice(letter, " ".join(found.group(2).split())))
        if not 2 <= len(items) <= 5:
            self.report.error(
                self._start(b) + 1, f"a question has 2 to 5 choices, this one has {len(items)}"
            )
        return tuple(choices)

    def _answer(
        self, item: _Item, inside: list[int] | None, line: int, choices: tuple[Choice, ...] | None
    ) -> tuple[str | None, str | None, str]:
        """(correct letter, reveal answer, explanation) from the <details> block."""
        if inside is None:
            self.report.error(
                line, "question has no answer: add <details> with **Answer:** and an explanation"
            )
            return None, None, ""
        first = inside[0] if inside else None
        found = (
            _ANSWER.match(self._text(first))
            if first is not None and self.tokens[first].type == "paragraph_open"
            else None
        )
        if first is None or found is None:
            at = self._start(first) + 1 if first is not None else line
            self.report.error(at, "the answer must start with a paragraph beginning **Answer:**")
            return None, None, ""
        answer_line = self._start(first) + 1
        answer = found.group(1).strip()
        explanation = self._render_blocks(inside[1:])
        if not explanation:
            self.report.error(answer_line, "no explanation after the answer")
        if choices is None:
            if not answer:
                self.report.error(answer_line, "the answer is empty")
            elif _ONE_LETTER.fullmatch(answer.strip("*_ ")):
                self.report.error(
                    answer_line,
                    f"the answer names choice {answer.strip('*_ ')[0]}, but the "
                    "question has no choices (list items starting **A.**)",
                )
            return None, answer, explanation
        return self._correct_letter(answer, answer_line, choices), None, explanation

    def _correct_letter(self, answer: str, line: int, choices: Sequence[Choice]) -> str | None:
        cleaned = answer.replace("*", "").replace("_", "").strip()
        letters = [choice.letter for choice in choices]
        single = _ONE_LETTER.fullmatch(cleaned)
        if not cleaned:
            self.report.error(
                line, "no correct answer: name the right choice's letter after **Answer:**"
            )
        elif single and single.group(1) in letters:
            return single.group(1)
        elif single:
            self.report.error(
                line,
                f"the answer names choice {single.group(1)}, which does not exist "
                f"(choices {', '.join(letters)})",
            )
        elif _LETTERS.fullmatch(cleaned):
            self.report.error(
                line, f"several correct answers ({cleaned}): a question has exactly one"
            )
        else:
            self.report.error(line, f"the answer must be one choice letter, not {cleaned!r}")
        return None

    def _exercise(self, item: _Item) -> Exercise:
        found = _STARS.fullmatch(item.title)
        stars = found.group(1).count("\u2b50") if found else 0
        title = found.group(2) if found else item.title
        if not found:
            self.report.error(
                item.line, "exercise heading must start with its difficulty: ⭐, ⭐⭐ or ⭐⭐⭐"
            )
        elif stars > 3:
            self.report.error(item.line, f"{stars} stars: exercises are rated ⭐ to ⭐⭐⭐")
        title = _NUMBER.sub("", title, count=1)
        ident = self._take_id(item)
        lab_block, end = self._take_lab(item)
        expected_at = next(
            (
                position
                for position, b in enumerate(item.blocks)
                if self.tokens[b].type == "paragraph_open" and _EXPECTED.match(self._text(b))
            ),
            None,
        )
        task_blocks = item.blocks if expected_at is None else item.blocks[:expected_at]
        expected = ""
        if expected_at is None:
            self.report.error(item.line, "exercise has no paragraph starting **Expected result:**")
        else:
            start = self._start(item.blocks[expected_at])
            expected = _EXPECTED.sub("", self._render(start, end), count=1).strip()
            if not expected:
                self.report.error(start + 1, "the expected result is empty")
        task = self._render_blocks(task_blocks)
        if not task:
            self.report.error(item.line, "exercise has no task")
        files = self._files(item)
        lab = self._lab(lab_block, files) if lab_block is not None else None
        return Exercise(
            ident, self.info.number, stars, title, task, expected, files, item.line, lab
        )

    def _take_lab(self, item: _Item) -> tuple[int | None, int]:
        """The exercise's ```toml lab block (removed from its blocks) and where its text ends."""
        labs = [
            b
            for b in item.blocks
            if self.tokens[b].type == "fence" and is_lab_fence(self.tokens[b].info)
        ]
        if not labs:
            return None, item.end
        for extra in labs[1:]:
            self.report.error(self._start(extra) + 1, "an exercise has at most one lab block")
        block = labs[0]
        last = block == item.blocks[-1]
        if not last:
            self.report.error(
                self._start(block) + 1,
                "the lab block must be the exercise's last block, after the expected result",
            )
        item.blocks[:] = [b for b in item.blocks if b not in labs]
        return block, self._start(block) if last else item.end

    def _lab(self, block: int, files: dict[str, str]) -> Lab | None:
        found: list[tuple[int, str]] = []
        lab = parse_lab(self.tokens[block].content, self._start(block) + 1, files, found)
        for line, message in found:
            self.report.error(line, message)
        return lab

    def _files(self, item: _Item) -> dict[str, str]:
        files: dict[str, str] = {}
        for token in self._slice(item.start, item.end):
            if token.type != "fence" or token.map is None:
                continue
            for word in token.info.split():
                if word.startswith("file="):
                    name = word.removeprefix("file=").strip("\"'")
                    if name in files:
                        self.report.error(token.map[0] + 1, f"fixture file '{name}' is given twice")
                    files[name] = token.content
        return files

    def _interview(self, item: _Item) -> Card:
        ident = self._take_id(item)
        _, inside, line = self._split_details(item)
        back = self._render_blocks(inside or [])
        if not back:
            self.report.error(line, "interview question has no model answer (a <details> block)")
        return Card(ident, self.info.number, "interview", item.title, back, item.line)

    def _quick_reference(self, line: int, start: int, end: int) -> Card:
        blocks = self._blocks(start, end)
        first = self.tokens[blocks[0]] if blocks else None
        found = _ID.fullmatch(first.content) if first and first.type == "html_block" else None
        ident = ""
        if found is None:
            self.report.error(
                line, "Quick Reference has no id: put <!-- id: pNN-quickref --> after the heading"
            )
        else:
            ident = self._check_id(found.group(1), self._start(blocks[0]) + 1)
        front = f"Quick Reference · Part {self.info.number}: {self.info.title}"
        return Card(ident, self.info.number, "quickref", front, self._render(start, end), line)

    def _review(self, line: int, start: int, end: int) -> tuple[ReviewStep, ...]:
        lists = [b for b in self._blocks(start, end) if self.tokens[b].type.endswith("_list_open")]
        if not lists:
            self.report.error(line, "Review Schedule has no list of **Day N:** items")
            return ()
        steps: list[ReviewStep] = []
        for index in self._list_items(lists[0]):
            at = self._start(index) + 1
            paragraph = index + 1 if self.tokens[index + 1].type == "paragraph_open" else None
            found = _DAY.match(self._text(paragraph)) if paragraph else None
            if found is None:
                self.report.error(at, "a review item must start with **Day N:**")
                continue
            day = int(found.group(1))
            if day < 1:
                self.report.error(at, f"Day {day}: days count from 1, the day after the part")
            elif steps and day <= steps[-1].day:
                self.report.error(
                    at, f"Day {day} is not after Day {steps[-1].day}: days must increase"
                )
            steps.append(ReviewStep(day, " ".join(found.group(2).split())))
        return tuple(steps)


def _did_you_mean(name: str) -> str:
    key = name.casefold().replace("\u2019", "'")
    match = next((known for known in SECTION_NAMES if known.casefold() == key), None)
    return f" (did you mean '## {match}'?)" if match else ""


def parse_article(
    path: Path, text: str, info: PartInfo, problems: list[Problem], target: int = DEFAULT_TARGET
) -> Part:
    """One article (already read as text) into a Part."""
    return _Article(path, text, info, Problems(problems, path), target).parse()


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
