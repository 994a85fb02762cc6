"""Hostile submissions against the lab sandbox with the server's default limits: what held, how
long each job took, and what was left behind.

    LAB_DOCKER_HOST=unix:///run/tutor-lab/docker.sock .venv/bin/python bench/bench_lab_abuse.py

Needs the lab daemon (scripts/lab-daemon.sh); imports tutor-lab/busybox:latest there when it is
missing. Refusals (issue 11's F1-F9) are timed without building anything. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import docker

from bot.config import default_course_dir
from bot.labs.baseimage import DEFAULT_REF, ensure_busybox_image
from bot.labs.preflight import Refused
from bot.labs.settings import LabSettings
from bot.services.labs import LabService
from content.model import Exercise, Lab, LabExpect
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker

SH = 'FROM busybox:latest\nCMD ["sh", "-c", "{}"]\n'
# name -> (Dockerfile, the check that must fail)
RUNS = {
    "fork bomb (run)": (SH.format("f(){ f | f & }; f; sleep 30"), "exits with code 0"),
    "memory hog (run)": (SH.format("head -c 400m /dev/zero | tail"), "exits with code 0"),
    "sleep forever (run)": (SH.format("sleep 3600"), "exits with code 0"),
    "/dev/shm fill (run)": (SH.format("dd if=/dev/zero of=/dev/shm/x bs=1M count=32"), ""),
    "600 MB written (build)": (
        "FROM busybox:latest\nRUN dd if=/dev/zero of=/big bs=1M count=600\n",
        "the image builds",
    ),
    "400,000 files (build, F8)": (
        "FROM busybox:latest\nRUN mkdir /m && cd /m && seq 1 400000 | xargs touch\n",
        "the image builds",
    ),
    "99 ENV steps (build, F6)": ("FROM busybox:latest\n" + "ENV a=1\n" * 98, ""),
    "passwd uid 0 (F5)": (
        "FROM busybox:latest\nRUN echo 'evil:x::0::/:/bin/sh' >> /etc/passwd\nUSER evil\n"
        'CMD ["id", "-u"]\n',
        "runs as a non-root user",
    ),
}
REFUSED = {
    "ADD $URL (F1)": "FROM busybox\nARG U=http://169.254.169.254/\nADD $U /x\n",
    "FROM<TAB>alpine (F2)": "FROM\talpine\n",
    "forged job label (F3)": "FROM busybox\nLABEL tutor-lab.job=x\n",
    "VOLUME (F4)": "FROM busybox\nVOLUME /data\n",
    "1,000 ENV (F6)": "FROM busybox\n" + "ENV a=1\n" * 1000,
}


def exercise() -> Exercise:
    expect = LabExpect(exit_code=0, non_root=True)
    lab = Lab(("Dockerfile",), ("busybox:latest",), expect, timeout=20)
    return Exercise("bench-abuse", 9, 1, "Abuse", "", "", {}, 1, lab)


async def main() -> None:
    settings = LabSettings(cooldown=0.0, images={"busybox:latest": DEFAULT_REF})
    client = (
        docker.DockerClient(base_url=settings.docker_host)
        if settings.docker_host
        else (docker.from_env())
    )
    ensure_busybox_image(client, DEFAULT_REF)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}")
        labs = LabService(
            create_sessionmaker(engine), CourseStore(default_course_dir()), lab_settings=settings
        )
        labs.sandbox.prepare()
        limits = (
            f"{settings.memory_mb} MB, {settings.cpus:g} CPU, {settings.pids} pids, "
            f"build {settings.build_timeout:g} s, run {settings.run_timeout:g} s, "
            f"{settings.max_write_mb} MB per build step"
        )
        print(f"limits: {limits}; daemon {settings.docker_host or 'default'}")
        print(f"{'attack':28} {'seconds':>8}  verdict")
        for name, text in REFUSED.items():
            started = time.perf_counter()
            try:
                await labs.grade_exercise(1, exercise(), {"Dockerfile": text})
                verdict = "NOT REFUSED"
            except Refused as exc:
                verdict = "refused: " + exc.reasons[0][:60]
            print(f"{name:28} {time.perf_counter() - started:8.3f}  {verdict}")
        for name, (text, must_fail) in RUNS.items():
            started = time.perf_counter()
            grade, _ = await labs.grade_exercise(1, exercise(), {"Dockerfile": text})
            seconds = time.perf_counter() - started
            failed = {c.name: c.detail for c in grade.checks if not c.passed}
            held = must_fail in failed if must_fail else True
            detail = failed.get(must_fail, "") if must_fail else grade.log.strip()[-60:]
            detail = " ".join(detail.split())
            print(f"{name:28} {seconds:8.1f}  {'held' if held else 'NOT HELD'}: {detail[:70]}")
        await engine.dispose()
    await asyncio.sleep(15)  # an aborted build's late cleanup
    usage = client.df()
    kept = [i for i in usage["Images"] if "tutor-lab.base" not in (i.get("Labels") or {})]
    print(
        f"left on the daemon: {len(usage['Containers'])} containers, {len(kept)} images, "
        f"{len(usage['Volumes'] or [])} volumes, {len(usage.get('BuildCache') or [])} cache"
    )


if __name__ == "__main__":
    asyncio.run(main())
