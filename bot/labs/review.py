"""Dockerfile review with no Docker daemon: hadolint's findings plus the course's rules.

One finding per problem: when a course rule and the hadolint rule it overlaps fire on the same
line, the course's finding stays (it names the part that teaches it) and notes hadolint's code.
If hadolint cannot run, the course's rules still answer and the review says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.labs.dockerfile import parse
from bot.labs.hadolint import HadolintFinding, HadolintUnavailable, run_hadolint
from bot.labs.rules import RULES, SEVERITIES, Finding, RuleContext, Severity, course_findings

MAX_REVIEW_CHARS = 20_000

# Where the course teaches what a hadolint rule checks (codes without an entry link to no part).
HADOLINT_PARTS: dict[str, int] = {
    "DL3000": 5,
    "DL3002": 12,
    "DL3003": 5,
    "DL3004": 12,
    "DL3006": 7,
    "DL3007": 7,
    "DL3008": 7,
    "DL3009": 5,
    "DL3011": 4,
    "DL3013": 7,
    "DL3014": 5,
    "DL3015": 5,
    "DL3016": 7,
    "DL3018": 7,
    "DL3019": 5,
    "DL3020": 3,
    "DL3021": 3,
    "DL3022": 6,
    "DL3023": 6,
    "DL3025": 8,
    "DL3028": 7,
    "DL3042": 5,
    "DL3045": 5,
    "DL3047": 5,
    "DL3059": 5,
    "DL3064": 8,
    "DL4006": 3,
}

Linter = Callable[[str], list[HadolintFinding]]


@dataclass(frozen=True)
class Review:
    findings: tuple[Finding, ...]  # by severity, then line
    hadolint_ran: bool
    note: str = ""  # why hadolint did not run

    def grouped(self) -> list[tuple[Severity, list[Finding]]]:
        """(severity, findings) for each severity that has any, most severe first."""
        groups = [(s, [f for f in self.findings if f.severity == s]) for s in SEVERITIES]
        return [(severity, found) for severity, found in groups if found]


def rule_url(code: str) -> str | None:
    """Where hadolint documents one of its rules (ShellCheck's for SC codes)."""
    if code.startswith("DL"):
        return f"https://github.com/hadolint/hadolint/wiki/{code}"
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return None


def from_hadolint(item: HadolintFinding) -> Finding:
    severity: Severity = item.level if item.level in SEVERITIES else "info"  # type: ignore[assignment]
    return Finding(severity, item.line, item.code, item.message, "", HADOLINT_PARTS.get(item.code))


def merge(course: list[Finding], linted: list[Finding]) -> list[Finding]:
    """Course findings absorb the hadolint findings they overlap on the same line."""
    merged: list[Finding] = []
    absorbed: set[int] = set()
    for finding in course:
        overlapping = RULES[finding.code].overlaps
        codes = []
        for index, other in enumerate(linted):
            if other.code in overlapping and other.line == finding.line:
                absorbed.add(index)
                codes.append(other.code)
        merged.append(replace(finding, also=tuple(codes)) if codes else finding)
    merged += [other for index, other in enumerate(linted) if index not in absorbed]
    order = {severity: rank for rank, severity in enumerate(SEVERITIES)}
    return sorted(merged, key=lambda f: (order[f.severity], f.line, f.code))


def review_dockerfile(
    text: str, *, dockerignore: str | None = None, lint: Linter = run_hadolint
) -> Review:
    """Review one Dockerfile; `dockerignore` is the .dockerignore offered with it, if any."""
    offered = dockerignore is not None and any(
        line.strip() and not line.lstrip().startswith("#") for line in dockerignore.splitlines()
    )
    course = course_findings(parse(text), RuleContext(dockerignore_offered=offered))
    try:
        linted = [from_hadolint(item) for item in lint(text)]
    except HadolintUnavailable as exc:
        return Review(tuple(merge(course, [])), hadolint_ran=False, note=str(exc))
    return Review(tuple(merge(course, linted)), hadolint_ran=True)
