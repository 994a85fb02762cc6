"""Prometheus metrics: scraped over HTTP from the real bot on the loopback Discord, the outbox
dispatcher's outcomes, lab jobs, the backlog gauges, and the server's start and stop."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot.metrics.registry
from bot import __version__
from bot.app import App, StartupError, build_bot, run_bot, serve_metrics
from bot.bot import TutorBot
from bot.config import Settings, default_course_dir
from bot.errors import UserError
from bot.labs.sandbox import Sandbox
from bot.metrics import Metrics, MetricsServer
from bot.services import Services
from bot.services.labs import BadSubmission, LabService
from bot.services.outbox import Backlog, OutboxService
from content.store import CourseStore
from storage.models import OutboxMessage
from tests.bot.test_journey import enrol
from tests.fake_discord import FakeDiscord, FakeUser
from tests.labs.conftest import (  # noqa: F401  (the Docker fixtures of the lab tests)
    docker_client,
    graded_exercises,
    sandbox,
    short_limits,
    solution,
)
from tests.scheduler.helpers import VirtualTime, eventually
from tests.scheduler.world import open_world

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 for a series that does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int) -> Samples:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(await response.text())


def registry_samples(metrics: Metrics) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
    }


# --- interactions, scraped from the running bot -------------------------------------------


class Probe(commands.Cog):
    @app_commands.command(name="mistake", description="fails with a user error")
    async def mistake(self, interaction: discord.Interaction) -> None:
        raise UserError("Part 42 does not exist.")

    @app_commands.command(name="crash", description="fails with a bug")
    async def crash(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The loopback Discord, heartbeating often enough for the bot to measure its latency."""
    async with FakeDiscord(heartbeat_interval_ms=100) as fake:
        yield fake


@pytest.fixture
async def metrics_port(tutor: TutorBot) -> AsyncIterator[int]:
    """The bot's /metrics on an ephemeral port of the loopback interface."""
    server = MetricsServer(tutor.metrics)
    await server.start("127.0.0.1", 0)
    try:
        yield server.port
    finally:
        await server.stop()


async def test_commands_and_buttons_are_counted_by_name_outcome_and_time(
    tutor: TutorBot, fake: FakeDiscord, metrics_port: int, app: App
) -> None:
    await tutor.add_cog(Probe())
    await tutor.tree.sync()
    before = await scrape(metrics_port)
    assert value(before, "tutorbot_interactions_total", command="about", outcome="ok") == 0

    await fake.slash("about")
    await enrol(fake)  # /start, then the track select (the onboarding feature)
    reading = await fake.slash("read")
    await fake.click(reading.message, f"read:{fake.user.id}:0:next")
    stranger = FakeUser(username="stranger")
    refused = await fake.click(reading.message, f"read:{fake.user.id}:0:next", user=stranger)
    assert "someone else's lesson" in (refused.content or "")
    await fake.slash("mistake")
    await fake.slash("crash")

    expected = {
        ("about", "ok"): 1,
        ("start", "ok"): 1,
        ("onboarding", "ok"): 1,
        ("read", "ok"): 1,
        ("reading", "ok"): 1,
        ("reading", "refused"): 1,
        ("mistake", "refused"): 1,
        ("crash", "error"): 1,
    }

    def counted(samples: Samples) -> dict[tuple[str, str], float]:
        return {
            key: value(samples, "tutorbot_interactions_total", command=key[0], outcome=key[1])
            for key in expected
        }

    samples = await scrape(metrics_port)
    for _ in range(100):  # a command's completion event runs just after its answer
        if counted(samples) == expected:
            break
        await asyncio.sleep(0.02)
        samples = await scrape(metrics_port)
    assert counted(samples) == expected
    # Every counted interaction was timed, from its receipt to its handler's end.
    for command in ("about", "read", "reading", "crash"):
        total = sum(n for (name, _), n in expected.items() if name == command)
        assert value(samples, "tutorbot_interaction_seconds_count", command=command) == total
        assert value(samples, "tutorbot_interaction_seconds_sum", command=command) > 0
    assert value(samples, "tutorbot_interaction_seconds_bucket", command="about", le="+Inf") == 1
    # Labels come from a fixed set: no raw custom_id, user or message id in any series.
    labels = {v for _, pairs in samples for _, v in pairs}
    assert not any(str(fake.user.id) in label or ":" in label for label in labels)
    database = app.engine.dialect.name
    assert value(samples, "tutorbot_info", version=__version__, database=database) == 1

    for _ in range(200):  # the first heartbeat comes within one (short) interval
        latency = value(await scrape(metrics_port), "tutorbot_gateway_latency_seconds", shard="0")
        if latency:
            break
        await asyncio.sleep(0.02)
    assert 0 < latency < 5


