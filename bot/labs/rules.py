"""The course's own Dockerfile rules: what hadolint does not say, or not the way the course does.

Each rule names the part that teaches it. Where a hadolint rule fires on the same line for the
same reason (`overlaps`), the review keeps one finding: the course's, with hadolint's code noted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from bot.labs.dockerfile import Dockerfile, Instruction, Stage

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    line: int
    code: str  # a course rule name or a hadolint code (DL3008, SC2086)
    fix: str  # one line: what to do
    why: str = ""  # the course's reason, when the rule is the course's
    part: int | None = None  # the part that teaches it
    also: tuple[str, ...] = ()  # hadolint codes folded into this finding
    more_lines: tuple[int, ...] = ()  # the same finding again on these lines, folded into one


@dataclass(frozen=True)
class RuleContext:
    dockerignore_offered: bool


Check = Callable[[Dockerfile, RuleContext], Iterator[Finding]]


@dataclass(frozen=True)
class RuleInfo:
    part: int  # the part that teaches it
    overlaps: tuple[str, ...] = ()  # hadolint codes that say the same on the same line


RULES: dict[str, RuleInfo] = {
    "no-dockerignore": RuleInfo(3),
    "deps-after-source": RuleInfo(5),
    "runs-as-root": RuleInfo(12, ("DL3002",)),
    "no-healthcheck": RuleInfo(15),
    "shell-form": RuleInfo(8, ("DL3025",)),
    "secret-in-config": RuleInfo(8, ("DL3064",)),
    "add-url": RuleInfo(3),
    "add-for-copy": RuleInfo(3, ("DL3020",)),
}


def finding(severity: Severity, line: int, code: str, fix: str, why: str) -> Finding:
    """A course rule's finding, linked to the part that teaches it."""
    return Finding(severity, line, code, fix, why, RULES[code].part)


# --- helpers ----------------------------------------------------------------------------------

_WHOLE_CONTEXT = {".", "./", "*", "./*"}
_ARCHIVE = re.compile(r"\.(tar|tar\.(gz|bz2|xz|zst)|tgz|tbz2?|txz)$", re.IGNORECASE)
_URL = re.compile(r"^(https?|git|ftp)://|^git@", re.IGNORECASE)
_INSTALL = re.compile(
    r"\b(npm\s+(ci|install|i)\b|yarn(\s+install)?\s*($|&&|;)|pnpm\s+(install|i)\b"
    r"|pip3?\s+install\b|python3?\s+-m\s+pip\s+install\b|poetry\s+install|pipenv\s+install"
    r"|uv\s+(sync|pip\s+install)|bundle\s+install|composer\s+install|go\s+mod\s+download"
    r"|mvn\b[^&;]*\b(dependency:\S+|package|install)\b|cargo\s+(fetch|build)|dotnet\s+restore)",
    re.IGNORECASE,
)
_SECRET_NAME = re.compile(  # whole words of the key: DB_PASSWORD yes, AUTHOR no
    r"(^|_)(pass(word|wd)?|secret|token|api_?key|private_?key|access_?key|credentials?|auth)"
    r"(_|$)",
    re.IGNORECASE,
)
_NOT_A_SECRET = re.compile(r"_(file|path|dir|filename|location|url|host|user(name)?)$", re.I)
_SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[\w-]{20}|xox[abprs]-[\w-]{10,}"
    r"|sk_(live|test)_\w{16,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


def secret_named(key: str) -> bool:
    """`DB_PASSWORD` and `API-KEY` are; `AUTHOR` and `API_KEY_FILE` (a path) are not."""
    return bool(_SECRET_NAME.search(key.replace("-", "_"))) and not _NOT_A_SECRET.search(key)


def secret_valued(value: str) -> bool:
    """The value has the shape of a well-known credential (an AWS key id, a GitHub token…)."""
    return bool(_SECRET_VALUE.search(value))


_SHELL_SYNTAX = re.compile(r"[|&;<>$`*?(){}]|\\")


def sources(instruction: Instruction) -> list[str]:
    """The source paths of a COPY or ADD (all arguments but the last)."""
    words = instruction.words()
    return words[:-1] if len(words) > 1 else []


def copies_whole_context(instruction: Instruction) -> bool:
    return (
        instruction.keyword in ("COPY", "ADD")
        and "from" not in instruction.flags
        and any(source in _WHOLE_CONTEXT for source in sources(instruction))
    )


def stage_chain(dockerfile: Dockerfile, stage: Stage) -> list[Stage]:
    """The stage and the earlier stages it is built FROM, nearest first."""
    names = {s.name: s for s in dockerfile.stages if s.name}
    chain = [stage]
    while True:
        parent = names.get(chain[-1].image.lower())
        if parent is None or parent.index >= chain[-1].index or parent in chain:
            return chain
        chain.append(parent)


def final_instructions(dockerfile: Dockerfile) -> list[Instruction]:
    """The instructions that shape the final image, in file order."""
    final = dockerfile.final_stage
    if final is None:
        return []
    indices = {stage.index for stage in stage_chain(dockerfile, final)}
    return [i for i in dockerfile.instructions if i.stage in indices]


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """KEY=value pairs of ENV, ARG or LABEL (and the legacy `ENV KEY value`), quotes removed."""
    values = instruction.values
    if instruction.keyword == "ARG":
        return [(name, value) for name, _, value in (v.partition("=") for v in values)]
    pairs = zip(values[::2], values[1::2], strict=False)
    return [(_unquote(key), _unquote(value)) for key, value in pairs]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


