"""The console at a real terminal (a pseudo-terminal): history, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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


def test_history_ctrl_c_and_ctrl_d_at_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    env |= {"DATA_DIR": str(tmp_path), "TERM": "xterm"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console on the pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-m", "bot", "console"], env)
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
