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
        ("FROM busybox\nADD https://example.org/x.tgz /x/\n", "line 2: `ADD https://ex"),
        ("FROM busybox\nADD git@github.com:a/b.git /b\n", "`ADD git@github.com:a/b.git` is"),
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
    assert any("the sandbox takes at most 64 KB" in r for r in reasons)
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


# The attacks of issue 11, each read the way Docker reads it (the reason's start is asserted).
ATTACKS = {
    # F1: the daemon would fetch a URL for the learner
    "ADD through ARG": (
        "FROM busybox\nARG U=http://127.0.0.1:8765/s\nADD $U /x\n",
        "line 3: `ADD $U`",
    ),
    "ADD through ENV": (
        "FROM busybox\nENV U=http://169.254.169.254/\nADD ${U} /x\n",
        "line 3: `ADD ${U}`",
    ),
    "ADD after a tab": ("FROM busybox\nADD\thttp://127.0.0.1:8765/s /x\n", "line 2: `ADD http"),
    "ONBUILD ADD": ("FROM busybox AS a\nONBUILD ADD http://x/ /x\nFROM a\n", "line 2: `ONBUILD`"),
    "ADD --checksum": ("FROM busybox\nADD --checksum=sha256:0 a /a\n", "line 2: `ADD --checksum`"),
    # F2: past the base-image allow-list
    "FROM after a tab": ("FROM\talpine\n", "line 1: FROM `alpine` is not allowed"),
    "a split keyword": ("FR\\\nOM alpine\n", "line 1: FROM `alpine` is not allowed"),
    "a form feed": ("FROM \\\n\falpine\n", "line 1: FROM `alpine` is not"),
    "a late escape": ("# syntax=x\n# escape=`\nFROM busybox\n", "line 1: parser directives"),
    "FROM an index": ("FROM alpine\nFROM 0\n", "line 2: FROM `0` is not allowed"),
    "COPY --from tab": (
        "FROM busybox\nCOPY\t--from=alpine:3.19 / /\n",
        "line 2: COPY --from `alpine",
    ),
    "ONBUILD COPY": ("FROM busybox\nONBUILD COPY --from=alpine:3.19 / /\n", "line 2: `ONBUILD`"),
    # F3: labels the watchdog trusts
    "forged job": ("FROM busybox\nLABEL tutor-lab.job=x\n", "line 2: the label `tutor-lab.job`"),
    "quoted": (
        'FROM busybox\nLABEL "tutor-lab.created"=9\n',
        "line 2: the label `tutor-lab.created`",
    ),
    "variable key": ("FROM busybox\nARG K\nLABEL $K=1\n", "line 3: the label key `$K`"),
    # F4: volumes outlive the job
    "VOLUME": ("FROM busybox\nVOLUME /data\n", "line 2: `VOLUME` is refused"),
    "VOLUME json": ('FROM busybox\nVOLUME ["/data"]\n', "line 2: `VOLUME` is refused"),
    # F6: metadata steps have no container for the watchdog
    "1,000 ENV": ("FROM busybox\n" + "ENV a=1\n" * 1000, "1001 instructions; the sandbox takes"),
    # heredocs would be read differently by the classic builder
    "heredoc": ("FROM busybox\nRUN <<EOF\nFROM alpine\nEOF\n", "line 2: heredocs"),
    # found by review: a lone CR is a line break to the daemon, not to the parser
    "CR hides FROM": ("FROM busybox\nRUN echo hi\rFROM alpine\r", "line 3: FROM `alpine` is not"),
    "CR hides ADD": ("FROM busybox\nRUN echo hi\rADD http://x/m /x\r", "line 3: `ADD http://x/m`"),
    # the parser stops at a NUL; the daemon reads on
    "NUL": ("FROM busybox\n# \x00\nADD http://x/m /x\n", "`Dockerfile` holds a NUL byte"),
    "quotes inside a key": ('FROM busybox\nLABEL tu"tor-lab.j"ob=x\n', "line 2: the label key"),
    "quoted flag value": (
        'FROM busybox\nCOPY --chown="1 /etc/passwd" --from=busybox /bin/sh /x\n',
        "line 2: give `--chown` a plain value",
    ),
    # F9: the parser must never see a lone surrogate
    "surrogate": ("FROM busybox\nRUN echo \udcff\n", "a file holds a character"),
}


@pytest.mark.parametrize(("dockerfile", "reason"), ATTACKS.values(), ids=list(ATTACKS))
def test_every_attack_is_refused_with_its_line(dockerfile: str, reason: str) -> None:
    assert any(r.startswith(reason) for r in refused({"Dockerfile": dockerfile})), reason


def test_a_clean_multi_stage_file_still_passes() -> None:
    text = (
        "\ufeff# a comment, not a directive\nFROM busybox AS build\n"
        'LABEL org.opencontainers.image.title="demo"\nADD --chown=1:1 app.tar /app/\n'
        "FROM scratch\nCOPY --from=0 /app /app\nCOPY --from=build /bin/busybox /bb\n"
    )
    prepared = prepare({"Dockerfile": text, "app.tar": ""}, ALLOWED, max_bytes=65536, labels=LABELS)
    assert prepared.final_base is None and prepared.bases == ("tutor-lab/busybox:latest",)


def test_a_stage_named_like_an_allowed_image_stays_a_stage() -> None:
    text = "FROM debian:bookworm-slim AS busybox\nFROM scratch\nCOPY --from=busybox /bin/sh /x\n"
    built = prepare({"Dockerfile": text}, ALLOWED, max_bytes=65536, labels=LABELS).files
    assert "COPY --from=busybox /bin/sh /x" in built["Dockerfile"].split("\n")