# --- the rules --------------------------------------------------------------------------------


def _no_dockerignore(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    if context.dockerignore_offered:
        return
    for instruction in dockerfile.of("COPY", "ADD"):
        if copies_whole_context(instruction):
            yield finding(
                "warning",
                instruction.line,
                "no-dockerignore",
                "Add a .dockerignore (.git, node_modules, build output, .env) before `COPY .`.",
                "Without one, the whole context ships: secrets, .git and caches reach the image "
                "and any changed file busts the cache.",
            )


def _deps_after_source(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    for stage in dockerfile.stages:
        copied_all: Instruction | None = None
        installed_before = False
        for instruction in dockerfile.in_stage(stage.index):
            if copies_whole_context(instruction) and copied_all is None:
                copied_all = instruction
            elif instruction.keyword == "RUN" and _INSTALL.search(instruction.args):
                if copied_all is None:
                    installed_before = True
                elif not installed_before:
                    yield finding(
                        "warning",
                        instruction.line,
                        "deps-after-source",
                        "Copy only the dependency manifests (lock file) first, install, "
                        "then `COPY . .`.",
                        f"The install comes after `COPY` of the whole source (line "
                        f"{copied_all.line}): any edited file re-runs it.",
                    )
                    break


def _runs_as_root(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    final = dockerfile.final_stage
    if final is None:
        return
    users = [i for i in final_instructions(dockerfile) if i.keyword == "USER"]
    if not users:
        yield finding(
            "warning",
            final.line,
            "runs-as-root",
            "Add `USER 10001` (or another non-root id) after the last step that needs root.",
            "No USER in the final stage: unless the base image sets one, the process runs as "
            "root, and a breakout starts as root.",
        )
        return
    user = users[-1].args.split(":", 1)[0].strip()
    if user in ("root", "0"):
        yield finding(
            "warning",
            users[-1].line,
            "runs-as-root",
            "End the final stage with a non-root `USER` (for example `USER 10001`).",
            "The last USER is root, so the container's process runs as root.",
        )


def _no_healthcheck(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    final = dockerfile.final_stage
    if final is None or any(i.keyword == "HEALTHCHECK" for i in final_instructions(dockerfile)):
        return
    yield finding(
        "info",
        final.line,
        "no-healthcheck",
        "Declare a `HEALTHCHECK` (for example `HEALTHCHECK CMD wget -qO- http://127.0.0.1:8080/`).",
        "Without one, Docker and Compose only know that the process runs, not that it serves.",
    )


def _exec_form_hint(instruction: Instruction) -> str:
    if _SHELL_SYNTAX.search(instruction.args):
        return (
            f"Use the exec form `{instruction.keyword} [...]`; move the shell logic into a "
            "script that ends with `exec`."
        )
    return f"Use the exec form: `{instruction.keyword} {json.dumps(instruction.words())}`."


def _shell_form(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    for instruction in final_instructions(dockerfile):
        if instruction.keyword in ("CMD", "ENTRYPOINT") and instruction.json_args is None:
            yield finding(
                "warning",
                instruction.line,
                "shell-form",
                _exec_form_hint(instruction),
                "In shell form `/bin/sh -c` is PID 1 and does not pass SIGTERM on: "
                "`docker stop` waits 10 s, then kills.",
            )


def _secrets(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    for instruction in dockerfile.of("ENV", "ARG", "LABEL"):
        for key, value in env_pairs(instruction):
            by_value = secret_valued(value)
            by_name = instruction.keyword != "LABEL" and secret_named(key)
            if not (by_value or by_name):
                continue
            baked = (instruction.keyword == "ENV" and bool(value)) or by_value
            yield finding(
                "error" if baked else "warning",
                instruction.line,
                "secret-in-config",
                "Pass secrets at run time (env or a secrets file) or with "
                "`RUN --mount=type=secret`, never in ENV, ARG or LABEL.",
                f"`{key}` looks like a secret: {instruction.keyword} values stay readable in the "
                "image config or `docker history`.",
            )
            break


def _add(dockerfile: Dockerfile, context: RuleContext) -> Iterator[Finding]:
    for instruction in dockerfile.of("ADD"):
        found = sources(instruction)
        if any(_URL.search(source) for source in found):
            yield finding(
                "warning",
                instruction.line,
                "add-url",
                "Download in a `RUN` with a checksum check (or vendor the file and `COPY` it).",
                "`ADD <url>` fetches at build time with no checksum and no cache control.",
            )
        elif found and not all(_ARCHIVE.search(source) for source in found):
            yield finding(
                "warning",
                instruction.line,
                "add-for-copy",
                "Use `COPY` for plain files and folders; keep `ADD` for a local archive to unpack.",
                "`ADD` also unpacks archives and fetches URLs, so it hides what the step does.",
            )


CHECKS: tuple[Check, ...] = (
    _no_dockerignore,
    _deps_after_source,
    _runs_as_root,
    _no_healthcheck,
    _shell_form,
    _secrets,
    _add,
)


def course_findings(dockerfile: Dockerfile, context: RuleContext) -> list[Finding]:
    """Every course rule's findings, in rule order."""
    return [finding for check in CHECKS for finding in check(dockerfile, context)]
