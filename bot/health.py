"""A heartbeat file the running bot refreshes, and the check `tutorbot health` makes of it."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path


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
