"""What an operator sees and does without a restart: `/admin status` and `/admin reload`.

Free of Discord: the adapter passes in what only it knows (when this process started, its
shards' heartbeat latencies, whether the outbox dispatcher runs); this service adds the outbox,
the database, the lab sandbox and the course, each bounded in time so that a slow daemon or
database never holds the answer up, and words the result as plain text.

Status describes this process and the bot as a whole (the whole outbox's counts), never a
server: a moderator who may see it learns nothing about other servers.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import URL

from bot import __version__
from bot.errors import UserError
from bot.services.base import ServiceBase
from bot.services.course_sync import ReloadFollower, announce_reload
from bot.services.labs import LabService
from bot.services.local_time import span
from bot.services.moderators import Member, server_choices
from bot.services.outbox import Backlog, OutboxService
from content.model import Problem

log = logging.getLogger(__name__)

LAB_WAIT = 2.0  # seconds the status waits for the lab daemon (the check goes on behind it)
DATABASE_WAIT = 3.0  # seconds the status waits for the database
SHOWN_ERRORS = 5  # a refused reload lists this many errors
MAX_PROBLEM_CHARS = 300  # of each (five of them fit an embed's description with room to spare)

NEEDS_OPERATOR = (
    "Only the bot's owner and this server's moderators can see the bot's status: members "
    "with **Manage Server**, or with the moderator role the server chose (`/drill role`)."
)
OWNER_ONLY_IN_DMS = "In direct messages only the bot's owner can use `/admin status`."


class ReloadRunning(UserError):
    def __init__(self) -> None:
        super().__init__(
            "A course reload is already running on this worker. Try again when it has finished."
        )


def millis(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def utc(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def describe_database(url: URL) -> str:
    """The backend and where its data lives: host and database, never a user or password."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return f"sqlite · {Path(url.database).name if url.database else 'in memory'}"
    host = url.host or "local socket"
    port = f":{url.port}" if url.port else ""
    return f"{backend} · {host}{port}/{url.database or ''}"


# --- what the status is made of ------------------------------------------------------------


@dataclass(frozen=True)
class ShardLatency:
    shard_id: int
    seconds: float | None  # None: no heartbeat answered yet, or not connected


@dataclass(frozen=True)
class ProcessFacts:
    """What only the Discord adapter knows about this process."""

    started_at: datetime
    shards: tuple[ShardLatency, ...]  # the shards this worker runs
    shard_count: int  # the shards of the whole bot, all workers together
    dispatches: bool  # whether this worker is meant to send the outbox
    dispatcher_running: bool


@dataclass(frozen=True)
class DatabaseState:
    backend: str  # describe_database()
    answered_in: float | None  # seconds the outbox query took; None when it failed
    problem: str | None = None


@dataclass(frozen=True)
class LabState:
    on: bool | None  # None: the daemon did not answer in time
    reason: str


@dataclass(frozen=True)
class CourseState:
    title: str
    slug: str
    parts: int
    written: int
    generation: int
    loaded_at: datetime
    warnings: int


