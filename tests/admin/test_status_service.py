"""StatusService on a real database: what /admin status gathers and says, and the reload."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.errors import UserError
from bot.services import Services
from bot.services import status as status_module
from bot.services.status import (
    NEEDS_OPERATOR,
    OWNER_ONLY_IN_DMS,
    ProcessFacts,
    ReloadRunning,
    ShardLatency,
    describe_database,
)
from content.reader import part_chunks
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.admin.support import (
    break_part_1,
    daemon_answers,
    no_daemon,
    shorten_part_1,
    use_labs,
)
from tests.groups.support import SERVER, Clock, member

MOD_ROLE = 77


def facts(clock: Clock, **overrides: object) -> ProcessFacts:
    values: dict[str, object] = {
        "started_at": clock() - timedelta(hours=2, minutes=5),
        "shards": (ShardLatency(0, 0.042), ShardLatency(1, None)),
        "shard_count": 4,
        "dispatches": True,
        "dispatcher_running": True,
    }
    return ProcessFacts(**{**values, **overrides})  # type: ignore[arg-type]


def test_the_database_is_named_without_user_or_password() -> None:
    url = make_url("postgresql+asyncpg://tutor:s3cret@db:5432/tutor")
    assert describe_database(url) == "postgresql · db:5432/tutor"
    assert describe_database(make_url("sqlite+aiosqlite:////srv/data/tutor.db")) == (
        "sqlite · tutor.db"
    )


async def test_status_shows_the_process_outbox_database_labs_and_course(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    host = no_daemon(services, tmp_path)
    outbox = services.outbox
    await outbox.enqueue("digest", due_at=clock() - timedelta(minutes=3), payload={})
    await outbox.enqueue("digest", due_at=clock(), payload={})
    await outbox.enqueue("digest", due_at=clock() + timedelta(hours=1), payload={})

    status = await services.status.status(facts(clock))

    assert status.outbox is not None
    assert (status.outbox.pending, status.outbox.due) == (3, 2)
    assert status.oldest_late == timedelta(minutes=3)
    assert status.uptime == timedelta(hours=2, minutes=5)
    assert status.labs.on is False
    fields = dict(status.fields())
    assert list(fields) == ["Process", "Gateway", "Outbox", "Database", "Graded labs", "Course"]
    assert fields["Process"].startswith("up 2 h 5 min (since 2026-03-02 06:55 UTC)")
    assert fields["Gateway"] == (
        "shards 0,1 of 4\nshard 0: 42 ms\nshard 1: no heartbeat answered yet"
    )
    assert fields["Outbox"] == (
        "2 due, 3 pending in all\noldest due row: 3 min late\ndispatcher running"
    )
    backend = services.outbox.engine.url.get_backend_name()
    assert fields["Database"].startswith(f"{backend} · ")
    assert "answered in " in fields["Database"]
    assert fields["Graded labs"] == f"off: no Docker daemon answers at {host}; `/lab review` works"
    loaded = f"{services.courses.loaded_at:%Y-%m-%d %H:%M} UTC"
    assert fields["Course"] == (
        f"Docker in Depth (docker) · 21 parts · 0 warnings\n"
        f"generation 1, loaded at start-up {loaded}"
    )


async def test_with_nothing_due_and_no_dispatcher_running(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    no_daemon(services, tmp_path)
    await services.outbox.enqueue("digest", due_at=clock() + timedelta(days=1), payload={})
    stalled = await services.status.status(facts(clock, dispatcher_running=False))
    assert dict(stalled.fields())["Outbox"] == (
        "nothing due (1 pending for later)\ndispatcher **stopped**: this worker sends nothing"
    )
    # A second worker on SQLite: another process holds the dispatch lock.
    elsewhere = await services.status.status(
        facts(clock, dispatches=False, dispatcher_running=False)
    )
    assert dict(elsewhere.fields())["Outbox"].endswith(
        "\nthis worker does not send the outbox (another process does)"
    )


async def test_a_database_that_does_not_answer_leaves_the_rest_of_the_status(
    course_store: CourseStore, clock: Clock, tmp_path: Path
) -> None:
    """A real failure: PostgreSQL on a port where nothing listens."""
    engine = create_engine("postgresql+asyncpg://tutor:s3cret@127.0.0.1:9/tutor")
    try:
        services = Services(sessions=create_sessionmaker(engine), courses=course_store, clock=clock)
        no_daemon(services, tmp_path)
        status = await services.status.status(facts(clock))
    finally:
        await engine.dispose()
    fields = dict(status.fields())
    assert status.outbox is None and status.database.answered_in is None
    assert fields["Database"].startswith("postgresql · 127.0.0.1:9/tutor\n**not answering**: ")
    assert fields["Outbox"].startswith("unknown: the database did not answer")
    assert "s3cret" not in "".join(fields.values())
    assert fields["Course"].startswith("Docker in Depth")


async def test_moderators_see_no_hosting_details(
    course_store: CourseStore, clock: Clock, tmp_path: Path
) -> None:
    """Where the database and the lab daemon are is for the bot's owner: any server's
    moderators may ask for the status."""
    engine = create_engine("postgresql+asyncpg://tutor:s3cret@db.internal:9/tutor")
    try:
        services = Services(sessions=create_sessionmaker(engine), courses=course_store, clock=clock)
        socket = no_daemon(services, tmp_path)
        owner = dict((await services.status.status(facts(clock), owner=True)).fields())
        moderator = dict((await services.status.status(facts(clock), owner=False)).fields())
    finally:
        await engine.dispose()
    assert "db.internal" in owner["Database"] and socket in owner["Graded labs"]
    shown = "".join(moderator.values())
    assert moderator["Database"].startswith("postgresql\n**not answering**: ")
    assert "db.internal" not in shown and socket not in shown and "tmp" not in shown
    assert "its configured address" in moderator["Graded labs"]


async def test_a_slow_lab_daemon_never_holds_the_status_up(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon is stood in for by a check that blocks until the test lets it answer."""
    use_labs(services, require_isolation=False)
    monkeypatch.setattr(status_module, "LAB_WAIT", 0.2)
    answer = threading.Event()
    checks: list[int] = []

    def available() -> bool:
        checks.append(1)
        return answer.wait(10)

    daemon_answers(services, monkeypatch, fetches=True)  # not asked: isolation not required
    monkeypatch.setattr(services.labs.sandbox, "available", available)
    try:
        started = asyncio.get_running_loop().time()
        first, second = await asyncio.gather(
            services.status.status(facts(clock)), services.status.status(facts(clock))
        )
        assert asyncio.get_running_loop().time() - started < 2
        assert first.labs.on is None
        assert first.labs.reason == (
            "unknown: the lab daemon (DOCKER_HOST or the default socket) did not answer "
            "within 0.2 s"
        )
        assert second.labs == first.labs
        assert len(checks) == 1  # both waited on the same check
    finally:
        answer.set()
    await asyncio.sleep(0.05)  # the check goes on behind the status and answers
    later = await services.status.status(facts(clock))
    assert later.labs.on is True
    assert later.labs.reason == (
        "on: the lab daemon at DOCKER_HOST or the default socket answers; "
        "isolation check skipped (LAB_REQUIRE_ISOLATION=false)"
    )


