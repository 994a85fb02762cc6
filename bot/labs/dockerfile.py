"""A small Dockerfile reader: instructions with their lines, flags and stages.

Enough for the course's review rules and the sandbox's checks before a build; hadolint does the
full linting. It follows the classic builder's syntax: `\\` continues a line (or the character
an `# escape=` directive names), comment lines inside a continuation are dropped, and
instruction names are case-insensitive.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_FLAG = re.compile(r"--([a-zA-Z-]+)(?:=(\S*))?")
_STAGE_AS = re.compile(r"\s+as\s+(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str  # everything after the keyword and its flags, continuations joined
    line: int  # 1-based first line
    end_line: int
    flags: dict[str, str] = field(default_factory=dict)  # --from=build -> {"from": "build"}
    stage: int = 0  # index of the FROM this instruction belongs to (-1 before the first)

    @property
    def json_args(self) -> list[str] | None:
        """The exec-form arguments (`["a", "b"]`), or None for the shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None

    def words(self) -> list[str]:
        """The arguments split like a shell would (quotes respected), never raising."""
        exec_form = self.json_args
        if exec_form is not None:
            return exec_form
        try:
            return shlex.split(self.args, comments=False)
        except ValueError:
            return self.args.split()


@dataclass(frozen=True)
class Stage:
    index: int
    image: str  # what FROM names
    name: str | None  # the AS name, lower case
    line: int


@dataclass(frozen=True)
class Dockerfile:
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]

    def of(self, *keywords: str) -> Iterator[Instruction]:
        return (i for i in self.instructions if i.keyword in keywords)

    def in_stage(self, index: int) -> list[Instruction]:
        return [i for i in self.instructions if i.stage == index]

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def _escape_char(lines: list[str]) -> str:
    """The escape character from the parser directives at the top of the file."""
    for line in lines:
        found = _DIRECTIVE.match(line.strip())
        if not found:
            break
        if found.group(1).lower() == "escape" and found.group(2) in ("\\", "`"):
            return found.group(2)
    return "\\"


def _logical_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(first line, last line, text) of each instruction, continuations joined."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escape = _escape_char(lines)
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if parts and stripped.startswith("#"):
            continue  # a comment inside a continuation is dropped
        if not parts:
            start = number
        body = raw.rstrip()
        if body.endswith(escape):
            parts.append(body[: -len(escape)])
            continue
        parts.append(body)
        yield start, number, " ".join(p.strip() for p in parts if p.strip())
        parts = []
    if parts:
        yield start, len(lines), " ".join(p.strip() for p in parts if p.strip())


def _split_flags(rest: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    while True:
        rest = rest.lstrip()
        found = _FLAG.match(rest)
        if not found or (found.end() < len(rest) and not rest[found.end()].isspace()):
            return flags, rest
        flags[found.group(1).lower()] = found.group(2) or ""
        rest = rest[found.end() :]


_FLAGGED = {"FROM", "COPY", "ADD", "RUN", "HEALTHCHECK"}


def parse(text: str) -> Dockerfile:
    instructions: list[Instruction] = []
    stages: list[Stage] = []
    for first, last, logical in _logical_lines(text):
        keyword, _, rest = logical.partition(" ")
        keyword = keyword.upper()
        flags: dict[str, str] = {}
        if keyword in _FLAGGED:
            flags, rest = _split_flags(rest)
        rest = rest.strip()
        if keyword == "FROM":
            found = _STAGE_AS.search(rest)
            image = rest[: found.start()].strip() if found else rest
            name = found.group(1).lower() if found else None
            stages.append(Stage(len(stages), image, name, first))
        instructions.append(Instruction(keyword, rest, first, last, flags, len(stages) - 1))
    return Dockerfile(tuple(instructions), tuple(stages))
