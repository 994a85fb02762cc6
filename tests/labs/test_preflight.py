"""What the sandbox refuses before anything runs, and the Dockerfile it actually builds."""

from __future__ import annotations

import pytest

from bot.labs.dockerfile import parse
from bot.labs.preflight import JOB_LABEL, Refused, prepare

ALLOWED = {"busybox:latest": "tutor-lab/busybox:latest", "debian:bookworm-slim": "deb:local"}
LABELS = f"{JOB_LABEL}=abc tutor-lab.created=1"


def refused(files: dict[str, str], max_bytes: int = 65536) -> list[str]:
    with pytest.raises(Refused) as caught:
        prepare(files, ALLOWED, max_bytes=max_bytes, labels=LABELS)
    assert str(caught.value).startswith("Nothing was built")
    return caught.value.reasons


@pytest.mark.parametrize(
    ("dockerfile", "reason"),
    [
        ('FROM alpine:3\nCMD ["true"]\n', "line 1: FROM `alpine:3` is not allowed here"),
        ("FROM ubuntu\n", "FROM `ubuntu` is not allowed here"),
        ("ARG BASE=busybox\nFROM $BASE\n", "line 2: FROM must name its image literally"),
        ("FROM --platform=linux/arm64 busybox\n", "`--platform` is not supported"),
        ("FROM busybox\nADD https://example.org/x.tgz /x/\n", "line 2: `ADD <url>` is refused"),
        ("FROM busybox\nADD git@github.com:a/b.git /b\n", "`ADD <url>` is refused"),
        ("FROM busybox\nCOPY --from=alpine:3 /bin/sh /sh\n", "COPY --from `alpine:3` is not"),
        ("FROM busybox\nRUN --mount=type=secret,id=t cat /run/secrets/t\n", "needs BuildKit"),
        ("RUN echo early\nFROM busybox\n", "line 1: only ARG may come before the first FROM"),
        ("# just a comment\n", "the Dockerfile has no FROM"),
    ],
)
def test_refused_before_anything_runs(dockerfile: str, reason: str) -> None:
    reasons = refused({"Dockerfile": dockerfile})
    assert any(reason in r for r in reasons), reasons


def test_oversized_or_odd_input_is_refused() -> None:
    reasons = refused({"Dockerfile": "FROM busybox\n", "big.bin": "x" * 70_000})
    assert any("the sandbox takes 64" in r for r in reasons)
    assert any(
        "not a plain relative path" in r
        for r in refused({"Dockerfile": "FROM busybox\n", "../escape": "x"})
    )
    assert refused({"start.sh": "echo"}) == ["there is no Dockerfile"]


def test_every_reason_is_listed_at_once() -> None:
    reasons = refused({"Dockerfile": "FROM alpine\nADD http://x/y /y\n"})
    assert len(reasons) == 2


def test_the_built_dockerfile_uses_local_images_and_labels_every_stage() -> None:
    text = (
        "FROM debian:bookworm-slim AS build\nRUN echo hi > /hi\n"
        "FROM busybox\nCOPY --from=build /hi /hi\nCOPY --from=busybox:latest /bin/busybox /bb\n"
        'CMD ["cat", "/hi"]\n'
    )
    prepared = prepare({"Dockerfile": text}, ALLOWED, max_bytes=65536, labels=LABELS)
    built = prepared.files["Dockerfile"].split("\n")
    assert built[:3] == ["FROM deb:local AS build", f"LABEL {LABELS}", "RUN echo hi > /hi"]
    assert built[3:6] == [
        "FROM tutor-lab/busybox:latest",
        f"LABEL {LABELS}",
        "COPY --from=build /hi /hi",
    ]
    assert built[6] == "COPY --from=tutor-lab/busybox:latest /bin/busybox /bb"
    assert prepared.bases == ("deb:local", "tutor-lab/busybox:latest")
    assert [s.image for s in parse(prepared.files["Dockerfile"]).stages] == [
        "deb:local",
        "tutor-lab/busybox:latest",
    ]
    assert prepared.dockerfile.stages[0].image == "debian:bookworm-slim"


def test_stage_names_scratch_and_indices_are_allowed() -> None:
    text = "FROM busybox AS a\nFROM a AS b\nFROM scratch\nCOPY --from=0 /bin/busybox /bb\n"
    prepared = prepare({"Dockerfile": text}, ALLOWED, max_bytes=65536, labels=LABELS)
    assert prepared.bases == ("tutor-lab/busybox:latest",)
    assert "FROM a AS b" in prepared.files["Dockerfile"]


def test_a_continued_from_line_keeps_the_line_count() -> None:
    text = "FROM \\\n  busybox\nRUN true\n"
    built = prepare({"Dockerfile": text}, ALLOWED, max_bytes=65536, labels=LABELS).files
    assert built["Dockerfile"].split("\n")[:4] == [
        "FROM tutor-lab/busybox:latest",
        "",
        f"LABEL {LABELS}",
        "RUN true",
    ]


@pytest.mark.parametrize(
    ("dockerfile", "base"),
    [
        ("FROM busybox\nRUN true\n", "tutor-lab/busybox:latest"),
        ("FROM debian:bookworm-slim AS b\nFROM busybox AS a\nFROM a\n", "tutor-lab/busybox:latest"),
        ("FROM busybox AS build\nFROM scratch\nCOPY --from=build /bin/busybox /bb\n", None),
    ],
)
def test_the_final_stage_base_is_found_through_earlier_stages(
    dockerfile: str, base: str | None
) -> None:
    prepared = prepare({"Dockerfile": dockerfile}, ALLOWED, max_bytes=65536, labels=LABELS)
    assert prepared.final_base == base
