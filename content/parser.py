"""One article into a Part, noting every problem with its file and line.

Each article is read once and parsed once (markdown-it-py, block level: CommonMark, tables, front
matter); sections, questions, chunks and rendered fields all come from that one token stream.
The rules of the format are those of content/README.md; course.toml is read by
`content.course_file`, a whole directory by `content.loader`. Problems that need the whole course
(ids used twice, tracks, unwritten parts, encodings) are left to `content.validator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from content.chunker import (
    DEFAULT_TARGET,
    chunk_tokens,
    fence_is_closed,
)
from content.lab_block import is_lab_fence, parse_lab
from content.model import (
    SECTION_NAMES,
    Card,
    Choice,
    Chunk,
    Exercise,
    Lab,
    Part,
    PartInfo,
    Problem,
    Question,
    ReviewStep,
    Section,
)
from content.problems import Problems
from content.tokens import ArticleTokens

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
FRONT_MATTER_KEYS = ("part", "slug", "title")
T = TypeVar("T")


@dataclass
class _Item:
    """A `###` entry of a structured section: its heading and top-level blocks."""

    title: str
    line: int  # 1-based
    start: int  # 0-based line range
    end: int
    blocks: list[int] = field(default_factory=list)  # token indices


class _Article(ArticleTokens):
    """One article being parsed: its lines, tokens and problems."""

    def __init__(self, path: Path, text: str, info: PartInfo, report: Problems, target: int):
        super().__init__(text)
        self.path, self.info, self.report, self.target = path, info, report, target

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
