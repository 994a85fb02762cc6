"""One dispatching process per SQLite database.

Several workers can share the outbox only on PostgreSQL (rows are claimed with SKIP LOCKED).
On SQLite a second bot process must not dispatch: its claims would contend for the one write
lock with the first process's. The process that dispatches holds an exclusive `flock` on a file
beside the database, with its pid inside so the refusal can name it; the kernel drops the lock
when the process ends, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class DispatchLocked(Exception):
    """Another process dispatches the outbox of this SQLite database."""

    def __init__(self, database: Path, pid: str) -> None:
        who = f"process {pid}" if pid else "process"
        super().__init__(
            f"Another tutorbot {who} already sends the reminders of the SQLite database "
            f"{database}, so this one will not: SQLite supports one bot process. Stop the other "
            'one, or move to PostgreSQL to run several workers (docs/operations.md, "Several '
            'workers").'
        )
        self.pid = pid


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".dispatch.lock")


@contextlib.contextmanager
def hold_dispatch_lock(database: Path) -> Iterator[None]:
    """Hold the database's dispatch lock for the `with` block, or raise DispatchLocked."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise DispatchLocked(database, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
