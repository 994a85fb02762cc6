"""A lab's expectations against what the sandbox saw: each check passed or failed, and why.

Pure functions of the sandbox's `Outcome`, so every verdict and message is testable without a
daemon. The messages teach: a failed check says what was seen and what it means.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.labs.results import STOP_GRACE, ImageFacts, Outcome, RunResult
from content.model import Lab, LabExpect

MB = 1_000_000  # as `docker images` counts


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / 1000:.0f} kB"


def _quote(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + shown.replace("`", "'") + "`"


def _non_root(image: ImageFacts) -> CheckResult:
    """Judged on the uid Docker will run, not on the name the image gives."""
    name = "runs as a non-root user"
    if image.uid is None:
        return CheckResult(
            name,
            False,
            f"the image's /etc/passwd gives `{image.user}` no usable uid (missing or too large)",
        )
    who = f"`{image.user}`" if image.user else "root (no USER)"
    if image.uid == 0:
        named = image.user and image.user.split(":")[0] not in ("root", "0")
        return CheckResult(
            name,
            False,
            f"the image's user is {who}"
            + (", which the image's /etc/passwd makes uid 0" if named else "")
            + ": add a `USER` with a non-zero id",
        )
    return CheckResult(name, True, f"the image's user is {who} (uid {image.uid})")


def image_checks(expect: LabExpect, image: ImageFacts) -> list[CheckResult]:
    results = []
    if expect.non_root:
        results.append(_non_root(image))
    if expect.healthcheck:
        results.append(
            CheckResult(
                "declares a HEALTHCHECK",
                image.healthcheck,
                "declared" if image.healthcheck else "no `HEALTHCHECK` in the image",
            )
        )
    if expect.max_size_mb is not None:
        limit = int(expect.max_size_mb * MB)
        results.append(
            CheckResult(
                f"image under {expect.max_size_mb:g} MB",
                image.size_bytes <= limit,
                f"{_mb(image.size_bytes)} (limit {expect.max_size_mb:g} MB)",
            )
        )
    if expect.max_layers is not None:
        results.append(
            CheckResult(
                f"at most {expect.max_layers} layers",
                image.layers <= expect.max_layers,
                f"{image.layers} layers (base image included); only RUN, COPY and ADD add one",
            )
        )
    if expect.max_added_mb is not None:
        added = image.size_bytes - image.base_size_bytes
        results.append(
            CheckResult(
                f"adds at most {expect.max_added_mb:g} MB to its base image",
                added <= int(expect.max_added_mb * MB),
                f"{_mb(max(added, 0))} on top of the base image's {_mb(image.base_size_bytes)}",
            )
        )
    if expect.max_added_layers is not None:
        added_layers = image.layers - image.base_layers
        results.append(
            CheckResult(
                f"adds at most {expect.max_added_layers} "
                f"layer{'' if expect.max_added_layers == 1 else 's'} to its base image",
                added_layers <= expect.max_added_layers,
                f"{added_layers} layers on top of the base image's {image.base_layers}; "
                "only RUN, COPY and ADD add one",
            )
        )
    for secret in expect.no_secret:
        where = image.secrets_found.get(secret)
        masked = secret[:3] + "…"
        results.append(
            CheckResult(
                f"no secret ({masked}) in the image",
                where is None,
                f"found in {where}: deleting it in a later step does not remove it"
                if where
                else "not in the history, the config or any layer",
            )
        )
    for path in expect.absent:
        present = image.present.get(path, True)
        results.append(
            CheckResult(
                f"{path} is absent",
                not present,
                f"{_quote(path)} is still in the image" if present else "not in the image",
            )
        )
    return results


def _ending(run: RunResult, memory_mb: int, timeout: float) -> str:
    if run.oom_killed:
        return (
            f"killed by the OOM killer: out of memory (exit {run.exit_code}, limit {memory_mb} MB)"
        )
    if run.timed_out:
        return f"still running at the {timeout:g} s limit, so it was killed"
    return f"exited with code {run.exit_code} after {run.seconds:.1f} s"


def run_checks(lab: Lab, run: RunResult, memory_mb: int, timeout: float) -> list[CheckResult]:
    expect = lab.expect
    if run.start_error:
        return [CheckResult("the container starts", False, run.start_error)]
    results = []
    if expect.running_for is not None:
        healthy = run.health in (None, "healthy")
        detail = (
            f"running after {expect.running_for:g} s" + (f", {run.health}" if run.health else "")
            if run.running_at_check
            else _ending(run, memory_mb, timeout) + "; it should keep running"
        )
        results.append(
            CheckResult(
                f"keeps running for {expect.running_for:g} s"
                + (" and is healthy" if run.health else ""),
                run.running_at_check and healthy,
                detail,
            )
        )
        if expect.exit_on_stop is not None:
            quick = run.stop_seconds is not None and run.stop_seconds < STOP_GRACE
            passed = run.running_at_check and quick and run.stop_exit_code == expect.exit_on_stop
            detail = (
                f"`docker stop` took {run.stop_seconds:.1f} s, exit code {run.stop_exit_code}"
                if run.stop_seconds is not None
                else "it was not running when stopped"
            )
            if run.stop_exit_code == 137:
                detail += ": SIGTERM was ignored, so it was killed"
            results.append(
                CheckResult(f"stops on SIGTERM with code {expect.exit_on_stop}", passed, detail)
            )
    else:
        wanted = expect.exit_code
        passed = not run.timed_out and (wanted is None or run.exit_code == wanted)
        name = f"exits with code {wanted}" if wanted is not None else "runs to the end"
        results.append(CheckResult(name, passed, _ending(run, memory_mb, timeout)))
    if expect.oom_killed is not None:
        killed = run.oom_killed
        results.append(
            CheckResult(
                "killed by the OOM killer" if expect.oom_killed else "not killed by the OOM killer",
                killed == expect.oom_killed,
                f"the OOM killer ended it (limit {memory_mb} MB)"
                if killed
                else f"{_ending(run, memory_mb, timeout)}; the OOM killer never struck",
            )
        )
    output = run.stdout + run.stderr
    for text in expect.output_excludes:
        shown = text in output
        results.append(
            CheckResult(
                f"output never shows {_quote(text)}",
                not shown,
                "it is in the container's output" if shown else "not in either output stream",
            )
        )
    for text in expect.stdout_contains:
        found = text in run.stdout
        results.append(
            CheckResult(
                f"output contains {_quote(text)}",
                found,
                "found" if found else "not in the container's output",
            )
        )
    return results


def grade_outcome(lab: Lab, outcome: Outcome, memory_mb: int, timeout: float) -> list[CheckResult]:
    """Every check of the lab, the build first; nothing after a failed build."""
    build = outcome.build
    if outcome.refused:
        return [CheckResult("the image builds", False, outcome.refused)]
    if not build.ok or outcome.image is None:
        return [CheckResult("the image builds", False, build.error or "the build failed")]
    results = [CheckResult("the image builds", True, f"built in {build.seconds:.1f} s")]
    results += image_checks(lab.expect, outcome.image)
    if outcome.run is not None:
        results += run_checks(lab, outcome.run, memory_mb, timeout)
    return results
