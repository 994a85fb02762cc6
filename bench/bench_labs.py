"""Lab timings: the review of a typical Dockerfile, one sandbox round trip, and throughput.

    .venv/bin/python bench/bench_labs.py [--repeat 10] [--jobs 8]

Needs a Docker daemon for the sandbox parts (they are skipped without one) and imports
tutor-lab/busybox:latest from Debian's busybox-static when it is missing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

from bot.config import default_course_dir
from bot.labs.baseimage import DEFAULT_REF, ensure_busybox_image
from bot.labs.review import review_dockerfile
from bot.labs.sandbox import Sandbox
from bot.labs.settings import LabSettings
from bot.services.labs import LabService
from content.model import Exercise, Lab, LabExpect
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker

TYPICAL = """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y curl build-essential
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
ENV DJANGO_SECRET_KEY=change-me
EXPOSE 8000
CMD python manage.py runserver 0.0.0.0:8000
"""
TRIVIAL = {"Dockerfile": 'FROM busybox:latest\nRUN echo built > /built\nCMD ["cat", "/built"]\n'}
EXERCISE = Exercise(
    "bench-trivial",
    0,
    1,
    "Trivial",
    "",
    "",
    {},
    1,
    Lab(("Dockerfile",), ("busybox:latest",), LabExpect(exit_code=0, stdout_contains=("built",))),
)


JOBS: list[str] = []  # every job the benchmark ran, to check that none left anything


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def bench_review(repeat: int) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        review = review_dockerfile(TYPICAL)
        times.append(time.perf_counter() - started)
    assert review.hadolint_ran, review.note
    print(
        f"review (hadolint + course rules, {len(review.findings)} findings): "
        f"best {ms(min(times))}, median {ms(statistics.median(times))}"
    )


def service(concurrency: int, database: Path) -> LabService:
    settings = LabSettings(
        images={"busybox:latest": DEFAULT_REF},
        concurrency=concurrency,
        queue_size=100,
        cooldown=0,
    )
    sessions = create_sessionmaker(create_engine(f"sqlite+aiosqlite:///{database}"))
    labs = LabService(sessions, CourseStore(default_course_dir()), lab_settings=settings)
    labs.sandbox.prepare()
    return labs


async def bench_round_trip(labs: LabService, repeat: int) -> None:
    times, builds = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        grade, outcome = await labs.grade_exercise(1, EXERCISE, TRIVIAL)
        JOBS.append(outcome.job_id)
        times.append(time.perf_counter() - started)
        builds.append(grade.build_seconds)
        assert grade.passed, grade.checks
    print(
        f"sandbox round trip (build + run + checks + cleanup): best {ms(min(times))}, "
        f"median {ms(statistics.median(times))} (of which build {ms(statistics.median(builds))})"
    )


async def bench_throughput(labs: LabService, jobs: int) -> None:
    started = time.perf_counter()
    grades = await asyncio.gather(
        *(labs.grade_exercise(owner, EXERCISE, TRIVIAL) for owner in range(1, jobs + 1))
    )
    elapsed = time.perf_counter() - started
    assert all(grade.passed for grade, _ in grades)
    JOBS.extend(outcome.job_id for _, outcome in grades)
    print(
        f"concurrency {labs.lab_settings.concurrency}: {jobs} submissions in {elapsed:.1f} s "
        f"= {jobs / elapsed * 60:.0f} submissions/minute"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    bench_review(args.repeat)
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        print(f"no Docker daemon ({exc.__class__.__name__}): sandbox figures skipped")
        return
    ensure_busybox_image(client, DEFAULT_REF)
    with tempfile.TemporaryDirectory() as folder:
        await bench_round_trip(service(1, Path(folder, "a.db")), args.repeat)
        for concurrency in (1, 2):
            await bench_throughput(service(concurrency, Path(folder, "b.db")), args.jobs)
    left = Sandbox(LabSettings()).leftovers(JOBS)
    print(f"left behind by the {len(JOBS)} jobs: {len(left)} containers or images")


if __name__ == "__main__":
    asyncio.run(main())
