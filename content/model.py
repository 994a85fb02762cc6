"""The course as typed, immutable data: what the parser builds and the bot reads.

Nothing here knows about files or Discord; `content.parser` fills it, `content.validator`
checks it, `bot.services` uses it. Line numbers are 1-based and point into the article file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from content.chunker import fence_block

Severity = Literal["error", "warning"]
CardKind = Literal["interview", "quickref"]

SECTION_NAMES: tuple[str, ...] = (
    "At a Glance",
    "What You'll Learn",
    "Production Story",
    "Mental Model",
    "Deep Dive",
    "Common Mistakes",
    "Debug This",
    "Exercises",
    "Interview Questions",
    "Quick Reference",
    "Review Schedule",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the course, where an author can find it."""

    path: Path
    line: int
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class PartInfo:
    """A part as course.toml lists it, whether or not its article is written."""

    number: int
    slug: str
    title: str
    block: str
    minutes: int

    @property
    def filename(self) -> str:
        return f"{self.number:02d}-{self.slug}.md"


@dataclass(frozen=True)
class Chunk:
    """One Discord-sized piece of a section, knowing its place in it."""

    text: str
    part: int
    section: str
    index: int  # 1-based
    total: int

    @property
    def label(self) -> str:
        return f"Part {self.part} · {self.section} · {self.index}/{self.total}"


@dataclass(frozen=True)
class Section:
    name: str
    markdown: str  # the section body as written
    chunks: tuple[Chunk, ...]  # the same, rendered for Discord and split
    line: int


@dataclass(frozen=True)
class Choice:
    letter: str
    text: str


@dataclass(frozen=True)
class Question:
    """A Debug This question: multiple choice when it has choices, else self-graded (reveal)."""

    id: str
    part: int
    title: str
    snippet: str  # the broken code, without fences; "" when the question has none
    language: str
    prompt: str
    choices: tuple[Choice, ...]
    correct: str | None  # the right letter of a multiple-choice question
    reveal: str | None  # the answer of a self-graded question
    explanation: str
    line: int

    @property
    def body(self) -> str:
        """The question as one message: snippet, prompt and lettered choices."""
        pieces = [fence_block(self.snippet, self.language)] if self.snippet else []
        pieces.append(self.prompt)
        if self.choices:
            pieces.append("\n".join(f"**{c.letter}.** {c.text}" for c in self.choices))
        return "\n\n".join(piece for piece in pieces if piece)

    @property
    def solution(self) -> str:
        """What the learner sees after answering: the answer, then the explanation."""
        if self.correct is not None:
            answer = next((c.text for c in self.choices if c.letter == self.correct), "")
            head = f"**Answer: {self.correct}.** {answer}"
        else:
            head = f"**Answer:** {self.reveal or ''}"
        return f"{head}\n\n{self.explanation}"


@dataclass(frozen=True)
class LabExpect:
    """What must hold for a lab to pass; the image must build in any case."""

    exit_code: int | None = None  # runs to the end and exits with this code
    running_for: float | None = None  # or: still running (and healthy, if it can tell) after N s
    exit_on_stop: int | None = None  # with running_for: `docker stop` ends it with this code
    stdout_contains: tuple[str, ...] = ()
    output_excludes: tuple[str, ...] = ()  # texts neither output stream may show
    oom_killed: bool | None = None  # the kernel's OOM killer ended it (True) or not (False)
    non_root: bool = False  # the image's user is not root
    healthcheck: bool = False  # the image declares a HEALTHCHECK
    max_size_mb: float | None = None
    max_layers: int | None = None
    max_added_mb: float | None = None  # size over the final stage's base image (portable)
    max_added_layers: int | None = None  # layers over that base image
    no_secret: tuple[str, ...] = ()  # in no history entry, config or layer
    absent: tuple[str, ...] = ()  # paths that must not exist in the image

    @property
    def runs(self) -> bool:
        """Whether grading starts a container at all."""
        return (
            self.exit_code is not None
            or self.running_for is not None
            or self.oom_killed is not None
            or bool(self.stdout_contains or self.output_excludes)
        )


