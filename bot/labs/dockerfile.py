"""A Dockerfile as Docker reads it: instructions with their lines, flags, values and stages.

The reading is BuildKit's own Go parser (the `dockerfile` package wraps it), so tabs, line
continuations, `# escape=` directives, BOMs and flags mean here exactly what they mean to
Docker: the sandbox and the review decide on what the daemon will see, not on a guess.
This module only shapes the parser's answer for the course's rules and the sandbox's checks.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

import dockerfile as official

# Control characters other than tab, line feed, carriage return, vertical tab and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Instructions whose non-JSON argument the parser keeps as one shell string.
_SHELL_FORM = {"RUN", "CMD", "ENTRYPOINT"}


class DockerfileError(ValueError):
    """The text is not a Dockerfile Docker could read; the message says why, with a line."""


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    values: tuple[str, ...]  # the arguments as the parser split them (quotes kept in LABEL/ENV)
    line: int  # 1-based first line
    end_line: int
    flags: dict[str, str] = field(default_factory=dict)  # --from=build -> {"from": "build"}
    stage: int = 0  # index of the FROM this instruction belongs to (-1 before the first)
    json: bool = False  # written in exec (JSON) form
    sub: str = ""  # ONBUILD's instruction (upper case), else ""
    heredoc: bool = False  # carries a heredoc (BuildKit only)

    @property
    def args(self) -> str:
        """The arguments as one text: JSON for the exec form, else joined by spaces."""
        return json.dumps(list(self.values)) if self.json else " ".join(self.values)

    @property
    def json_args(self) -> list[str] | None:
        """The exec-form arguments (`["a", "b"]`), or None for the shell form."""
        return list(self.values) if self.json else None

    def words(self) -> list[str]:
        """The arguments as words: a shell-form command is split like a shell would."""
        if self.json or self.keyword not in _SHELL_FORM or len(self.values) != 1:
            return list(self.values)
        try:
            return shlex.split(self.values[0], comments=False)
        except ValueError:
            return self.values[0].split()


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


def normalise(text: str) -> str:
    """Line ends as `\n` only. The parser breaks lines at `\n` alone while the daemon also
    breaks at a lone `\r`: checking and building must see the same lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_text(text: str) -> None:
    """Refuse what the parser must never see: it crashes the process on invalid Unicode and
    stops reading at a NUL, where the daemon reads on."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise DockerfileError(
            f"line {line}: a character that is not valid Unicode (a lone surrogate)"
        ) from None
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise DockerfileError(f"line {line}: a control character (U+{ord(found[0]):04X})")


def _flags(raw: tuple[str, ...]) -> dict[str, str]:
    flags = {}
    for flag in raw:
        name, _, value = flag.removeprefix("--").partition("=")
        flags[name.lower()] = value
    return flags


def parse(text: str) -> Dockerfile:
    """Read `text` with Docker's parser; raises DockerfileError when Docker could not."""
    text = normalise(text)
    check_text(text)
    try:
        commands = official.parse_string(text)
    except official.GoParseError as exc:
        if "no instructions" in str(exc):
            return Dockerfile((), ())
        raise DockerfileError(str(exc)) from None
    instructions: list[Instruction] = []
    stages: list[Stage] = []
    for command in commands:
        keyword = command.cmd.upper()
        values = tuple(command.value)
        if keyword == "FROM":
            named = len(values) == 3 and values[1].lower() == "as"
            name = values[2].lower() if named else None
            stages.append(Stage(len(stages), values[0] if values else "", name, command.start_line))
        instructions.append(
            Instruction(
                keyword,
                values,
                command.start_line,
                command.end_line,
                _flags(command.flags),
                len(stages) - 1,
                command.json,
                (command.sub_cmd or "").upper(),
                bool(command.heredocs),
            )
        )
    return Dockerfile(tuple(instructions), tuple(stages))