async def test_labs_switched_off_say_why_without_asking_the_daemon(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_labs(services, enabled=False)

    def asked() -> bool:
        raise AssertionError("the daemon was asked")

    monkeypatch.setattr(services.labs.sandbox, "available", asked)
    labs = (await services.status.status(facts(clock))).labs
    assert labs.on is False
    assert labs.reason == "off: switched off (LAB_ENABLED=false); `/lab review` works"


@pytest.mark.parametrize("fetches", [True, False])
async def test_labs_say_how_the_isolation_check_of_the_daemon_up_now_went(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch, fetches: bool
) -> None:
    host = use_labs(services, docker_host="unix:///run/lab.sock").docker_host
    daemon_answers(services, monkeypatch, fetches=fetches)
    labs = (await services.status.status(facts(clock))).labs
    if fetches:
        assert labs.on is False
        assert labs.reason == (
            f"off: when the lab daemon at {host} came up, it fetched a URL on this host's "
            "network (GRADED LABS ARE OFF in the log); `/lab review` works"
        )
    else:
        assert labs.on is True
        assert labs.reason == (
            f"on: the lab daemon at {host} answers; its isolation check passed when it came "
            f"up ({clock():%Y-%m-%d %H:%M} UTC)"
        )


async def test_the_owner_anywhere_moderators_in_their_server_only(services: Services) -> None:
    viewer = services.status.require_viewer
    await services.drills.set_moderator_role(SERVER, MOD_ROLE)
    await viewer(None, member(1), owner=True)
    await viewer(SERVER, member(1), owner=True)
    await viewer(SERVER, member(2, manage=True), owner=False)
    await viewer(SERVER, member(3, roles=(MOD_ROLE,)), owner=False)
    with pytest.raises(UserError, match="Only the bot's owner and this server's moderators"):
        await viewer(SERVER, member(4), owner=False)
    with pytest.raises(UserError) as other_server:
        await viewer(SERVER + 1, member(3, roles=(MOD_ROLE,)), owner=False)
    assert str(other_server.value) == NEEDS_OPERATOR
    with pytest.raises(UserError) as in_dms:
        await viewer(None, member(2, manage=True), owner=False)
    assert str(in_dms.value) == OWNER_ONLY_IN_DMS


async def test_a_reload_swaps_in_the_edited_course(
    services: Services, course_dir: Path, clock: Clock
) -> None:
    before = services.courses.course
    shorten_part_1(course_dir)
    result = await services.status.reload_course(by=1)
    assert result.applied and (result.generation, result.parts) == (2, 21)
    assert result.errors == result.warnings == ()
    assert services.courses.course is not before
    assert len(part_chunks(services.courses.course.parts[1])) < len(part_chunks(before.parts[1]))
    assert "Reloaded this worker's course in " in result.text()
    assert "generation **2**, 21 parts, 0 warnings." in result.text()
    course = dict((await services.status.status(facts(clock))).fields())["Course"]
    assert "\ngeneration 2, reloaded " in course
    assert services.courses.loaded_at > datetime.now(UTC) - timedelta(minutes=1)


async def test_a_broken_course_is_refused_and_the_old_one_keeps_serving(
    services: Services, course_dir: Path
) -> None:
    before = services.courses.course
    where = break_part_1(course_dir)
    result = await services.status.reload_course(by=1)
    assert not result.applied
    (error,) = result.errors
    assert str(error).startswith(f"{where}: error: missing id")
    assert services.courses.course is before and services.courses.generation == 1
    assert result.generation == 1
    text = result.text()
    assert text.startswith("The course was **not** reloaded: it has 1 error.")
    assert f"```\n{where}: error: missing id" in text
    assert "keeps the course in use (generation 1)" in text
    # The old course still answers: Part 1's question is still there, by its id.
    assert "p01-dbg-unshare-fork" in services.quiz.items().questions


async def test_one_reload_at_a_time(
    services: Services, course_store: CourseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = threading.Event()
    reload = course_store.reload

    def slow_reload() -> tuple[object, ...]:
        go.wait(10)
        return reload()

    monkeypatch.setattr(course_store, "reload", slow_reload)
    first = asyncio.create_task(services.status.reload_course(by=1))
    await asyncio.sleep(0.01)  # the first one holds the lock, parsing in its thread
    with pytest.raises(ReloadRunning, match="already running"):
        await services.status.reload_course(by=2)
    go.set()
    assert (await first).generation == 2
    assert (await services.status.reload_course(by=2)).generation == 3
