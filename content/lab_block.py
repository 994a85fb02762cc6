"""The ```toml lab block of an exercise into a `Lab`, with every problem on its line.

The format is documented in content/README.md ("Labs"). Problems are (line, message) pairs with
lines counted in the article; the parser turns them into errors. Unknown keys are errors, so a
typo never silently drops a check.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from content.model import ComposeExpect, ComposeRequire, Lab, LabExpect

LAB_INFO = ("toml", "lab")  # the fence's info string
MAX_SUBMIT = 5  # a Discord modal holds five text inputs
MAX_CONTEXT_BYTES = 64 * 1024  # fixtures and context files together
MAX_TIMEOUT = 60.0
DEFAULT_SUBMIT = ("Dockerfile",)

_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_IMAGE = re.compile(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?")
_TOML_LINE = re.compile(r"at line (\d+)")

_TOP = ("task", "submit", "base_images", "context", "run", "expect", "compose")
_COMPOSE = ("services", "clean", "require")
_REQUIRE = ("check", "path", "file", "equals", "contains", "present")
_COMPOSE_NAME = re.compile(r"[A-Za-z0-9_.-]+\.ya?ml")
COMPOSE_SUBMIT = ("compose.yaml",)
# The Compose review's rules a lab may require to stay quiet (bot/labs/compose_rules.py).
COMPOSE_RULES = (
    "depends-on-healthy",
    "dependency-without-healthcheck",
    "image-latest",
    "secret-in-environment",
    "db-port-public",
    "privileged",
    "docker-socket",
    "container-name-scaled",
    "no-restart-policy",
    "source-bind-mount",
    "no-resource-limits",
    "no-log-rotation",
)
_RUN = ("command", "timeout", "memory_mb")
_EXPECT = tuple(LabExpect.__dataclass_fields__)

Problems = list[tuple[int, str]]


def is_lab_fence(info: str) -> bool:
    words = info.split()
    return len(words) >= 2 and words[0] == LAB_INFO[0] and LAB_INFO[1] in words[1:]


def safe_path(name: str) -> bool:
    """A relative path inside the build context: no `..`, no absolute path, plain characters."""
    return bool(_PATH.fullmatch(name)) and ".." not in name.split("/")


class _Reader:
    """Reads one table of the block, reporting wrong types and unknown keys on their lines."""

    def __init__(self, text: str, first_line: int, problems: Problems):
        self.lines = text.split("\n")
        self.first_line, self.problems = first_line, problems

    def line_of(self, key: str) -> int:
        """The article line where `key` is set (the block's first line when not found)."""
        pattern = re.compile(rf"\s*(\[\s*{re.escape(key)}\s*\]|\"?{re.escape(key)}\"?\s*=)")
        for offset, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return self.first_line + offset
        return self.first_line

    def error(self, key: str, message: str) -> None:
        self.problems.append((self.line_of(key), message))

    def known(self, table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(key, f"unknown key '{key}' in {where}{hint}")

    def strings(self, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(key, f"'{key}' must be a list of non-empty strings")
            return ()
        return tuple(value)

    def number(
        self, table: Mapping[str, Any], key: str, low: float, high: float, *, whole: bool = False
    ) -> Any:
        value = table.get(key)
        if value is None:
            return None
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            kind = "a whole number" if whole else "a number"
            self.error(key, f"'{key}' must be {kind} from {low:g} to {high:g}, not {value!r}")
            return None
        return value

    def flag(self, table: Mapping[str, Any], key: str) -> bool:
        return bool(self.optional_flag(table, key))

    def optional_flag(self, table: Mapping[str, Any], key: str) -> bool | None:
        value = table.get(key)
        if value is not None and not isinstance(value, bool):
            self.error(key, f"'{key}' must be true or false")
            return None
        return value

    def table(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.error(key, f"'{key}' must be a table ([{key}])")
            return {}
        return value


def parse_lab(
    text: str, first_line: int, files: Mapping[str, str], problems: Problems
) -> Lab | None:
    """The lab in `text` (the block's content; its fence is on `first_line`), or None."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = first_line + (int(found.group(1)) if found else 1)
        problems.append((line, f"the lab block is not valid TOML: {exc}"))
        return None
    read = _Reader(text, first_line, problems)
    before = len(problems)
    read.known(data, _TOP, "the lab")
    if "compose" in data:
        return _compose_lab(read, data, first_line, before)
    submit = read.strings(data, "submit") if "submit" in data else DEFAULT_SUBMIT
    _check_submit(read, submit, files)
    images = read.strings(data, "base_images")
    if not images:
        read.error("base_images", "a lab needs 'base_images': the images FROM may name")
    for image in images:
        if image != "scratch" and not _IMAGE.fullmatch(image):
            read.error("base_images", f"'{image}' is not an image name such as busybox:latest")
    context = _context(read, read.table(data, "context"), files)
    run = read.table(data, "run")
    read.known(run, _RUN, "[run]")
    command = read.strings(run, "command") if "command" in run else None
    timeout = read.number(run, "timeout", 1, MAX_TIMEOUT)
    memory = read.number(run, "memory_mb", 16, 4096, whole=True)
    expect = _expect(read, read.table(data, "expect"), timeout)
    task = data.get("task", "")
    if not isinstance(task, str):
        read.error("task", "'task' must be a string")
        task = ""
    if len(problems) > before:
        return None
    return Lab(
        submit=submit,
        base_images=images,
        expect=expect,
        task=task.strip(),
        context=context,
        command=command,
        timeout=float(timeout or 10),
        memory_mb=memory,
        line=first_line,
    )


def _compose_lab(
    read: _Reader, data: Mapping[str, Any], first_line: int, before: int
) -> Lab | None:
    """A Compose lab: compose files in, static checks out; no image, no run."""
    for key in ("base_images", "context", "run", "expect"):
        if key in data:
            read.error(key, f"a Compose lab is checked without Docker: '{key}' does not apply")
    submit = read.strings(data, "submit") if "submit" in data else COMPOSE_SUBMIT
    if not 1 <= len(submit) <= MAX_SUBMIT or len(set(submit)) != len(submit):
        read.error("submit", f"'submit' names 1 to {MAX_SUBMIT} different files")
    for name in submit:
        if not _COMPOSE_NAME.fullmatch(name):
            read.error("submit", f"'{name}' is not a compose file name such as compose.yaml")
    table = read.table(data, "compose")
    read.known(table, _COMPOSE, "[compose]")
    clean = read.strings(table, "clean")
    for rule in clean:
        if rule not in COMPOSE_RULES:
            close = difflib.get_close_matches(rule, COMPOSE_RULES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            read.error("clean", f"'{rule}' is not a Compose review rule{hint}")
    requires = table.get("require", [])
    if not isinstance(requires, list):
        read.error("require", "'require' must be a list of tables ([[compose.require]])")
        requires = []
    expect = ComposeExpect(
        services=read.strings(table, "services"),
        clean=clean,
        require=tuple(r for item in requires if (r := _require(read, item, submit)) is not None),
    )
    if not (expect.services or expect.clean or expect.require):
        read.error("compose", "a Compose lab needs 'services', 'clean' or '[[compose.require]]'")
    task = data.get("task", "")
    if not isinstance(task, str):
        read.error("task", "'task' must be a string")
        task = ""
    if len(read.problems) > before:
        return None
    return Lab(
        submit=submit,
        base_images=(),
        expect=LabExpect(),
        task=task.strip(),
        line=first_line,
        compose=expect,
    )


def _require(read: _Reader, item: Any, submit: tuple[str, ...]) -> ComposeRequire | None:
    if not isinstance(item, dict):
        read.error("require", "each [[compose.require]] must be a table")
        return None
    read.known(item, _REQUIRE, "[[compose.require]]")
    check, path = item.get("check"), item.get("path")
    file = item.get("file", submit[0] if submit else "")
    tests = [key for key in ("equals", "contains", "present") if key in item]
    if not isinstance(check, str) or not check.strip():
        read.error("check", "each [[compose.require]] needs 'check': the check's name")
    if not isinstance(path, str) or not all(path.split(".")):
        read.error("path", "'path' must be dotted keys such as services.web.image")
    if file not in submit:
        read.error("file", f"'file' must be one of the submitted files, not {file!r}")
    if len(tests) != 1:
        read.error("path", "give exactly one of 'equals', 'contains' or 'present'")
    if "contains" in item and not isinstance(item["contains"], str):
        read.error("contains", "'contains' must be a string")
    if "present" in item and not isinstance(item["present"], bool):
        read.error("present", "'present' must be true or false")
    if not (isinstance(check, str) and isinstance(path, str) and len(tests) == 1):
        return None
    return ComposeRequire(
        check=check.strip(),
        path=tuple(path.split(".")),
        file=str(file),
        equals=item.get("equals"),
        contains=item.get("contains"),
        present=item.get("present"),
    )


def _check_submit(read: _Reader, submit: tuple[str, ...], files: Mapping[str, str]) -> None:
    if not 1 <= len(submit) <= MAX_SUBMIT:
        read.error("submit", f"'submit' names 1 to {MAX_SUBMIT} files (one modal input each)")
    for name in submit:
        if not safe_path(name):
            read.error("submit", f"'{name}' is not a relative path inside the build context")
    if len(set(submit)) != len(submit):
        read.error("submit", "'submit' names a file twice")
    if "Dockerfile" not in submit and "Dockerfile" not in files:
        read.error("submit", "nothing to build: submit a Dockerfile or give one as a fixture file")


def _context(read: _Reader, table: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, str]:
    context: dict[str, str] = {}
    for name, value in table.items():
        if not safe_path(name):
            read.error(name, f"context file '{name}' is not a relative path")
        elif not isinstance(value, str):
            read.error(name, f"context file '{name}' must be a string")
        elif name in files:
            read.error(name, f"'{name}' is already a fixture file of the exercise")
        else:
            context[name] = value
    size = sum(len(v.encode()) for v in (*files.values(), *context.values()))
    if size > MAX_CONTEXT_BYTES:
        read.error("context", f"fixtures and context take {size} bytes, over {MAX_CONTEXT_BYTES}")
    return context


def _expect(read: _Reader, table: Mapping[str, Any], timeout: float | None) -> LabExpect:
    read.known(table, _EXPECT, "[expect]")
    limit = timeout or MAX_TIMEOUT
    expect = LabExpect(
        exit_code=read.number(table, "exit_code", 0, 255, whole=True),
        running_for=read.number(table, "running_for", 1, limit),
        exit_on_stop=read.number(table, "exit_on_stop", 0, 255, whole=True),
        stdout_contains=read.strings(table, "stdout_contains"),
        output_excludes=read.strings(table, "output_excludes"),
        oom_killed=read.optional_flag(table, "oom_killed"),
        non_root=read.flag(table, "non_root"),
        healthcheck=read.flag(table, "healthcheck"),
        max_size_mb=read.number(table, "max_size_mb", 0.001, 100_000),
        max_layers=read.number(table, "max_layers", 1, 127, whole=True),
        max_added_mb=read.number(table, "max_added_mb", 0, 100_000),
        max_added_layers=read.number(table, "max_added_layers", 0, 127, whole=True),
        no_secret=read.strings(table, "no_secret"),
        absent=read.strings(table, "absent"),
    )
    if expect.exit_code is not None and expect.running_for is not None:
        read.error("running_for", "give 'exit_code' or 'running_for', not both")
    if expect.exit_on_stop is not None and expect.running_for is None:
        read.error("exit_on_stop", "'exit_on_stop' needs 'running_for' (the container must run)")
    for path in expect.absent:
        if not path.startswith("/"):
            read.error("absent", f"'{path}' must be an absolute path in the image")
    return expect
