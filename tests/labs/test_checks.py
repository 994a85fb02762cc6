"""Verdicts and their reasons, from what the sandbox saw (no daemon needed)."""

from __future__ import annotations

from bot.labs.checks import grade_outcome
from bot.labs.results import BuildResult, ImageFacts, Outcome, RunResult
from content.model import Lab, LabExpect


def lab(**expect: object) -> Lab:
    return Lab(("Dockerfile",), ("busybox:latest",), LabExpect(**expect))  # type: ignore[arg-type]


def image(**facts: object) -> ImageFacts:
    values: dict[str, object] = {
        "size_bytes": 2_000_000,
        "layers": 2,
        "user": "",
        "uid": 0,
        "healthcheck": False,
    }
    values.update(facts)
    return ImageFacts(**values)  # type: ignore[arg-type]


def run(**facts: object) -> RunResult:
    values: dict[str, object] = {
        "exit_code": 0,
        "oom_killed": False,
        "timed_out": False,
        "stdout": "",
        "stderr": "",
        "truncated": False,
        "seconds": 0.5,
    }
    values.update(facts)
    return RunResult(**values)  # type: ignore[arg-type]


BUILT = BuildResult(True, 1.25, "log", image_id="sha256:x")


def verdicts(the_lab: Lab, outcome: Outcome) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.passed, c.detail) for c in grade_outcome(the_lab, outcome, 64, 5)}


def test_a_failed_build_is_the_only_check() -> None:
    failed = Outcome("j", BuildResult(False, 2.0, "", error="returned a non-zero code: 1"))
    assert verdicts(lab(exit_code=0), failed) == {
        "the image builds": (False, "returned a non-zero code: 1")
    }
    missing = Outcome("j", BuildResult(False, 0, ""), refused="base image x is not on this server")
    assert verdicts(lab(), missing)["the image builds"][0] is False


def test_image_checks() -> None:
    seen = image(
        user="app",
        uid=1000,
        healthcheck=True,
        size_bytes=4_200_000,
        layers=3,
        secrets_found={"hunter2": "a layer of the image"},
        present={"/tmp/x": True, "/gone": False},
    )
    result = verdicts(
        lab(
            non_root=True,
            healthcheck=True,
            max_size_mb=4,
            max_layers=2,
            no_secret=("hunter2", "other"),
            absent=("/tmp/x", "/gone"),
        ),
        Outcome("j", BUILT, seen),
    )
    assert result["the image builds"] == (True, "built in 1.2 s")
    assert result["runs as a non-root user"][0] is True
    assert result["declares a HEALTHCHECK"] == (True, "declared")
    assert result["image under 4 MB"] == (False, "4.2 MB (limit 4 MB)")
    assert result["at most 2 layers"][0] is False
    assert result["no secret (hun…) in the image"] == (
        False,
        "found in a layer of the image: deleting it in a later step does not remove it",
    )
    assert result["no secret (oth…) in the image"][0] is True
    assert result["/tmp/x is absent"] == (False, "`/tmp/x` is still in the image")
    assert result["/gone is absent"][0] is True


def test_root_is_named_and_explained() -> None:
    result = verdicts(lab(non_root=True), Outcome("j", BUILT, image()))
    assert result["runs as a non-root user"] == (
        False,
        "the image's user is root (no USER): add a `USER` with a non-zero id",
    )


def test_how_a_run_ended() -> None:
    expect = lab(exit_code=0, stdout_contains=("ready",))
    oom = verdicts(expect, Outcome("j", BUILT, image(), run(exit_code=137, oom_killed=True)))
    assert oom["exits with code 0"] == (
        False,
        "killed by the OOM killer: out of memory (exit 137, limit 64 MB)",
    )
    late = verdicts(expect, Outcome("j", BUILT, image(), run(exit_code=137, timed_out=True)))
    assert late["exits with code 0"] == (False, "still running at the 5 s limit, so it was killed")
    good = verdicts(expect, Outcome("j", BUILT, image(), run(stdout="ready\n")))
    assert good["exits with code 0"][0] and good["output contains `ready`"] == (True, "found")
    wrong = verdicts(lab(exit_code=2), Outcome("j", BUILT, image(), run(exit_code=3)))
    assert wrong["exits with code 2"] == (False, "exited with code 3 after 0.5 s")
    any_code = verdicts(lab(stdout_contains=("x",)), Outcome("j", BUILT, image(), run(exit_code=9)))
    assert any_code["runs to the end"][0] is True


def test_keeping_running_healthy_and_stopping() -> None:
    expect = lab(running_for=3, exit_on_stop=143)
    good = run(running_at_check=True, health="healthy", stop_exit_code=143, stop_seconds=0.2)
    result = verdicts(expect, Outcome("j", BUILT, image(), good))
    assert result["keeps running for 3 s and is healthy"] == (True, "running after 3 s, healthy")
    assert result["stops on SIGTERM with code 143"][0] is True
    ignored = run(running_at_check=True, stop_exit_code=137, stop_seconds=3.1)
    result = verdicts(expect, Outcome("j", BUILT, image(), ignored))
    assert result["stops on SIGTERM with code 143"] == (
        False,
        "`docker stop` took 3.1 s, exit code 137: SIGTERM was ignored, so it was killed",
    )
    sick = run(running_at_check=True, health="unhealthy")
    assert not verdicts(lab(running_for=3), Outcome("j", BUILT, image(), sick))[
        "keeps running for 3 s and is healthy"
    ][0]
    died = run(exit_code=1)
    result = verdicts(lab(running_for=3), Outcome("j", BUILT, image(), died))
    assert result["keeps running for 3 s"] == (
        False,
        "exited with code 1 after 0.5 s; it should keep running",
    )


def test_added_size_and_layers_count_from_the_base_image() -> None:
    seen = image(size_bytes=4_700_000, layers=3, base_size_bytes=4_300_000, base_layers=1)
    result = verdicts(lab(max_added_mb=0.5, max_added_layers=1), Outcome("j", BUILT, seen))
    assert result["adds at most 0.5 MB to its base image"] == (
        True,
        "400 kB on top of the base image's 4.3 MB",
    )
    assert result["adds at most 1 layer to its base image"][0] is False
    scratch = image(size_bytes=1_200_000, layers=1)
    result = verdicts(lab(max_added_mb=1), Outcome("j", BUILT, scratch))
    assert result["adds at most 1 MB to its base image"][0] is False


def test_oom_kills_and_output_that_must_not_show() -> None:
    killed = run(exit_code=137, oom_killed=True, stdout="starting\n", stderr="db=hunter2\n")
    result = verdicts(
        lab(oom_killed=True, output_excludes=("hunter2", "other")),
        Outcome("j", BUILT, image(), killed),
    )
    assert result["killed by the OOM killer"] == (True, "the OOM killer ended it (limit 64 MB)")
    assert result["output never shows `hunter2`"] == (False, "it is in the container's output")
    assert result["output never shows `other`"][0] is True
    plain_kill = run(exit_code=137, oom_killed=False)
    result = verdicts(lab(oom_killed=True), Outcome("j", BUILT, image(), plain_kill))
    passed, why = result["killed by the OOM killer"]
    assert not passed and why.endswith("the OOM killer never struck")
    assert lab(oom_killed=False).expect.runs and lab(output_excludes=("x",)).expect.runs
