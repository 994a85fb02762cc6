"""What a sandbox job is and what it found: plain data, free of the Docker SDK.

The sandbox fills these in; `bot.labs.checks` grades them; tests build them by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.labs.preflight import CREATED_LABEL, JOB_LABEL
from content.model import Lab

STOP_GRACE = 3  # seconds `docker stop` waits before SIGKILL


@dataclass(frozen=True)
class Job:
    """One submission, ready to build: the context files (Dockerfile already rewritten)."""

    id: str
    files: Mapping[str, str]
    lab: Lab
    memory_mb: int
    created: int  # unix time, in the job's labels
    aliases: Mapping[str, str] = field(default_factory=dict)  # local image -> name written
    final_base: str | None = None  # local image the final stage builds on; None = scratch

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:12]

    @property
    def labels(self) -> dict[str, str]:
        return {JOB_LABEL: self.id, CREATED_LABEL: str(self.created)}


@dataclass
class Capped:
    """Text kept up to a limit; remembers whether anything was dropped."""

    limit: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    truncated: bool = False

    def add(self, text: str) -> None:
        room = self.limit - self.size
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        self.parts.append(text)
        self.size += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class BuildResult:
    ok: bool
    seconds: float
    log: str  # the build's output, capped, without the sandbox's own LABEL steps
    error: str = ""  # why it failed, in one line
    image_id: str | None = None


@dataclass
class RunResult:
    exit_code: int | None
    oom_killed: bool
    timed_out: bool  # killed at the time limit
    stdout: str
    stderr: str
    truncated: bool
    seconds: float
    running_at_check: bool = False  # still running when running_for was up
    health: str | None = None  # starting | healthy | unhealthy, when the image has a check
    stop_exit_code: int | None = None  # after `docker stop`, when the lab asks for it
    stop_seconds: float | None = None
    start_error: str = ""  # the daemon could not start it (no shell for a shell-form CMD...)


@dataclass
class ImageFacts:
    size_bytes: int
    layers: int
    user: str  # as the image declares it ("" = root)
    uid: int | None  # as Docker resolves USER through the image's /etc/passwd; None: it can't
    healthcheck: bool
    gid: int | None = None  # the group Docker resolves with the uid
    base_size_bytes: int = 0  # the final stage's base image (0 for scratch)
    base_layers: int = 0
    present: dict[str, bool] = field(default_factory=dict)  # path -> exists
    secrets_found: dict[str, str] = field(default_factory=dict)  # secret -> where


@dataclass
class Outcome:
    job_id: str
    build: BuildResult
    image: ImageFacts | None = None
    run: RunResult | None = None
    refused: str = ""  # a base image missing on the server, found before building