async def test_no_gateway_latency_while_disconnected(app: App) -> None:
    bot = build_bot(app, heartbeat=False)  # never connected
    names = {name for name, _ in registry_samples(bot.metrics)}
    assert "tutorbot_info" in names
    assert not any(name.startswith("tutorbot_gateway_latency") for name in names)


# --- the outbox -----------------------------------------------------------------------------


async def test_outbox_sends_failures_and_retries_are_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    vt = VirtualTime()
    services = Services(sessions=sessions, courses=CourseStore(default_course_dir()), clock=vt)
    async with open_world(services, vt) as world:
        metrics = world.bot.metrics
        await world.replace_dispatcher(observer=metrics)  # as the bot's own dispatcher has

        def count(name: str, **labels: str) -> float:
            return value(registry_samples(metrics), name, **labels)

        await world.remind(world.learners[0], "Review [r1]")
        await eventually(lambda: count("tutorbot_outbox_sent_total", kind="reminder") == 1)
        assert count("tutorbot_outbox_lateness_seconds_count") == 1

        await world.remind(world.closed, "Review [r2]")  # DMs closed, no reminder channel
        await eventually(
            lambda: count("tutorbot_outbox_failed_total", kind="reminder", reason="no_route") == 1
        )

        path = f"/channels/{world.general.id}/messages"
        world.fake.fail_next("POST", path, status=403, code=50013)
        await services.outbox.enqueue(
            "drill",
            due_at=vt(),
            payload={"content": "Drill [r3]"},
            guild_id=world.fake.guild.id,
            channel_id=world.general.id,
        )
        await eventually(
            lambda: count("tutorbot_outbox_failed_total", kind="drill", reason="channel") == 1
        )

        world.fake.fail_next("POST", "/channels/*/messages", status=503)
        on_time = count("tutorbot_outbox_lateness_seconds_bucket", le="1.0")
        await world.remind(world.learners[1], "Review [r4]", kind="nudge")
        await eventually(lambda: count("tutorbot_outbox_sent_total", kind="nudge") == 1)
        assert count("tutorbot_outbox_retries_total", kind="nudge") == 1
        # it went out after a back-off of 2 s (virtual time): late by at least that. (How late
        # r1 was is not asserted: an idle dispatcher moves virtual time on by its idle sleep.)
        assert count("tutorbot_outbox_lateness_seconds_bucket", le="1.0") == on_time
        assert count("tutorbot_outbox_lateness_seconds_count") == 2

        await world.dispatcher.stop(grace=0)  # a row tried 12 times already, then a restart
        worn_out = await world.remind(world.learners[2], "Review [r5]")
        async with services.sessions() as session, session.begin():
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == worn_out).values(attempts=12)
            )
        world.dispatcher.start()
        await eventually(
            lambda: count("tutorbot_outbox_failed_total", kind="reminder", reason="gave_up") == 1
        )
        assert world.delivered() == {"r1": 1, "r4": 1}


class CountingOutbox:
    """The real outbox service, counting the backlog queries the metrics make."""

    def __init__(self, outbox: OutboxService) -> None:
        self.outbox = outbox
        self.queries = 0

    @property
    def clock(self) -> VirtualTime:
        assert isinstance(self.outbox.clock, VirtualTime)
        return self.outbox.clock

    async def backlog(self) -> Backlog:
        self.queries += 1
        await asyncio.sleep(0.05)  # slow enough for scrapes to pile up behind it
        return await self.outbox.backlog()


async def test_backlog_gauges_share_one_query_between_scrapes(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    vt = VirtualTime()
    services = Services(sessions=sessions, courses=CourseStore(default_course_dir()), clock=vt)
    counting = CountingOutbox(services.outbox)
    metrics = Metrics(database="sqlite")
    metrics.watch(lambda: [], counting)  # no gateway here
    outbox = services.outbox
    await outbox.enqueue("digest", due_at=vt() - timedelta(minutes=10), payload={})
    await outbox.enqueue("digest", due_at=vt() - timedelta(minutes=1), payload={})
    await outbox.enqueue("digest", due_at=vt() + timedelta(hours=1), payload={})  # not due

    def gauges() -> tuple[float, float, float]:
        samples = registry_samples(metrics)
        return (
            value(samples, "tutorbot_outbox_pending"),
            value(samples, "tutorbot_outbox_due"),
            value(samples, "tutorbot_outbox_oldest_due_seconds"),
        )

    assert all(math.isnan(g) for g in gauges())  # never counted: unknown, not 0
    await asyncio.gather(*(metrics.refresh() for _ in range(5)))  # scrapes at once
    assert counting.queries == 1
    assert gauges() == (3, 2, 600)
    vt.advance(30)  # the age moves with the clock, the count is kept
    await metrics.refresh()
    assert counting.queries == 1
    assert gauges() == (3, 2, 630)

    monkeypatch.setattr(bot.metrics.registry, "BACKLOG_MAX_AGE", 0.0)
    async with services.sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(due_at=vt() + timedelta(hours=2)))
    await metrics.refresh()
    assert counting.queries == 2
    assert gauges() == (3, 0, 0)


