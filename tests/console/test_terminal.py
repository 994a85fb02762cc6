"""The console at a real terminal (a pseudo-terminal): history, Ctrl-C, Ctrl-D, and Markdown."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import default_course_dir
from content.store import CourseStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

UP = "\x1b[A"


def read_until(
    fd: int, seen: bytearray, done: Callable[[bytes], bool], timeout: float = 60
) -> None:
    """Read the terminal into `seen` until `done(seen)`; fails with what it showed."""
    deadline = time.monotonic() + timeout
    while not done(bytes(seen)):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; the terminal shows:\n{seen.decode(errors='replace')}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            assert chunk, f"the console ended early:\n{seen.decode(errors='replace')}"
            seen += chunk


def spawn_console(tmp_path: Path) -> tuple[int, int]:
    """The console on a pseudo-terminal: its pid and the terminal's fd."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    env |= {"DATA_DIR": str(tmp_path), "TERM": "xterm"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console on the pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-m", "bot", "console"], env)
    return pid, fd


def test_history_ctrl_c_and_ctrl_d_at_a_terminal(tmp_path: Path) -> None:
    pid, fd = spawn_console(tmp_path)
    seen = bytearray()
    try:
        read_until(fd, seen, lambda out: b"tutor> " in out)
        os.write(fd, b"about\r")
        read_until(fd, seen, lambda out: out.count(b"parts") == 1)
        os.write(fd, (UP + "\r").encode())  # the history brings `about` back
        read_until(fd, seen, lambda out: out.count(b"tutor> ") == 3)
        os.write(fd, b"half a line\x03")  # Ctrl-C drops the line at once, no Enter needed
        read_until(fd, seen, lambda out: out.count(b"tutor> ") == 4)
        os.write(fd, b"\x04")  # Ctrl-D leaves
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"Unknown command" not in seen  # the arrow key was editing, not text


def test_markdown_is_drawn_at_a_terminal(tmp_path: Path) -> None:
    pid, fd = spawn_console(tmp_path)
    seen = bytearray()
    try:
        read_until(fd, seen, lambda out: b"tutor> " in out)
        for command in (b"start complete", b"quiz 2", b"quickref 2", b"read 2", b"jump debug this"):
            os.write(fd, command + b"\r")
            prompts = seen.count(b"tutor> ") + 1
            read_until(fd, seen, lambda out, n=prompts: out.count(b"tutor> ") == n)
        os.write(fd, b"\x04")
        os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert b"\x1b[1m" in seen  # bold is bold
    shown = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode()).replace("\r\n", "\n")
    assert "```" not in shown and "**" not in shown
    lines = [line.strip() for line in shown.splitlines()]
    question = CourseStore(default_course_dir()).course.parts[2].questions[0]
    for choice in question.choices:  # one line each, as in Discord (CommonMark joins them)
        assert any(line.startswith(f"{choice.letter}. ") for line in lines), choice.letter
    assert "Answer it in the Part 2 quiz: quiz 2." in lines  # the console's own wording
