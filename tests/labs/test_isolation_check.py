"""Graded labs turn on only after the daemon as it is now passed the isolation check: at
start-up, when it comes up late, and again when it comes back after going away.

The daemon that is not there is a socket path nothing listens on. The one that comes up is
either stood in for (it answers, it fetches for learners or not, and it records what it was
asked, in order) or, on the real lab daemon, a symlink to its socket that appears and goes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import docker
import pytest

from bot.labs.results import BuildResult, Outcome
from bot.labs.sandbox import Sandbox, SandboxUnavailable
from bot.services import labs as labs_module
from bot.services.labs import EXPOSED, LabService, SandboxOff
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.labs.conftest import short_limits, solution

EXERCISE = "p02-ex-ghost-file"


@pytest.fixture
async def labs(
    lab_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LabService]:
    """Labs on a daemon socket where nothing listens yet; every ask asks the daemon."""
    monkeypatch.setattr(labs_module, "STATUS_TTL", 0.0)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    settings = short_limits(require_isolation=True, docker_host=f"unix://{tmp_path / 'lab.sock'}")
    yield LabService(create_sessionmaker(engine), CourseStore(lab_course), lab_settings=settings)
    await engine.dispose()


class StandIn:
    """The lab daemon, stood in for once it comes up; `asked` is what the service asked of it."""

    def __init__(self, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[str] = []
        self.fetches = False
        self.breaks_on: str | None = None
        self._sandbox, self._monkeypatch = sandbox, monkeypatch
        for name in ("prepare", "fetches_for_learners", "run_job"):
            monkeypatch.setattr(sandbox, name, self._recorder(name))
        monkeypatch.setattr(sandbox, "sweep", lambda older_than: 0)

    def _recorder(self, name: str) -> Callable[..., object]:
        def asked(*_args: object) -> object:
            self.asked.append(name)
            if name == self.breaks_on:
                raise SandboxUnavailable("the daemon went away")
            if name == "run_job":
                return Outcome("job", BuildResult(False, 0.1, "a stand-in build"))
            return self.fetches if name == "fetches_for_learners" else None

        return asked

    def answers(self, answering: bool) -> None:
        self._monkeypatch.setattr(self._sandbox, "available", lambda: answering)


async def grade(labs: LabService) -> None:
    await labs.grade(1, EXERCISE, solution(EXERCISE, "pass"))


async def test_a_daemon_that_comes_up_late_is_checked_before_the_first_job(
    labs: LabService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await labs.start_up()  # nothing listens at the socket: off, and nothing checked
    assert not await labs.sandbox_on()
    with pytest.raises(SandboxOff):
        await grade(labs)

    daemon = StandIn(labs.sandbox, monkeypatch)
    assert daemon.asked == []
    daemon.answers(True)
    await grade(labs)
    await grade(labs)
    assert daemon.asked == ["prepare", "fetches_for_learners", "run_job", "run_job"]
    assert labs.isolation_checked_at is not None and not labs.exposed


async def test_an_exposed_daemon_that_comes_up_late_keeps_graded_labs_off(
    labs: LabService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await labs.start_up()
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.fetches = True  # it reaches this host's network
    daemon.answers(True)
    for _ in range(3):
        with pytest.raises(SandboxOff):
            await grade(labs)
    assert not await labs.sandbox_on()
    assert daemon.asked == ["prepare", "fetches_for_learners"]  # judged once, never run
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [EXPOSED]
    assert labs.exposed and labs.isolation_checked_at is None


async def test_a_daemon_that_comes_back_is_checked_again(
    labs: LabService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    await labs.start_up()
    assert await labs.sandbox_on()

    daemon.answers(False)  # restarted, and this time it reaches the host's network
    assert not await labs.sandbox_on()
    assert "the lab daemon stopped answering" in caplog.text
    daemon.fetches = True
    daemon.answers(True)
    assert not await labs.sandbox_on()
    assert labs.exposed

    daemon.answers(False)  # restarted again, fixed
    assert not await labs.sandbox_on()
    daemon.fetches = False
    daemon.answers(True)
    assert await labs.sandbox_on()
    assert daemon.asked.count("fetches_for_learners") == 3


async def test_a_verdict_is_redone_after_a_while_even_if_no_ask_saw_the_daemon_go(
    labs: LabService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon restarted with other settings between two asks answers as before: only a
    fresh check, RECHECK_AFTER after the last, sees what it is now (both ways)."""
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    await grade(labs)
    daemon.fetches = True  # restarted unseen, now on the host's network
    await grade(labs)  # within RECHECK_AFTER: the old verdict holds
    assert daemon.asked == ["prepare", "fetches_for_learners", "run_job", "run_job"]
    monkeypatch.setattr(labs_module, "RECHECK_AFTER", 0.0)
    with pytest.raises(SandboxOff):
        await grade(labs)
    assert labs.exposed and daemon.asked[4:] == ["prepare", "fetches_for_learners"]
    daemon.fetches = False  # fixed: the next check turns graded labs back on
    await grade(labs)
    assert not labs.exposed and daemon.asked[-1] == "run_job"