@dataclass(frozen=True)
class Status:
    checked_at: datetime
    process: ProcessFacts
    outbox: Backlog | None  # None when the database did not answer
    database: DatabaseState
    labs: LabState
    course: CourseState

    @property
    def uptime(self) -> timedelta:
        return self.checked_at - self.process.started_at

    @property
    def oldest_late(self) -> timedelta | None:
        """How late the oldest due outbox row is."""
        oldest = self.outbox.oldest_due if self.outbox else None
        return self.checked_at - oldest if oldest is not None else None

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The status as (heading, text) pairs, readable anywhere."""
        return (
            ("Process", self._process_text()),
            ("Gateway", self._gateway_text()),
            ("Outbox", self._outbox_text()),
            ("Database", self._database_text()),
            ("Graded labs", self.labs.reason),
            ("Course", self._course_text()),
        )

    def _process_text(self) -> str:
        started = utc(self.process.started_at)
        return f"up {span(self.uptime)} (since {started}) · tutorbot {__version__}"

    def _gateway_text(self) -> str:
        shards = self.process.shards
        if not shards:
            return f"no shard connected (of {self.process.shard_count})"
        ids = ",".join(str(shard.shard_id) for shard in shards)
        head = f"shard{'s' if len(shards) > 1 else ''} {ids} of {self.process.shard_count}"
        latencies = [
            f"shard {shard.shard_id}: "
            + (millis(shard.seconds) if shard.seconds is not None else "no heartbeat answered yet")
            for shard in shards
        ]
        return "\n".join([head, *latencies])

    def _outbox_text(self) -> str:
        if self.process.dispatcher_running:
            dispatcher = "dispatcher running"
        elif not self.process.dispatches:
            dispatcher = "this worker does not send the outbox (another process does)"
        else:
            dispatcher = "dispatcher **stopped**: this worker sends nothing"
        backlog, late = self.outbox, self.oldest_late
        if backlog is None:
            return f"unknown: the database did not answer\n{dispatcher}"
        if late is None:
            waiting = f" ({backlog.pending} pending for later)" if backlog.pending else ""
            return f"nothing due{waiting}\n{dispatcher}"
        return (
            f"{backlog.due} due, {backlog.pending} pending in all\n"
            f"oldest due row: {span(late)} late\n{dispatcher}"
        )

    def _database_text(self) -> str:
        database = self.database
        if database.answered_in is None:
            return f"{database.backend}\n**not answering**: {database.problem}"
        return f"{database.backend}\nanswered in {millis(database.answered_in)}"

    def _course_text(self) -> str:
        course = self.course
        parts = f"{course.parts} parts"
        if course.written != course.parts:
            parts += f" ({course.written} written)"
        loaded = "loaded at start-up" if course.generation == 1 else "reloaded"
        warnings = f"{course.warnings} warning{'s' if course.warnings != 1 else ''}"
        return (
            f"{course.title} ({course.slug}) · {parts} · {warnings}\n"
            f"generation {course.generation}, {loaded} {utc(course.loaded_at)}"
        )


@dataclass(frozen=True)
class Reload:
    """What a reload did: the course in use afterwards, and the problems found."""

    generation: int
    parts: int
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    seconds: float
    others_told: bool = False  # PostgreSQL: the other workers were told to reload too

    @property
    def applied(self) -> bool:
        return not self.errors

    def text(self) -> str:
        if self.applied:
            warnings = f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
            return (
                f"Reloaded this worker's course in {self.seconds:.1f} s: generation "
                f"**{self.generation}**, {self.parts} parts, {warnings}.\n"
                + (
                    "The other worker processes were told and reload theirs now."
                    if self.others_told
                    else "Other worker processes keep their course until they reload or restart."
                )
            )
        # In a code block, each cut to a line's worth (a fence in the text would end the block).
        shown = "\n".join(
            str(problem)[:MAX_PROBLEM_CHARS].replace("```", "'''")
            for problem in self.errors[:SHOWN_ERRORS]
        )
        more = len(self.errors) - SHOWN_ERRORS
        return (
            f"The course was **not** reloaded: it has {len(self.errors)} "
            f"error{'s' if len(self.errors) != 1 else ''}. This worker keeps the course in use "
            f"(generation {self.generation}).\n```\n{shown}\n```"
            + (f"\n…and {more} more: run `tutorbot content check`." if more > 0 else "")
        )


# --- the service ------------------------------------------------------------------------------


@dataclass
class StatusService(ServiceBase):
    outbox: OutboxService = field(kw_only=True)
    labs: LabService = field(kw_only=True)
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    # Names this worker in reload notices (course_sync.py): its own are not followed.
    _worker: str = field(default_factory=lambda: uuid.uuid4().hex, init=False, repr=False)
    # The lab daemon check under way: one at a time, however many ask meanwhile.
    _lab_check: asyncio.Task[bool] | None = field(default=None, init=False, repr=False)

    async def require_viewer(self, guild_id: int | None, member: Member, *, owner: bool) -> None:
        """The bot's owner anywhere; in a server, its moderators too."""
        if owner:
            return
        if guild_id is None:
            raise UserError(OWNER_ONLY_IN_DMS)
        async with self.sessions() as session:
            choices = await server_choices(session, guild_id)
        if not choices.is_moderator(member):
            raise UserError(NEEDS_OPERATOR)

    async def status(self, process: ProcessFacts, *, owner: bool = True) -> Status:
        """`owner`: the bot's owner also sees where the database and the lab daemon are (any
        server's moderators may ask; a public bot's hosting details are not theirs)."""
        now = self.clock()
        (backlog, database), labs = await asyncio.gather(self._outbox(owner), self._labs(owner))
        return Status(now, process, backlog, database, labs, self._course())

    async def _outbox(self, detailed: bool) -> tuple[Backlog | None, DatabaseState]:
        url = self.outbox.engine.url
        backend = describe_database(url) if detailed else url.get_backend_name()
        started = time.perf_counter()
        try:
            backlog = await asyncio.wait_for(self.outbox.backlog(), DATABASE_WAIT)
        except TimeoutError:
            return None, DatabaseState(backend, None, f"no answer within {DATABASE_WAIT:g} s")
        except Exception as exc:  # the status must still show everything else
            log.warning("status: the database failed", exc_info=True)
            return None, DatabaseState(backend, None, f"{type(exc).__name__} (see the log)")
        return backlog, DatabaseState(backend, time.perf_counter() - started)

    async def _labs(self, detailed: bool) -> LabState:
        settings = self.labs.lab_settings
        if not settings.enabled:
            return LabState(False, "off: switched off (LAB_ENABLED=false); `/lab review` works")
        where = "its configured address"
        if detailed:
            where = settings.docker_host or "DOCKER_HOST or the default socket"
        if self._lab_check is None or self._lab_check.done():
            self._lab_check = asyncio.create_task(self.labs.sandbox_on(), name="status-lab-check")
        try:
            on = await asyncio.wait_for(asyncio.shield(self._lab_check), LAB_WAIT)
        except TimeoutError:
            return LabState(
                None, f"unknown: the lab daemon ({where}) did not answer within {LAB_WAIT:g} s"
            )
        if self.labs.exposed:
            return LabState(
                False,
                f"off: when the lab daemon at {where} came up, it fetched a URL on this host's "
                "network (GRADED LABS ARE OFF in the log); `/lab review` works",
            )
        if not on:
            return LabState(False, f"off: no Docker daemon answers at {where}; `/lab review` works")
        checked = self.labs.isolation_checked_at
        isolation = (
            f"its isolation check passed when it came up ({utc(checked)})"
            if checked is not None
            else "isolation check skipped (LAB_REQUIRE_ISOLATION=false)"
        )
        return LabState(True, f"on: the lab daemon at {where} answers; {isolation}")

    def _course(self) -> CourseState:
        store = self.courses
        course = store.course
        return CourseState(
            title=course.title,
            slug=course.slug,
            parts=len(course.parts),
            written=sum(1 for part in course.parts.values() if part.written),
            generation=store.generation,
            loaded_at=store.loaded_at,
            warnings=len(store.problems),
        )

    async def reload_course(self, by: int) -> Reload:
        """Parse the course again off the event loop; with any error the course in use stays.
        One reload at a time: a second one meanwhile is refused. On PostgreSQL a reload that
        applied is announced to the other workers (course_sync.py)."""
        if self._reloading.locked():
            raise ReloadRunning()
        result = await self._reload()
        if result.applied:
            if self.outbox.shared:
                await announce_reload(self.sessions, self._worker)
                result = replace(result, others_told=True)
            log.info(
                "course reloaded by user %s: generation %d, %d warning(s), %.2f s",
                by, result.generation, len(result.warnings), result.seconds,
            )  # fmt: skip
        else:
            log.warning(
                "course reload by user %s refused, %d error(s); generation %d stays: %s",
                by, len(result.errors), result.generation, result.errors[0],
            )  # fmt: skip
        return result

    def follow_reloads(self) -> ReloadFollower | None:
        """On PostgreSQL, a listener that reloads this worker's course when another worker
        announces a reload (run it as a task); None on SQLite."""
        if not self.outbox.shared:
            return None
        return ReloadFollower(
            self.outbox.engine,
            self.sessions,
            self._worker,
            self._reload_announced,
            loaded_at=lambda: self.courses.loaded_at,
        )

    async def _reload_announced(self) -> None:
        result = await self._reload()
        if result.applied:
            log.info(
                "course reloaded: another worker did; generation %d, %d warning(s)",
                result.generation, len(result.warnings),
            )  # fmt: skip
        else:
            log.warning(
                "course reload announced by another worker refused here, %d error(s); "
                "generation %d stays: %s",
                len(result.errors), result.generation, result.errors[0],
            )  # fmt: skip

    async def _reload(self) -> Reload:
        async with self._reloading:
            started = time.perf_counter()
            problems = await asyncio.to_thread(self.courses.reload)
            seconds = time.perf_counter() - started
        return Reload(
            generation=self.courses.generation,
            parts=len(self.course.parts),
            errors=tuple(problem for problem in problems if problem.is_error),
            warnings=tuple(problem for problem in problems if not problem.is_error),
            seconds=seconds,
        )