# --- lab jobs (Compose labs are graded with no Docker daemon) --------------------------------


async def test_lab_jobs_are_counted_by_outcome_and_timed(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    metrics = Metrics()
    labs = LabService(
        sessions,
        CourseStore(default_course_dir()),
        lab_settings=short_limits(docker_host=f"unix://{tmp_path}/no-docker.sock"),
        job_observer=metrics.lab_job,
    )
    exercise_id = graded_exercises(compose=True)[0]
    passed, _ = await labs.grade(1, exercise_id, solution(exercise_id, "pass"))
    failed, _ = await labs.grade(1, exercise_id, solution(exercise_id, "fail"))
    assert passed.passed and not failed.passed
    with pytest.raises(BadSubmission):
        await labs.grade(1, exercise_id, {name: " " for name in solution(exercise_id, "pass")})

    samples = registry_samples(metrics)
    assert {
        outcome: value(samples, "tutorbot_lab_jobs_total", outcome=outcome)
        for outcome in ("passed", "failed", "refused", "error")
    } == {"passed": 1, "failed": 1, "refused": 1, "error": 0}
    assert value(samples, "tutorbot_lab_job_seconds_count") == 2  # a refusal never ran
    assert value(samples, "tutorbot_lab_job_seconds_sum") > 0


@pytest.mark.docker
async def test_a_sandbox_job_is_timed_by_its_build_and_run(
    sessions: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,  # noqa: F811  (the lab tests' fixture, imported above)
) -> None:
    metrics = Metrics()
    labs = LabService(
        sessions,
        CourseStore(default_course_dir()),
        lab_settings=short_limits(),
        job_observer=metrics.lab_job,
    )
    labs.sandbox = sandbox
    exercise_id = graded_exercises(compose=False)[0]
    grade, outcome = await labs.grade(1, exercise_id, solution(exercise_id, "pass"))
    assert grade.passed and outcome is not None and outcome.run is not None
    samples = registry_samples(metrics)
    assert value(samples, "tutorbot_lab_jobs_total", outcome="passed") == 1
    assert value(samples, "tutorbot_lab_job_seconds_sum") == pytest.approx(
        outcome.build.seconds + outcome.run.seconds
    )


# --- the server's life ----------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_port_in_use_is_a_startup_error_naming_the_setting(
    app: App, settings: Settings, busy_port: int
) -> None:
    bot = build_bot(app, heartbeat=False)
    taken = settings.model_copy(update={"metrics_port": busy_port})
    with pytest.raises(StartupError, match=f"127.0.0.1:{busy_port} .*METRICS_PORT"):
        async with serve_metrics(bot, taken):
            pass
    async with serve_metrics(bot, settings) as server:  # no port: no server
        assert server is None


async def test_run_bot_serves_metrics_and_stops_the_server_on_shutdown(
    settings: Settings, fake: FakeDiscord
) -> None:
    port = free_port()
    with_metrics = settings.model_copy(update={"metrics_port": port})
    with fake.patch_discord():
        runner = asyncio.create_task(run_bot(with_metrics))
        await eventually(lambda: fake.connected_clients > 0)
        samples = await scrape(port)
        assert value(samples, "tutorbot_outbox_pending") == 0
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(runner, 10)
    with pytest.raises(aiohttp.ClientConnectionError):
        await scrape(port)


async def test_a_modal_submission_is_counted_under_its_feature(
    tutor: TutorBot, fake: FakeDiscord, metrics_port: int
) -> None:
    opened = await fake.slash("lab review")
    assert opened.modal is not None
    answered = await fake.submit_modal(
        "labreviewmodal", {"dockerfile": 'FROM busybox:1.36\nCMD ["true"]\n', "dockerignore": ""}
    )
    await answered.wait(lambda r: bool(r.followups), timeout=10)
    samples = await scrape(metrics_port)
    for _ in range(100):
        if value(samples, "tutorbot_interactions_total", command="labs", outcome="ok"):
            break
        await asyncio.sleep(0.02)
        samples = await scrape(metrics_port)
    assert value(samples, "tutorbot_interactions_total", command="labs", outcome="ok") == 1
    assert value(samples, "tutorbot_interaction_seconds_count", command="labs") == 1