async def test_a_daemon_restarted_between_two_asks_is_judged_again_at_once(
    labs: LabService,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its socket is made anew: the next ask sees that, well before RECHECK_AFTER."""
    socket = tmp_path / "lab.sock"  # stands for the daemon's socket: only its identity counts
    socket.touch()
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    await grade(labs)
    await grade(labs)  # the same socket: the verdict holds
    assert daemon.asked == ["prepare", "fetches_for_learners", "run_job", "run_job"]

    replacement = tmp_path / "new.sock"
    replacement.touch()
    os.replace(replacement, socket)  # restarted, now on the host's network
    daemon.fetches = True
    with pytest.raises(SandboxOff):
        await grade(labs)
    assert daemon.asked[4:] == ["prepare", "fetches_for_learners"]
    assert labs_module.DAEMON_NEW in caplog.text and labs.exposed

    socket.unlink()  # stopped: said as such, not as a new daemon
    daemon.answers(False)
    caplog.clear()
    assert not await labs.sandbox_on()
    assert labs_module.DAEMON_GONE in caplog.text and labs_module.DAEMON_NEW not in caplog.text


async def test_a_socket_seen_gone_is_a_daemon_gone_even_if_the_next_one_already_answers(
    labs: LabService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The old daemon removed its socket; by the ping, a new one (exposed) made its own."""
    socket = tmp_path / "lab.sock"
    socket.touch()
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    assert await labs.sandbox_on()
    socket.unlink()
    daemon.fetches = True
    assert not await labs.sandbox_on()
    assert labs.exposed and daemon.asked == ["prepare", "fetches_for_learners"] * 2


async def test_a_job_that_finds_the_daemon_gone_has_it_checked_again(
    labs: LabService, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    await labs.start_up()
    daemon.breaks_on = "run_job"
    with pytest.raises(SandboxOff):
        await grade(labs)
    daemon.breaks_on = None
    await grade(labs)
    assert daemon.asked == [
        *("prepare", "fetches_for_learners", "run_job"),
        *("prepare", "fetches_for_learners", "run_job"),
    ]


async def test_a_check_the_daemon_broke_off_is_tried_again(
    labs: LabService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.answers(True)
    daemon.breaks_on = "fetches_for_learners"
    await labs.start_up()
    assert not await labs.sandbox_on()
    assert "lab sandbox set-up failed: the daemon went away" in caplog.text
    daemon.breaks_on = None
    assert await labs.sandbox_on()
    assert daemon.asked.count("fetches_for_learners") == 3


async def test_without_required_isolation_a_late_daemon_is_used_unchecked(
    labs: LabService, monkeypatch: pytest.MonkeyPatch
) -> None:
    labs.lab_settings.require_isolation = False
    await labs.start_up()
    daemon = StandIn(labs.sandbox, monkeypatch)
    daemon.fetches = True  # not asked
    daemon.answers(True)
    assert await labs.sandbox_on()
    assert daemon.asked == ["prepare"]
    assert labs.isolation_checked_at is None


@pytest.mark.docker
async def test_the_real_lab_daemon_is_checked_when_its_socket_appears(
    labs: LabService,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = os.environ.get("LAB_DOCKER_HOST", "")
    if not real.startswith("unix://") or not os.environ.get("CI"):
        pytest.skip("needs CI's network-less lab daemon on a unix socket (LAB_DOCKER_HOST)")
    checks: list[bool] = []
    original = labs.sandbox.fetches_for_learners

    def check() -> bool:
        checks.append(original())
        return checks[-1]

    monkeypatch.setattr(labs.sandbox, "fetches_for_learners", check)
    socket = tmp_path / "lab.sock"
    await labs.start_up()
    assert not await labs.sandbox_on() and checks == []

    socket.symlink_to(real.removeprefix("unix://"))  # the daemon comes up
    grade_, _ = await labs.grade(1, EXERCISE, solution(EXERCISE, "pass"))
    assert grade_.passed and checks == [False]

    socket.unlink()  # ...goes away, and comes back
    assert not await labs.sandbox_on()
    socket.symlink_to(real.removeprefix("unix://"))
    assert await labs.sandbox_on()
    assert checks == [False, False]
