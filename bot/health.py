"""What `tutorbot health` checks: the heartbeat file the running bot refreshes, and the database.

A container's HEALTHCHECK runs `tutorbot health` in a new process next to the bot: healthy
means the bot's heartbeat is fresh and says it is connected to Discord, and the database it
uses answers within a few seconds and holds the schema this version of the bot needs.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE_TIMEOUT = 5.0  # seconds; a container health check gives the whole command 10


@dataclass(frozen=True)
class Heartbeat:
    pid: int
    at: float  # time.time() of the beat
    ready: bool
    latency: float | None


def write_heartbeat(path: Path, *, ready: bool, latency: float | None) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    beat = Heartbeat(pid=os.getpid(), at=time.time(), ready=ready, latency=latency)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(beat.__dict__), encoding="utf-8")
    tmp.replace(path)


def clear_heartbeat(path: Path) -> None:
    path.unlink(missing_ok=True)


def check_heartbeat(path: Path, max_age: float, now: float | None = None) -> str | None:
    """None when healthy, else the reason it is not."""
    try:
        beat = Heartbeat(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return f"no heartbeat at {path}: the bot is not running (or not with this DATA_DIR)"
    except (ValueError, TypeError) as exc:
        return f"unreadable heartbeat at {path}: {exc}"
    age = (time.time() if now is None else now) - beat.at
    if age > max_age:
        return f"heartbeat is {age:.0f} s old (limit {max_age:.0f} s): the bot is stuck or gone"
    if not beat.ready:
        return "the bot is running but not connected to Discord"
    return None


def fresh_heartbeat(path: Path, max_age: float, now: float | None = None) -> Heartbeat | None:
    """The heartbeat of a bot that is running now (connected or not), else None."""
    try:
        beat = Heartbeat(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return beat if (time.time() if now is None else now) - beat.at <= max_age else None


async def check_database(url: str, within: float = DATABASE_TIMEOUT) -> str | None:
    """None when the database answers within `within` s and its schema is the one this bot
    needs, else the reason it is not. Never creates anything: a missing SQLite file is a
    problem, not an empty database to make."""
    import sqlalchemy.exc
    from sqlalchemy.engine import make_url

    from storage.db import create_engine, sqlite_path
    from storage.migrate import is_known_revision, schema_status

    shown = make_url(url).render_as_string(hide_password=True)
    sqlite_file = sqlite_path(url)
    if sqlite_file is not None and not await asyncio.to_thread(sqlite_file.is_file):
        return f"no database at {sqlite_file}: the bot has not started with it yet"
    engine = create_engine(url)
    try:
        async with asyncio.timeout(within):
            status = await schema_status(engine)
    except TimeoutError:
        return f"the database {shown} did not answer within {within:g} s"
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return f"the database {shown} does not answer: {reason[0] if reason else type(exc)}"
    finally:
        await engine.dispose()
    if status.current is None:
        return f"the database {shown} has no schema yet (the bot creates it on its first start)"
    if not is_known_revision(status.current):
        return (
            f"the database {shown} was upgraded by a newer version of the bot (schema revision "
            f"{status.current}, unknown here): run that version, or restore a backup made "
            "before the upgrade"
        )
    if not status.up_to_date:
        return (
            f"the database {shown} is at schema revision {status.current}, but this bot needs "
            f"{status.head} (tutorbot db upgrade)"
        )
    return None
