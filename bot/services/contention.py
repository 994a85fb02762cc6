"""Many members pressing the same button in the same second, on SQLite and on PostgreSQL.

storage.db begins transactions with a plain (deferred) BEGIN. Under SQLite's WAL, a transaction
that read first and then writes fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT)
when another connection committed in between: busy_timeout cannot help, because what it read
is out of date. On PostgreSQL (READ COMMITTED) the same transactions all succeed, but each
counts the answers it can see, so "has everyone answered?" can be no for all of them.

`lock_first` answers both: a hot transaction starts by writing to the row everybody touches
(an UPDATE that changes nothing). SQLite then takes its write lock before reading (waiting
with busy_timeout, like any writer), PostgreSQL locks that row; either way those transactions
run one after the other and each sees the ones before. `retry_locked` is the safety net for
the rest: a transaction that failed this way changed nothing, so it runs again from the start.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

ATTEMPTS = 10
MAX_PAUSE = 0.2  # seconds
P = ParamSpec("P")
T = TypeVar("T")


async def lock_first(session: AsyncSession, model: Any, row_id: int) -> None:
    """Make this transaction a writer before it reads anything (see the module notes)."""
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )


def is_locked(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def retry_locked(work: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run `work` again when SQLite said "database is locked". Wrap only something that is
    one transaction, or safe to run again as a whole."""

    @functools.wraps(work)
    async def again(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await work(*args, **kwargs)
            except OperationalError as exc:
                if attempt == ATTEMPTS or not is_locked(exc):
                    raise
                pause = min(MAX_PAUSE, 0.005 * 2**attempt)
                await asyncio.sleep(random.uniform(0, pause))
        raise AssertionError("unreachable")

    return again
