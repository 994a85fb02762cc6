"""The abuse suite against the real daemon: the sandbox holds, reports why, and leaves nothing.

Limits here are the short ones of `short_limits()`: 64 MB, 32 processes, a 4 s run and a
20 s build. Each test also checks that its own job left no container or image behind; the
session fixture checks every job of the run once more at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import docker.errors
import pytest

from bot.labs.preflight import Refused
from bot.labs.sandbox import Sandbox
from bot.services.labs import Grade, LabService
from content.model import Exercise, Lab, LabExpect
from content.store import CourseStore
from storage.db import create_engine, create_sessionmaker
from tests.content.conftest import VALID
from tests.labs.conftest import RecordingSandbox, short_limits

pytestmark = pytest.mark.docker


@pytest.fixture
async def labs(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[LabService]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    service = LabService(
        create_sessionmaker(engine), CourseStore(VALID), lab_settings=short_limits()
    )
    service.sandbox = sandbox
    yield service
    await engine.dispose()


def exercise(command: list[str] | None = None, timeout: float = 4, **expect: object) -> Exercise:
    lab = Lab(
        ("Dockerfile",),
        ("busybox:latest",),
        LabExpect(**expect),  # type: ignore[arg-type]
        command=tuple(command) if command else None,
        timeout=timeout,
    )
    return Exercise("abuse", 9, 1, "Abuse", "", "", {}, 1, lab)


async def graded(labs: LabService, dockerfile: str, ex: Exercise) -> Grade:
    grade, outcome = await labs.grade_exercise(1, ex, {"Dockerfile": dockerfile})
    await no_leftovers(labs.sandbox, outcome.job_id)
    return grade


async def no_leftovers(sandbox: Sandbox, job_id: str, wait: float = 30) -> None:
    """Nothing of the job remains; an aborted build is cleaned up once the daemon lets go."""
    for _ in range(int(wait * 2)):
        if sandbox.leftovers([job_id]) == []:
            return
        await asyncio.sleep(0.5)
    assert sandbox.leftovers([job_id]) == []


def detail(grade: Grade, name: str) -> tuple[bool, str]:
    found = {c.name: (c.passed, c.detail) for c in grade.checks}
    assert name in found, found
    return found[name]


SHELL = 'FROM busybox:latest\nCMD ["sh", "-c", "{}"]\n'


async def test_a_well_behaved_image_passes_with_facts(labs: LabService) -> None:
    text = 'FROM busybox:latest\nRUN echo hi > /hello\nUSER 65534\nCMD ["cat", "/hello"]\n'
    grade = await graded(
        labs, text, exercise(exit_code=0, stdout_contains=("hi",), non_root=True, max_layers=2)
    )
    assert grade.passed, grade.checks
    assert grade.build_seconds > 0 and grade.image_bytes and grade.image_bytes < 3_000_000
    assert grade.log.strip() == "hi"


async def test_added_size_and_layers_are_measured_against_the_real_base(
    labs: LabService,
) -> None:
    text = "FROM busybox:latest\nRUN head -c 300000 /dev/zero > /blob\nRUN echo x > /y\n"
    grade = await graded(labs, text, exercise(max_added_mb=0.35, max_added_layers=1))
    assert detail(grade, "adds at most 0.35 MB to its base image")[0] is True
    passed, why = detail(grade, "adds at most 1 layer to its base image")
    assert not passed and why.startswith("2 layers on top of the base image's 1")


# After the bomb only shell builtins run (a busy loop, a glob over /proc, echo): the bomb keeps
# every pid taken, so a command that forks (sleep, ls) would fail and flake under load.
FORK_BOMB_THEN_COUNT = (
    "f(){ f | f & }; f; i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; "
    "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n"
)


async def test_a_fork_bomb_is_held_by_the_pids_limit(labs: LabService) -> None:
    grade = await graded(labs, SHELL.format(FORK_BOMB_THEN_COUNT), exercise(exit_code=0))
    passed, why = detail(grade, "exits with code 0")
    assert passed, why
    counts = [int(line) for line in grade.log.splitlines() if line.isdigit()]
    assert counts and counts[-1] <= short_limits().pids
    assert "can't fork" in grade.log  # it did hit the limit


async def test_a_fork_bomb_in_a_build_step_is_held_too(labs: LabService) -> None:
    if not labs.sandbox.build_pids_limited:
        pytest.skip("this host does not let the tests set a pids limit on build steps")
    text = f'FROM busybox:latest\nRUN {FORK_BOMB_THEN_COUNT} > /count\nCMD ["cat", "/count"]\n'
    grade = await graded(labs, text, exercise(exit_code=0))
    built, why = detail(grade, "the image builds")
    assert built, why
    assert 0 < int(grade.log.strip()) <= short_limits().build_pids


async def test_a_memory_hog_is_reported_out_of_memory(labs: LabService) -> None:
    hog = SHELL.format("x=$(yes | head -c 300000000); echo done")
    grade = await graded(labs, hog, exercise(exit_code=0))
    passed, why = detail(grade, "exits with code 0")
    assert not passed
    assert why == "killed by the OOM killer: out of memory (exit 137, limit 64 MB)"


async def test_an_endless_loop_is_killed_at_the_limit(labs: LabService) -> None:
    grade = await graded(
        labs, SHELL.format("while :; do :; done"), exercise(exit_code=0, timeout=2)
    )
    assert detail(grade, "exits with code 0") == (
        False,
        "still running at the 2 s limit, so it was killed",
    )


async def test_an_endless_build_step_is_killed_at_the_limit(labs: LabService) -> None:
    text = "FROM busybox:latest\nRUN while :; do :; done\n"
    grade = await graded(labs, text, exercise(exit_code=0))
    limit = labs.lab_settings.build_timeout
    assert detail(grade, "the image builds") == (False, f"the build took longer than {limit:g} s")


async def test_a_flood_of_output_is_truncated(labs: LabService) -> None:
    grade = await graded(
        labs, 'FROM busybox:latest\nCMD ["yes"]\n', exercise(exit_code=0, timeout=2)
    )
    assert grade.log.endswith("[output truncated]")
    assert len(grade.log) <= short_limits().max_output_kb * 1024 + 100


async def test_a_build_step_that_writes_too_much_is_stopped(labs: LabService) -> None:
    text = "FROM busybox:latest\nRUN dd if=/dev/zero of=/big bs=1M count=2000\n"
    grade = await graded(labs, text, exercise(exit_code=0))
    assert detail(grade, "the image builds") == (False, "a build step wrote more than 64 MB")


# The connection attempts below run only where the namespace has no route at all, so even a
# broken sandbox could never send a packet anywhere.
NO_ROUTE_THEN_CONNECT = (
    '[ -z "$(ip route)" ] || { echo has-routes; exit 3; }; nc -w 1 192.0.2.1 80 </dev/null 2>&1'
)


async def test_the_network_is_out_of_reach(labs: LabService) -> None:
    probe = SHELL.format(
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; "
        + NO_ROUTE_THEN_CONNECT.replace('"', '\\"')
        + "; echo nc=$?"
    )
    grade = await graded(labs, probe, exercise(exit_code=0))
    assert grade.log.splitlines()[0] == "lo"  # no interface but loopback
    assert "Network is unreachable" in grade.log and "nc=1" in grade.log
    build = "FROM busybox:latest\nRUN " + NO_ROUTE_THEN_CONNECT + "\n"
    grade = await graded(labs, build, exercise())
    assert not detail(grade, "the image builds")[0]
    assert "Network is unreachable" in grade.log


async def test_the_root_filesystem_is_read_only_and_nobody_is_root(labs: LabService) -> None:
    probe = SHELL.format("id -u; echo x > /owned; echo rc=$?; echo y > /tmp/ok && echo tmp=ok")
    grade = await graded(labs, probe, exercise(exit_code=0))
    lines = grade.log.splitlines()
    assert lines[0] == "65534"
    assert "Read-only file system" in grade.log and "rc=1" in grade.log
    assert "tmp=ok" in grade.log


async def test_refused_before_anything_runs(labs: LabService) -> None:
    for text, reason in [
        ("FROM busybox:latest\nADD http://example.org/x /x\n", "`ADD http://example.org/x` is"),
        ("FROM alpine:3.20\n", "FROM `alpine:3.20` is not allowed here"),
    ]:
        with pytest.raises(Refused, match="Nothing was built") as caught:
            await labs.grade_exercise(1, exercise(), {"Dockerfile": text})
        assert any(reason in r for r in caught.value.reasons)
    assert labs.queue.running == 0


async def test_a_missing_base_image_is_never_pulled(labs: LabService) -> None:
    labs.lab_settings = short_limits(images={"busybox:latest": "tutor-lab/absent:never"})
    grade, _ = await labs.grade_exercise(1, exercise(), {"Dockerfile": "FROM busybox:latest\n"})
    passed, why = detail(grade, "the image builds")
    assert not passed and "is not on this server (the sandbox never pulls)" in why


async def test_the_sweep_removes_what_a_crashed_job_left(
    docker_client: docker.DockerClient,
) -> None:
    box = RecordingSandbox(short_limits())
    left = docker_client.containers.create(
        "tutor-lab/busybox:latest",
        ["true"],
        labels={"tutor-lab.job": "crashed1", "tutor-lab.created": "1"},
    )
    fresh = docker_client.containers.create(
        "tutor-lab/busybox:latest",
        ["true"],
        labels={"tutor-lab.job": "running1", "tutor-lab.created": str(int(time.time()))},
    )
    forged = docker_client.containers.create(  # a stamp from the future is nobody's job
        "tutor-lab/busybox:latest",
        ["true"],
        labels={"tutor-lab.job": "forged1", "tutor-lab.created": "99999999999"},
    )
    try:
        assert box.sweep(older_than=60) >= 2
        assert box.leftovers(["crashed1", "forged1"]) == []
        assert box.leftovers(["running1"]) != []  # a job still in flight stays
    finally:
        for container in (left, fresh, forged):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


# --- the attacks of issue 11 that get past the preflight by design: the run itself must hold


async def test_a_passwd_entry_with_an_empty_uid_is_judged_root_and_runs_as_nobody(
    labs: LabService,
) -> None:
    text = (
        "FROM busybox:latest\nRUN echo 'evil:x::0::/:/bin/sh' >> /etc/passwd\nUSER evil\n"
        'CMD ["sh", "-c", "id -u; id -g"]\n'
    )
    grade = await graded(labs, text, exercise(exit_code=0, non_root=True))
    passed, why = detail(grade, "runs as a non-root user")
    assert not passed and "makes uid 0" in why
    assert grade.log.split() == ["65534", "65534"]


async def test_group_zero_is_never_granted(labs: LabService) -> None:
    text = 'FROM busybox:latest\nUSER 65534:0\nCMD ["sh", "-c", "id -u; id -g"]\n'
    grade = await graded(labs, text, exercise(exit_code=0))
    assert grade.log.split() == ["65534", "65534"]


async def test_dev_shm_is_not_a_second_tmp(labs: LabService) -> None:
    write = SHELL.format("dd if=/dev/zero of=/dev/shm/x bs=1M count=8 2>/dev/null; echo $?")
    grade = await graded(labs, write, exercise(exit_code=0))
    assert grade.log.strip() != "0", "8 MB fitted in /dev/shm"


async def test_a_build_that_keeps_the_daemon_busy_ends_at_its_deadline(
    labs: LabService,
) -> None:
    # F8: the step is killed, then the daemon would spend a long time committing its files
    text = "FROM busybox:latest\nRUN mkdir /m && cd /m && seq 1 400000 | xargs touch\n"
    grade = await graded(labs, text, exercise(exit_code=0))
    limit = labs.lab_settings.build_timeout
    assert detail(grade, "the image builds") == (False, f"the build took longer than {limit:g} s")
    assert grade.build_seconds < limit + 3


async def test_build_logs_carry_no_terminal_escapes(labs: LabService) -> None:
    text = "FROM busybox:latest\nRUN printf '\\033[31mred\\033[0m\\n'; exit 3\n"
    grade = await graded(labs, text, exercise(exit_code=0))
    assert "red" in grade.log and "\x1b" not in grade.log


async def test_the_lab_daemon_fetches_nothing_for_learners(sandbox: Sandbox) -> None:
    """F1's last line of defence: CI's lab daemon lives in a network namespace of its own."""
    if not os.environ.get("CI"):
        pytest.skip("CI runs the labs on the network-less lab daemon (scripts/lab-daemon.sh)")
    assert not await asyncio.to_thread(sandbox.fetches_for_learners)


async def test_the_isolation_check_sees_a_daemon_that_can_fetch(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The same check against a server inside the lab daemon's own namespace: reachable."""
    netns = os.environ.get("LAB_NETNS", "tutor-lab")
    if not Path("/var/run/netns", netns).exists() or not shutil.which("ip"):
        pytest.skip(f"no network namespace {netns!r} (scripts/lab-daemon.sh makes it)")
    (tmp_path / "probe").write_text("inside\n")
    server = await asyncio.create_subprocess_exec(
        *("ip", "netns", "exec", netns, sys.executable, "-m", "http.server", "8799"),
        *("--bind", "127.0.0.1", "--directory", str(tmp_path)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(1.5)
        assert await asyncio.to_thread(sandbox.daemon_fetches, "http://127.0.0.1:8799/probe")
    finally:
        server.terminate()
        await server.wait()


async def test_a_container_that_cannot_start_is_a_failed_check(labs: LabService) -> None:
    text = "FROM busybox:latest AS b\nFROM scratch\nCOPY --from=b /bin/busybox /bb\nCMD echo hi\n"
    grade = await graded(labs, text, exercise(exit_code=0))
    passed, why = detail(grade, "the container starts")
    assert not passed and "/bin/sh" in why and "unknown" not in why


async def test_an_oom_kill_is_told_from_other_kills(labs: LabService) -> None:
    hog = SHELL.format("echo starting; head -c 200m /dev/zero | tail")
    grade = await graded(labs, hog, exercise(oom_killed=True, output_excludes=("secret",)))
    assert detail(grade, "killed by the OOM killer")[0] is True
    assert detail(grade, "output never shows `secret`")[0] is True
    calm = SHELL.format("echo fine")
    grade = await graded(labs, calm, exercise(oom_killed=True))
    assert detail(grade, "killed by the OOM killer")[0] is False


async def test_a_uid_beyond_32_bits_is_not_root_in_disguise(labs: LabService) -> None:
    """Docker truncates 4294967296 to 0: such an id is unusable, and the job runs as 65534."""
    text = (
        "FROM busybox:latest\n"
        "RUN echo 'evil:x:4294967296:4294967296::/:/bin/sh' >> /etc/passwd\n"
        'USER evil\nCMD ["sh", "-c", "id -u; id -g"]\n'
    )
    grade = await graded(labs, text, exercise(exit_code=0, non_root=True))
    passed, why = detail(grade, "runs as a non-root user")
    assert not passed and "no usable uid" in why
    assert grade.log.split() == ["65534", "65534"]
