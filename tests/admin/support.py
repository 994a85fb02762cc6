"""For the admin tests: edits an author might make to the test's copy of the course before a
reload, and the lab daemon the status asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.labs.sandbox import Sandbox
from bot.labs.settings import LabSettings
from bot.services import Services

PART_1 = "01-container-internals.md"
QUESTION_ID = "<!-- id: p01-dbg-unshare-fork -->"


def break_part_1(course_dir: Path) -> str:
    """Take a Debug This question's id out of Part 1; `file:line` of the error it makes (the
    validator names the question's heading, the line before the id)."""
    path = course_dir / PART_1
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index(QUESTION_ID)
    assert lines[at - 1].startswith("### ")
    lines[at] = ""
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{path}:{at}"


def shorten_part_1(course_dir: Path) -> None:
    """Cut Part 1's Deep Dive to one sentence: the article loses most of its chunks."""
    path = course_dir / PART_1
    text = path.read_text(encoding="utf-8")
    start, end = text.index("## Deep Dive\n"), text.index("## Common Mistakes\n")
    shorter = text[:start] + "## Deep Dive\n\nShorter now.\n\n" + text[end:]
    path.write_text(shorter, encoding="utf-8")


def use_labs(services: Services, **settings: object) -> LabSettings:
    """Lab settings of the test's own, whatever LAB_* the environment holds (CI sets
    LAB_DOCKER_HOST): no daemon named unless the test names one."""
    settings.setdefault("docker_host", "")
    lab_settings = LabSettings(**settings)  # type: ignore[arg-type]
    services.labs.lab_settings = lab_settings
    services.labs.sandbox = Sandbox(lab_settings)
    return lab_settings


def daemon_answers(services: Services, monkeypatch: pytest.MonkeyPatch, *, fetches: bool) -> None:
    """Stand in for a lab daemon that answers, is set up at once and, asked in the isolation
    check, fetches a URL on this host's network or not."""
    sandbox = services.labs.sandbox
    monkeypatch.setattr(sandbox, "available", lambda: True)
    monkeypatch.setattr(sandbox, "prepare", lambda: None)
    monkeypatch.setattr(sandbox, "sweep", lambda older_than: 0)
    monkeypatch.setattr(sandbox, "fetches_for_learners", lambda: fetches)


def no_daemon(services: Services, tmp_path: Path) -> str:
    """Point the labs at a socket nothing listens on: a daemon that is not there."""
    host = f"unix://{tmp_path}/no-docker.sock"
    use_labs(services, docker_host=host)
    return host
