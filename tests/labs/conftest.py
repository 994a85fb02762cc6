"""Fixtures for the lab tests: a real Docker daemon, a tiny local base image, test limits.

Docker tests are marked `docker`. With no daemon they skip, saying why, unless CI is set: in CI
an unreachable daemon fails them loudly (CI installs and starts one). They build their own base
image (`tutor-lab/busybox:latest`, imported from Debian's busybox-static), never pull, and
keep limits short so the folder stays quick. Every job a test ran is checked for leftovers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from bot.config import default_course_dir
from bot.labs.baseimage import ensure_busybox_image
from bot.labs.sandbox import Sandbox
from bot.labs.settings import LabSettings
from tests.bot.conftest import fake  # noqa: F401  (the loopback Discord, for the journey)

HERE = Path(__file__).parent
SOLUTIONS = HERE / "solutions"
TEST_IMAGE = "tutor-lab/busybox:latest"


def short_limits(**overrides: object) -> LabSettings:
    """Short limits; both course base images stand for the imported busybox. The daemon is
    LAB_DOCKER_HOST's (CI: the network-less lab daemon), else the default one; CI insists that
    it is isolated, a development machine does not."""
    values: dict[str, object] = {
        "require_isolation": bool(os.environ.get("CI")),
        "images": {"busybox:latest": TEST_IMAGE, "debian:bookworm-slim": TEST_IMAGE},
        "concurrency": 2,
        "queue_size": 4,
        "cooldown": 0.0,
        "memory_mb": 64,
        "pids": 32,
        "build_timeout": 20.0,  # roomy: the machine may be busy
        "run_timeout": 10.0,
        "max_write_mb": 64,
        "max_output_kb": 4,
        "build_pids": 64,
        "build_cgroup": "tutor-lab-test",
    }
    values.update(overrides)
    return LabSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = Sandbox(short_limits()).connect()
        client.ping()
    except docker.errors.DockerException as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Docker daemon and none is reachable: {exc}", pytrace=False)
        pytest.skip(f"no Docker daemon reachable ({exc.__class__.__name__}); CI runs these")
    ensure_busybox_image(client, TEST_IMAGE)
    yield client
    client.close()


@pytest.fixture(scope="session")
def sandbox(docker_client: docker.DockerClient) -> Iterator[Sandbox]:
    """One prepared sandbox for the session; afterwards, nothing of its jobs may remain."""
    box = RecordingSandbox(short_limits())
    box.prepare()
    yield box
    left = box.leftovers(box.job_ids)
    assert left == [], f"the sandbox left these behind: {left}"
    if os.environ.get("LAB_DOCKER_HOST"):  # a daemon of the labs' own: nothing else may remain
        assert daemon_leftovers(docker_client) == {}


def daemon_leftovers(client: docker.DockerClient) -> dict[str, int]:
    """What a dedicated lab daemon holds besides its base images, by kind; empty when clean."""
    usage = client.df()
    # by id: every job image inherits the base image's label, so the label proves nothing
    bases = {client.images.get(ref).id for ref in set(short_limits().images.values())}
    counts = {
        "containers": len(usage.get("Containers") or []),
        "images": sum(1 for i in usage.get("Images") or [] if i.get("Id") not in bases),
        "volumes": len(usage.get("Volumes") or []),
        "build cache": len(usage.get("BuildCache") or []),
    }
    return {kind: count for kind, count in counts.items() if count}


class RecordingSandbox(Sandbox):
    """A sandbox that remembers the ids of the jobs it ran, to check that they left nothing."""

    def __init__(self, settings: LabSettings) -> None:
        super().__init__(settings)
        self.job_ids: list[str] = []

    def run_job(self, job, base_refs):  # type: ignore[no-untyped-def]
        self.job_ids.append(job.id)
        return super().run_job(job, base_refs)


# --- the graded exercises ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def lab_course() -> Path:
    """The shipped course: its articles carry the labs."""
    return default_course_dir()


def graded_exercises(*, compose: bool | None = None) -> list[str]:
    """Every exercise of the shipped course that carries a lab, by id; only the Compose labs
    (compose=True) or only those the sandbox builds (compose=False)."""
    from content.store import CourseStore

    course = CourseStore(default_course_dir()).course
    return sorted(
        e.id
        for part in course.parts.values()
        for e in part.exercises
        if e.lab and (compose is None or (e.lab.compose is not None) == compose)
    )


def solution(exercise_id: str, kind: str) -> dict[str, str]:
    """The files of an exercise's `pass` or `fail` answer in tests/labs/solutions."""
    folder = SOLUTIONS / exercise_id / kind
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def fails_on(exercise_id: str) -> list[str]:
    """The checks a broken answer must fail, one a line: those that teach the exercise's point."""
    text = (SOLUTIONS / exercise_id / "fails_on.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]
