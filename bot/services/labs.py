"""Hands-on labs: review (no daemon needed) and graded exercises in the sandbox.

The review takes a Dockerfile (hadolint and the course's rules, in a worker thread) or a
compose file (the course's Compose rules), told apart by content. A graded Dockerfile is checked
before it queues (refusals cost the learner nothing), waits its turn in the bounded queue,
builds and runs in the sandbox (a worker thread), and a pass is stored as the exercise done.
A Compose lab is graded at once, statically. With no daemon, or the sandbox switched off, only
the sandbox is off: the review and Compose labs still work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.config import validated
from bot.errors import UserError
from bot.labs.checks import CheckResult, grade_outcome
from bot.labs.compose_file import ComposeError, ComposeFile, looks_like_compose, read_compose
from bot.labs.compose_grade import grade_compose
from bot.labs.dockerfile import Dockerfile, DockerfileError, parse
from bot.labs.preflight import CREATED_LABEL, JOB_LABEL, prepare
from bot.labs.queue import JobQueue
from bot.labs.results import Job, Outcome
from bot.labs.review import (
    MAX_REVIEW_CHARS,
    MAX_REVIEW_INSTRUCTIONS,
    Review,
    review_compose,
    review_dockerfile,
)
from bot.labs.sandbox import Sandbox, SandboxUnavailable
from bot.labs.settings import LabSettings
from bot.services.activity import record_activity
from bot.services.base import ServiceBase, learner_or_none, require_learner
from content.model import Exercise, Lab
from storage.models import ExerciseCompletion

log = logging.getLogger(__name__)

STATUS_TTL = 30.0  # seconds the daemon's answer (there or not) is reused
RECHECK_AFTER = 10 * 60.0  # seconds a daemon's isolation verdict holds before it is redone
REVIEW_COOLDOWN = 10.0  # seconds between one learner's reviews
REVIEW_CONCURRENCY = 2  # hadolint runs at once
SWEEP_AGE = 15 * 60.0  # leftovers older than any job can live are a crashed job's

EXPOSED = (
    "GRADED LABS ARE OFF: the lab daemon fetched a URL this bot served on 127.0.0.1, so a "
    "learner's Dockerfile could make it reach this host's network (a cloud metadata service "
    "included). Give the labs a daemon of their own with no network: run "
    "`sudo scripts/lab-daemon.sh` and set LAB_DOCKER_HOST to the socket it prints (README, "
    "'Running the lab sandbox'). On a development machine, LAB_REQUIRE_ISOLATION=false skips "
    "this check."
)
DAEMON_GONE = (
    "the lab daemon stopped answering: graded labs are off until it answers again and passes "
    "the isolation check"
)
DAEMON_NEW = (
    "the lab daemon's socket changed (the daemon restarted, or the socket was re-created or its "
    "owner or mode changed): it is set up and passes the isolation check again before the next job"
)

Progress = Callable[[int], Awaitable[None]]  # 1, 2, ... = place in the queue; 0 = building
# Told how each graded job ended: passed, failed, refused (a UserError: a refused file, a full
# queue, the sandbox off) or error; and the job's own seconds (None when it never ran).
JobObserver = Callable[[str, float | None], None]


class UnknownExercise(UserError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"There is no graded exercise {text[:40]!r}. Pick one from the list as you type."
        )


class SandboxOff(UserError):
    def __init__(self) -> None:
        super().__init__(
            "The lab sandbox is off on this server, so exercises cannot be graded here. "
            "`/lab review` still checks any Dockerfile you paste."
        )


class BadSubmission(UserError):
    pass


def read_compose_for_review(text: str) -> ComposeFile:
    """The compose file as Compose reads it; refused, with the reason, when it cannot be read
    or is too big (a YAML bomb included)."""
    try:
        return read_compose(text, max_chars=MAX_REVIEW_CHARS)
    except ComposeError as exc:
        raise BadSubmission(f"That compose file cannot be reviewed: {exc}.") from None


def read_for_review(text: str) -> Dockerfile:
    """The Dockerfile as Docker reads it; refused, with the reason, when the review will not
    spend CPU on it."""
    if not text.strip():
        raise BadSubmission("That Dockerfile is empty.")
    if len(text) > MAX_REVIEW_CHARS:
        raise BadSubmission(
            f"That file has {len(text):,} characters; the review takes up to {MAX_REVIEW_CHARS:,}."
        )
    try:
        dockerfile = parse(text.removeprefix("\ufeff"))
    except DockerfileError as exc:
        raise BadSubmission(f"That Dockerfile cannot be read: {exc}.") from None
    count = len(dockerfile.instructions)
    if count > MAX_REVIEW_INSTRUCTIONS:
        raise BadSubmission(
            f"That Dockerfile has {count:,} instructions; the review takes up to "
            f"{MAX_REVIEW_INSTRUCTIONS}."
        )
    return dockerfile


@dataclass(frozen=True)
class LabTask:
    exercise: Exercise
    lab: Lab
    sandbox_on: bool
    done: bool  # the learner passed it before


@dataclass(frozen=True)
class Grade:
    exercise: Exercise
    checks: tuple[CheckResult, ...]
    build_seconds: float
    image_bytes: int | None
    log: str  # the build log (failed build) or the container's output, capped
    newly_done: bool  # this pass is the first

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass
class LabService(ServiceBase):
    lab_settings: LabSettings = field(default_factory=lambda: validated(LabSettings))
    job_observer: JobObserver | None = None  # the metrics, wired by the bot

    def __post_init__(self) -> None:
        settings = self.lab_settings
        self.sandbox = Sandbox(settings)
        self.queue = JobQueue(settings.concurrency, settings.queue_size, settings.cooldown)
        self._asked_at: float | None = None  # when the daemon was last asked (monotonic)
        self._set_up = False  # the daemon was prepared and judged since it last came up
        self._set_up_at = 0.0  # when (monotonic): the verdict is redone after RECHECK_AFTER
        self._judged_socket: tuple[int, int, int] | None = None  # its socket's identity (unix)
        self._asking = asyncio.Lock()  # one ask (and set-up) at a time, however many callers
        self.exposed = False  # the daemon's last isolation check: it reached the host's network
        self.isolation_checked_at: datetime | None = None  # when the daemon up now passed it
        self._reviewed: dict[int, float] = {}  # learner -> when their last review started
        self._linting = asyncio.Semaphore(REVIEW_CONCURRENCY)

    # --- review ---------------------------------------------------------------------------

    async def review(
        self, text: str, dockerignore: str | None = None, owner: int | None = None
    ) -> Review:
        """Review a Dockerfile or a compose file; one learner may ask every REVIEW_COOLDOWN s,
        and at most REVIEW_CONCURRENCY hadolint runs share the CPU (the others wait)."""
        if looks_like_compose(text):
            compose = await asyncio.to_thread(read_compose_for_review, text)
            self._one_review_at_a_time(owner)
            return review_compose(compose)
        dockerfile = await asyncio.to_thread(read_for_review, text)
        self._one_review_at_a_time(owner)
        async with self._linting:
            return await asyncio.to_thread(
                review_dockerfile, text, dockerignore=dockerignore, dockerfile=dockerfile
            )

    def _one_review_at_a_time(self, owner: int | None) -> None:
        if owner is None:
            return
        now = time.monotonic()
        waited = now - self._reviewed.get(owner, -REVIEW_COOLDOWN)
        if waited < REVIEW_COOLDOWN:
            raise BadSubmission(
                f"One review every {REVIEW_COOLDOWN:g} s: try again in "
                f"{REVIEW_COOLDOWN - waited:.0f} s."
            )
        self._reviewed[owner] = now

    def part_label(self, number: int | None) -> str | None:
        """`Part 5 · Dockerfile optimization`, as course.toml names it."""
        part = self.course.parts.get(number) if number is not None else None
        return f"Part {number} · {part.info.title}" if part is not None else None

    # --- exercises ------------------------------------------------------------------------

    def exercises(self) -> list[Exercise]:
        """Every exercise with a lab, in course order."""
        return [
            exercise
            for part in self.course.parts.values()
            for exercise in part.exercises
            if exercise.lab is not None
        ]

    def exercise(self, text: str) -> Exercise:
        wanted = text.strip().split(" ", 1)[0].lower()
        found = next((e for e in self.exercises() if e.id == wanted), None)
        if found is None:
            raise UnknownExercise(text.strip())
        return found

    async def sandbox_on(self) -> bool:
        """Whether graded labs can run here: switched on, the daemon answers (asked at most
        every STATUS_TTL s), and since it last came up it was set up and passed the isolation
        check (LAB_REQUIRE_ISOLATION=false skips the check)."""
        if not self.lab_settings.enabled:
            return False
        async with self._asking:
            self._notice_new_socket()
            if self._asked_at is None or time.monotonic() - self._asked_at > STATUS_TTL:
                answers = await asyncio.to_thread(self.sandbox.available)
                if not answers:
                    self._daemon_gone()
                elif not self._set_up or self._verdict_stale():
                    # First seen, back, or judged long ago (it may have been restarted with
                    # other settings between two asks): whatever it is now gets judged.
                    self._set_up = await self._set_up_daemon()
                self._asked_at = time.monotonic()
            return self._set_up and not self.exposed

    def _notice_new_socket(self) -> None:
        """A daemon on a local socket makes it anew when it starts. Looked at on every ask (a
        stat), so such a restart between two asks is seen, not only RECHECK_AFTER later. (A
        socket-activated daemon, systemd's docker.socket, keeps its socket across restarts:
        there only RECHECK_AFTER sees one.)"""
        if not self._set_up:
            return
        socket = self.sandbox.socket_identity()
        if socket == self._judged_socket:
            return
        if socket is None:
            self._daemon_gone()  # its socket went with it; whatever answers next is judged
        else:
            log.warning(DAEMON_NEW)
            self._forget_daemon()

    def _verdict_stale(self) -> bool:
        return time.monotonic() - self._set_up_at > RECHECK_AFTER

    def _daemon_gone(self) -> None:
        """The daemon stopped answering: the one that answers next is set up and checked
        afresh, whatever this one was."""
        if self._set_up:
            log.warning(DAEMON_GONE)
        self._forget_daemon()

    def _forget_daemon(self) -> None:
        self._set_up, self.exposed, self.isolation_checked_at = False, False, None
        self._asked_at = None

    async def _set_up_daemon(self) -> bool:
        """Cap build processes, sweep what a crashed process left and check isolation; False
        when the daemon failed on the way (it is tried again at the next ask)."""
        check = self.lab_settings.require_isolation
        self._judged_socket = self.sandbox.socket_identity()
        try:
            await asyncio.to_thread(self.sandbox.prepare)
            removed = await asyncio.to_thread(self.sandbox.sweep, SWEEP_AGE)
            exposed = check and await asyncio.to_thread(self.sandbox.fetches_for_learners)
        except SandboxUnavailable as exc:
            log.warning("lab sandbox set-up failed: %s", exc)
            return False
        if removed:
            log.info("removed %d leftover lab containers and images", removed)
        self.exposed = exposed
        self._set_up_at = time.monotonic()
        self.isolation_checked_at = self.clock() if check and not exposed else None
        if exposed:
            log.error(EXPOSED)
        else:
            log.info("lab daemon set up%s: graded labs are on", "" if check else ", unchecked")
        return True

    async def start_up(self) -> None:
        """Set the sandbox up now if the daemon answers; else the first ask after it comes
        up does. Quiet with no daemon."""
        if not await self.sandbox_on() and not self.exposed:
            log.info("lab sandbox is off (disabled or no Docker daemon): review only")

    async def start(self, discord_id: int, text: str) -> LabTask:
        exercise = self.exercise(text)
        assert exercise.lab is not None
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            done = await session.get(ExerciseCompletion, (learner.id, exercise.id)) is not None
        gradable = exercise.lab.compose is not None or await self.sandbox_on()
        return LabTask(exercise, exercise.lab, gradable, done)

    async def done_ids(self, discord_id: int) -> set[str]:
        async with self.sessions() as session:
            learner = await learner_or_none(session, discord_id)
            if learner is None:
                return set()
            rows = await session.scalars(
                select(ExerciseCompletion.exercise_id).where(
                    ExerciseCompletion.learner_id == learner.id
                )
            )
            return set(rows)

    # --- grading --------------------------------------------------------------------------

    def _limits(self, lab: Lab) -> tuple[int, float]:
        settings = self.lab_settings
        memory = min(lab.memory_mb or settings.memory_mb, settings.memory_mb)
        return memory, min(lab.timeout, settings.run_timeout)

    def allowed_images(self, lab: Lab) -> dict[str, str]:
        """The lab's base images that this server has, each with its local stand-in."""
        images = self.lab_settings.images
        return {name: images[name] for name in lab.base_images if name in images}

    def _job(self, exercise: Exercise, files: Mapping[str, str]) -> tuple[Job, list[str]]:
        lab = exercise.lab
        assert lab is not None
        unknown = sorted(set(files) - set(lab.submit))
        if unknown:
            raise BadSubmission(f"This lab takes {', '.join(lab.submit)}, not {unknown[0]}.")
        if "Dockerfile" in lab.submit and not files.get("Dockerfile", "").strip():
            raise BadSubmission("The Dockerfile is empty.")
        job_id, created = Job.new_id(), int(time.time())
        allowed = self.allowed_images(lab)
        prepared = prepare(
            {**exercise.files, **lab.context, **files},
            allowed,
            max_bytes=self.lab_settings.max_input_kb * 1024,
            labels=f"{JOB_LABEL}={job_id} {CREATED_LABEL}={created}",
        )
        memory, _ = self._limits(lab)
        aliases = {local: name for name, local in allowed.items() if local != name}
        job = Job(job_id, prepared.files, lab, memory, created, aliases, prepared.final_base)
        return job, list(prepared.bases)

    async def submit(
        self,
        discord_id: int,
        exercise_id: str,
        files: Mapping[str, str],
        progress: Progress | None = None,
    ) -> Grade:
        """Grade a learner's submission and store a pass as the exercise done."""
        async with self.sessions() as session:
            await require_learner(session, discord_id)
        grade, outcome = await self.grade(discord_id, exercise_id, files, progress)
        if grade.passed:
            newly = await self._complete(discord_id, grade.exercise, outcome)
            grade = replace(grade, newly_done=newly)
        return grade

    async def grade(
        self,
        owner: int,
        exercise_id: str,
        files: Mapping[str, str],
        progress: Progress | None = None,
    ) -> tuple[Grade, Outcome | None]:
        """Refused at once when it cannot run; else queued (as `owner`), built, run, graded."""
        return await self.grade_exercise(owner, self.exercise(exercise_id), files, progress)

    async def grade_exercise(
        self,
        owner: int,
        exercise: Exercise,
        files: Mapping[str, str],
        progress: Progress | None = None,
    ) -> tuple[Grade, Outcome | None]:
        """Grade, and tell `job_observer` how the job ended."""
        try:
            grade, outcome, seconds = await self._grade_job(owner, exercise, files, progress)
        except Exception as exc:
            self._job_ended("refused" if isinstance(exc, UserError) else "error", None)
            raise
        self._job_ended("passed" if grade.passed else "failed", seconds)
        return grade, outcome

    def _job_ended(self, outcome: str, seconds: float | None) -> None:
        if self.job_observer is not None:
            self.job_observer(outcome, seconds)

    async def _grade_job(
        self,
        owner: int,
        exercise: Exercise,
        files: Mapping[str, str],
        progress: Progress | None,
    ) -> tuple[Grade, Outcome | None, float]:
        """The grade, the sandbox's outcome and the job's own seconds: build plus run, or
        the static grading of a Compose lab."""
        lab = exercise.lab
        assert lab is not None
        if lab.compose is not None:
            started = time.monotonic()
            grade = self._grade_compose(exercise, lab, files)
            return grade, None, time.monotonic() - started
        job, bases = self._job(exercise, files)
        if not await self.sandbox_on():
            raise SandboxOff()
        async with self.queue.slot(owner, progress):
            if not await self.sandbox_on():  # the daemon may have gone or changed meanwhile
                raise SandboxOff()
            if progress is not None:
                await progress(0)
            try:
                outcome = await asyncio.to_thread(self.sandbox.run_job, job, bases)
            except SandboxUnavailable:
                self._daemon_gone()
                raise SandboxOff() from None
        memory, timeout = self._limits(lab)
        checks = tuple(grade_outcome(lab, outcome, memory, timeout))
        size = outcome.image.size_bytes if outcome.image else None
        shown = _shown_log(outcome)
        seconds = outcome.build.seconds + (outcome.run.seconds if outcome.run else 0.0)
        return Grade(exercise, checks, outcome.build.seconds, size, shown, False), outcome, seconds

    def _grade_compose(self, exercise: Exercise, lab: Lab, files: Mapping[str, str]) -> Grade:
        assert lab.compose is not None
        unknown = sorted(set(files) - set(lab.submit))
        if unknown:
            raise BadSubmission(f"This lab takes {', '.join(lab.submit)}, not {unknown[0]}.")
        missing = [name for name in lab.submit if not files.get(name, "").strip()]
        if missing:
            raise BadSubmission(f"{missing[0]} is empty.")
        max_chars = self.lab_settings.max_input_kb * 1024
        checks = tuple(grade_compose(lab.compose, files, max_chars=max_chars))
        return Grade(exercise, checks, 0.0, None, "", False)

    async def _complete(self, discord_id: int, exercise: Exercise, outcome: Outcome | None) -> bool:
        """Store the pass (once); True when it is the learner's first pass of the exercise."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            learner = await require_learner(session, discord_id)
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert(ExerciseCompletion)
                .values(
                    learner_id=learner.id,
                    exercise_id=exercise.id,
                    part=exercise.part,
                    source="lab",
                    completed_at=now,
                    build_seconds=outcome.build.seconds if outcome else None,
                    image_bytes=outcome.image.size_bytes if outcome and outcome.image else None,
                )
                .on_conflict_do_nothing()
            )
            result = await session.execute(statement)
            newly = bool(getattr(result, "rowcount", 0))
            if newly:
                await record_activity(session, learner, now)
        return newly


def _shown_log(outcome: Outcome) -> str:
    """What helps the learner most: the build log when it failed, else the run's output."""
    if not outcome.build.ok or outcome.run is None:
        return outcome.build.log
    run = outcome.run
    text = run.stdout + (("\n" + run.stderr) if run.stderr else "")
    return text + ("\n[output truncated]" if run.truncated else "")