@dataclass(frozen=True)
class ComposeRequire:
    """One stated requirement on a submitted compose file: a value at a path."""

    check: str  # the check's name, as the learner sees it
    path: tuple[str, ...]  # keys from the top; "*" stands for every key at that level
    file: str  # which submitted file
    equals: object = None  # the value there equals this
    contains: str | None = None  # or: the list there has this item / the text has this
    present: bool | None = None  # or: the key is there (True) or not (False)


@dataclass(frozen=True)
class ComposeExpect:
    """A Compose lab, graded without a daemon: the submitted files read as Compose reads them."""

    services: tuple[str, ...] = ()  # services the file must define
    clean: tuple[str, ...] = ()  # Compose-review rules that must not fire
    require: tuple[ComposeRequire, ...] = ()


@dataclass(frozen=True)
class Lab:
    """A graded, hands-on version of an exercise: a ```toml lab block (content/README.md)."""

    submit: tuple[str, ...]  # the files the learner writes, "Dockerfile" first by default
    base_images: tuple[str, ...]  # what FROM may name (besides earlier stages)
    expect: LabExpect
    task: str = ""  # what to do in the sandbox, beside the exercise's own task
    context: Mapping[str, str] = field(default_factory=dict)  # extra build-context files
    command: tuple[str, ...] | None = None  # run this instead of the image's CMD
    timeout: float = 10.0  # seconds the container may run
    memory_mb: int | None = None  # lower than the server's limit, when the lab needs it
    line: int = 0
    compose: ComposeExpect | None = None  # a Compose lab: checked statically, nothing built


@dataclass(frozen=True)
class Exercise:
    id: str
    part: int
    stars: int  # 1 to 3
    title: str
    task: str
    expected: str
    files: Mapping[str, str]  # fixture files from ```lang file=NAME blocks
    line: int
    lab: Lab | None = None  # set when the exercise can be graded in the sandbox


@dataclass(frozen=True)
class Card:
    """A review card: an interview question with its model answer, or a Quick Reference."""

    id: str
    part: int
    kind: CardKind
    front: str
    back: str
    line: int


@dataclass(frozen=True)
class ReviewStep:
    day: int  # days after finishing the part
    text: str


@dataclass(frozen=True)
class Part:
    info: PartInfo
    path: Path | None  # None while the article is unwritten
    sections: tuple[Section, ...] = ()
    questions: tuple[Question, ...] = ()
    exercises: tuple[Exercise, ...] = ()
    cards: tuple[Card, ...] = ()
    review: tuple[ReviewStep, ...] = ()

    @property
    def written(self) -> bool:
        return self.path is not None

    @property
    def review_offsets(self) -> tuple[int, ...]:
        return tuple(step.day for step in self.review)


@dataclass(frozen=True)
class Track:
    slug: str
    name: str
    summary: str
    parts: tuple[int, ...]  # exactly as course.toml gives them
    hours: float

    @property
    def sequence(self) -> tuple[int, ...]:
        """The reading order: every track starts with Part 0, then goes in part order."""
        return (0, *sorted(set(self.parts) - {0}))


@dataclass(frozen=True)
class StudyStep:
    days: tuple[int, ...]  # counted from the learner's first day (day 1)
    parts: tuple[int, ...]
    note: str


@dataclass(frozen=True)
class StudyPlan:
    steps: tuple[StudyStep, ...]
    weekly_min: int  # articles a week once the steps are done
    weekly_max: int
    monthly_review: str


@dataclass(frozen=True)
class Course:
    title: str
    slug: str
    description: str
    parts: Mapping[int, Part]  # by number, in order
    tracks: tuple[Track, ...]
    study_plan: StudyPlan

    def track(self, slug: str) -> Track | None:
        return next((t for t in self.tracks if t.slug == slug), None)
