"""A Compose lab's checks against the submitted files, read as Compose reads them: no daemon.

Every file must read as a compose file; then the services the lab names, the review rules that
must stay quiet, and each stated requirement. A failed check says what the file holds there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.labs.checks import CheckResult
from bot.labs.compose_file import ComposeError, ComposeFile, read_compose
from bot.labs.compose_rules import compose_findings
from content.model import ComposeExpect, ComposeRequire

_MISSING = object()


def grade_compose(
    expect: ComposeExpect, files: Mapping[str, str], *, max_chars: int
) -> list[CheckResult]:
    results: list[CheckResult] = []
    read: dict[str, ComposeFile] = {}
    for name, text in files.items():
        try:
            read[name] = read_compose(text, max_chars=max_chars)
            results.append(CheckResult(f"{name} reads as a compose file", True, "valid YAML"))
        except ComposeError as exc:
            results.append(CheckResult(f"{name} reads as a compose file", False, str(exc)))
    if len(read) < len(files):
        return results  # the other checks would only repeat that the file cannot be read
    defined = {service for compose in read.values() for service in compose.services}
    for service in expect.services:
        where = ", ".join(n for n, c in read.items() if service in c.services)
        results.append(
            CheckResult(
                f"defines service {service}",
                service in defined,
                f"in {where}" if where else f"no service `{service}` in {', '.join(read)}",
            )
        )
    for rule in expect.clean:
        results.append(_clean(rule, read))
    results += [_required(requirement, read[requirement.file]) for requirement in expect.require]
    return results


def _clean(rule: str, read: Mapping[str, ComposeFile]) -> CheckResult:
    hits = [
        f"{name} line {finding.line}: {finding.fix}"
        for name, compose in read.items()
        for finding in compose_findings(compose, name)
        if finding.code == rule
    ]
    if not hits:
        return CheckResult(rule, True, "no finding")
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    return CheckResult(rule, False, hits[0] + more)


def _values(data: Any, path: tuple[str, ...], where: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value or _MISSING) for every place `path` names; `*` spreads over keys."""
    if not path:
        yield where, data
        return
    key, rest = path[0], path[1:]
    if key == "*" and isinstance(data, dict) and data:
        for name, value in data.items():
            yield from _values(value, rest, f"{where}.{name}".lstrip("."))
        return
    spot = f"{where}.{key}".lstrip(".")
    if isinstance(data, dict) and key in data:
        yield from _values(data[key], rest, spot)
    elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
        yield from _values(data[int(key)], rest, spot)
    else:
        yield spot, _MISSING


def _shown(value: Any) -> str:
    return "not set" if value is _MISSING else f"`{value}`"


def _required(requirement: ComposeRequire, compose: ComposeFile) -> CheckResult:
    for spot, value in _values(compose.data, requirement.path):
        problem = _problem(requirement, value)
        if problem:
            return CheckResult(requirement.check, False, f"{spot} {problem}")
    return CheckResult(requirement.check, True, ".".join(requirement.path) + " as required")


def _problem(requirement: ComposeRequire, value: Any) -> str:
    """Why `value` does not meet the requirement; empty when it does."""
    if requirement.present is not None:
        if requirement.present == (value is not _MISSING):
            return ""
        return "is missing" if requirement.present else f"should not be set (it is {_shown(value)})"
    if requirement.contains is not None:
        wanted = requirement.contains
        if isinstance(value, list) and wanted in [str(item) for item in value]:
            return ""
        if isinstance(value, dict) and wanted in value:
            return ""
        if isinstance(value, str) and wanted in value:
            return ""
        return f"is {_shown(value)}: it should contain `{wanted}`"
    if value is not _MISSING and value == requirement.equals:
        return ""
    return f"is {_shown(value)}, not `{requirement.equals}`"
