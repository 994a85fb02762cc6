"""Dockerfile review with no Docker daemon: hadolint's findings plus the course's rules.

One finding per problem: when a course rule and the hadolint rule it overlaps fire on the same
line, the course's finding stays (it names the part that teaches it) and notes hadolint's code.
If hadolint cannot run, the course's rules still answer and the review says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.labs.compose_file import ComposeFile
from bot.labs.compose_rules import compose_findings
from bot.labs.dockerfile import Dockerfile, DockerfileError, parse
from bot.labs.hadolint import HadolintFinding, HadolintUnavailable, run_hadolint
from bot.labs.rules import RULES, SEVERITIES, Finding, RuleContext, Severity, course_findings

MAX_REVIEW_CHARS = 20_000
MAX_REVIEW_INSTRUCTIONS = 150  # hadolint's time grows with them; real files stay far below
MAX_SHOWN = 30  # findings listed; the rest are counted

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
    findings: tuple[Finding, ...]  # by severity, then line; the same finding folded into one
    hadolint_ran: bool
    note: str = ""  # why hadolint did not run
    hidden: int = 0  # findings beyond MAX_SHOWN, not listed
    kind: str = "Dockerfile"  # or "Compose file"

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
    severity: Severity = item.level if item.level in SEVERITIES else "info"
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
    return by_severity(merged)


def by_severity(findings: list[Finding]) -> list[Finding]:
    order = {severity: rank for rank, severity in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], f.line, f.code))


def fold(findings: list[Finding]) -> list[Finding]:
    """One finding per (severity, code, fix): the same advice on many lines is said once."""
    first: dict[tuple[str, str, str], int] = {}
    folded: list[Finding] = []
    for finding in findings:
        key = (finding.severity, finding.code, finding.fix)
        if key in first:
            kept = folded[first[key]]
            folded[first[key]] = replace(kept, more_lines=(*kept.more_lines, finding.line))
        else:
            first[key] = len(folded)
            folded.append(finding)
    return folded


def _agrees_with_the_course(
    item: HadolintFinding, dockerfile: Dockerfile, course: list[Finding]
) -> bool:
    """hadolint rules the course judges better. DL3025 asks for JSON in a HEALTHCHECK's CMD,
    where the shell form is fine; DL3064 flags `API_KEY_FILE`, a path, not a secret: the
    course's secret rule decides, and it reports the lines that do hold one."""
    if item.code == "DL3025":
        return not any(i.line <= item.line <= i.end_line for i in dockerfile.of("HEALTHCHECK"))
    if item.code == "DL3064":
        return any(f.code == "secret-in-config" and f.line == item.line for f in course)
    return True


def review_dockerfile(
    text: str,
    *,
    dockerignore: str | None = None,
    lint: Linter = run_hadolint,
    dockerfile: Dockerfile | None = None,
) -> Review:
    """Review one Dockerfile; `dockerignore` is the .dockerignore offered with it, if any;
    `dockerfile` is the text already parsed, when the caller has it."""
    offered = dockerignore is not None and any(
        line.strip() and not line.lstrip().startswith("#") for line in dockerignore.splitlines()
    )
    text = text.removeprefix("\ufeff")  # Notepad's BOM: Docker ignores it, hadolint may not
    if dockerfile is None:
        try:
            dockerfile = parse(text)
        except DockerfileError:
            dockerfile = Dockerfile((), ())  # hadolint reports what Docker cannot read
    course = course_findings(dockerfile, RuleContext(dockerignore_offered=offered))
    try:
        linted = [
            from_hadolint(item)
            for item in lint(text)
            if _agrees_with_the_course(item, dockerfile, course)
        ]
    except HadolintUnavailable as exc:
        return _shown(merge(course, []), hadolint_ran=False, note=str(exc))
    return _shown(merge(course, linted), hadolint_ran=True)


def review_compose(compose: ComposeFile, name: str | None = None) -> Review:
    """Review one compose file with the course's Compose rules (hadolint reads no YAML)."""
    findings = by_severity(compose_findings(compose, name))
    return _shown(findings, hadolint_ran=False, kind="Compose file")


def _shown(
    findings: list[Finding], *, hadolint_ran: bool, note: str = "", kind: str = "Dockerfile"
) -> Review:
    folded = fold(findings)
    hidden = max(len(folded) - MAX_SHOWN, 0)
    return Review(tuple(folded[:MAX_SHOWN]), hadolint_ran, note, hidden, kind)
