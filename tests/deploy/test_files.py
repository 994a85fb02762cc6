"""The bot's own Dockerfile and compose.yaml, read as the bot's review reads a learner's.

A Docker tutor must be an exemplary Docker deployment itself: its own review (hadolint plus the
course's rules) and its own Compose review find nothing in them. These tests need no daemon;
tests/deploy/test_image.py runs the image.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.labs.compose_file import read_compose
from bot.labs.compose_rules import compose_findings
from bot.labs.hadolint import run_hadolint
from bot.labs.review import review_compose, review_dockerfile

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
DOCKERIGNORE = (ROOT / ".dockerignore").read_text(encoding="utf-8")
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text(encoding="utf-8")
COMPOSE = read_compose(COMPOSE_TEXT, max_chars=100_000)
SERVICES: dict[str, dict[str, Any]] = COMPOSE.services


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in logical.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(args.split())))
    return found


# --- Dockerfile ---------------------------------------------------------------------------------


def test_the_bots_own_review_finds_nothing_in_its_dockerfile() -> None:
    review = review_dockerfile(DOCKERFILE, dockerignore=DOCKERIGNORE)
    assert review.hadolint_ran, review.note
    assert review.findings == ()


def test_hadolint_alone_finds_nothing_either() -> None:
    """The review drops a few hadolint rules the course judges better; hadolint itself too."""
    assert run_hadolint(DOCKERFILE) == []


def test_the_base_image_is_a_pinned_slim_python() -> None:
    (arg,) = [
        args
        for keyword, args in instructions(DOCKERFILE)
        if keyword == "ARG" and args.startswith("PYTHON_IMAGE=")
    ]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", arg)
    froms = [args for keyword, args in instructions(DOCKERFILE) if keyword == "FROM"]
    assert len(froms) >= 3, "multi-stage: dependencies, build, image"
    assert all(f.startswith(("${PYTHON_IMAGE}", "deps ")) for f in froms), froms


def test_dependencies_have_a_layer_of_their_own_before_the_code() -> None:
    steps = instructions(DOCKERFILE)
    lock = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "requirements/" in a)
    install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "--require-hashes" in a)
    code = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and a.startswith("bot "))
    assert lock < install < code
    final = [
        a
        for k, a in steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
        if k == "COPY"
    ]
    assert final[0] == "--from=deps /opt/venv /opt/venv", "the deps layer comes first"


def test_the_image_runs_as_a_user_under_an_init_and_checks_its_health() -> None:
    steps = instructions(DOCKERFILE)
    last_from = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    final = dict((k, a) for k, a in steps[last_from:] if k != "RUN")
    assert final["USER"] == "10001:10001"
    assert final["ENTRYPOINT"] == '["/usr/bin/tini", "--", "tutorbot"]'
    assert final["CMD"] == '["run"]'
    assert final["HEALTHCHECK"].endswith('CMD ["tutorbot", "health"]')
    assert "tini=" in " ".join(a for k, a in steps[last_from:] if k == "RUN")


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".git/config",
        ".venv/bin/python",
        "data/tutor.db",
        "tests/conftest.py",
        "bench/README.md",
        "bot/__pycache__/x.pyc",
        "deploy/lab-daemon/Dockerfile",
    ],
)
def test_dockerignore_keeps_out_what_the_image_must_not_hold(path: str) -> None:
    assert not included(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "requirements/main.txt",
        "bot/__main__.py",
        "content/courses/docker/course.toml",
        "storage/alembic.ini",
        "deploy/wheels/x.whl",
    ],
)
def test_dockerignore_lets_in_what_the_build_copies(path: str) -> None:
    assert included(path)


def included(path: str) -> bool:
    """Docker's reading of .dockerignore, for the simple patterns this file uses: the last
    matching line wins; `dir/` and `dir` cover everything below."""
    keep = True
    for raw in DOCKERIGNORE.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(f"{regex}(/.*)?", path):
            keep = negate
    return keep


def test_the_lab_daemon_image_is_clean_but_for_running_as_root() -> None:
    """A Docker daemon runs as root: the course's rule says so, and nothing else is found."""
    text = (ROOT / "deploy" / "lab-daemon" / "Dockerfile").read_text(encoding="utf-8")
    review = review_dockerfile(text, dockerignore=None)
    assert review.hadolint_ran, review.note
    assert [f.code for f in review.findings] == ["runs-as-root"]


# --- compose.yaml -------------------------------------------------------------------------------


def test_the_bots_own_compose_review_finds_nothing() -> None:
    assert compose_findings(COMPOSE, "compose.yaml") == []
    assert review_compose(COMPOSE, "compose.yaml").findings == ()


def test_the_bot_waits_for_a_healthy_database_and_for_the_migrations() -> None:
    bot, migrate, db = SERVICES["bot"], SERVICES["migrate"], SERVICES["db"]
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert bot["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["image"] == bot["image"]


def test_every_service_restarts_rotates_its_logs_and_has_a_memory_limit() -> None:
    for name, service in SERVICES.items():
        assert service.get("restart") not in (None, "no"), name
        assert service["logging"]["options"]["max-size"], name
        assert service.get("mem_limit"), name


def test_data_lives_in_named_volumes_and_secrets_come_from_env() -> None:
    volumes = COMPOSE.data["volumes"]
    assert {"db-data", "bot-data"} <= set(volumes)
    assert "bot-data:/app/data" in SERVICES["bot"]["volumes"]
    assert "db-data:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert SERVICES["bot"]["env_file"] == ".env"
    assert "${POSTGRES_PASSWORD" in SERVICES["db"]["environment"]["POSTGRES_PASSWORD"]
    assert "ports" not in SERVICES["db"]


def test_the_image_tag_is_the_projects_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert SERVICES["bot"]["image"] == f"tutorbot:{version}"


def test_labs_are_opt_in_with_no_network_and_no_host_socket() -> None:
    lab = SERVICES["lab-docker"]
    assert lab["profiles"] == ["labs"]
    assert lab["network_mode"] == "none"
    assert not lab.get("privileged")
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            assert "docker.sock" not in str(volume).split(":")[0], (name, volume)
            assert not str(volume).startswith("/"), f"{name} bind-mounts a host path: {volume}"
    assert "labs" not in SERVICES["bot"].get("profiles", [])
    assert "lab-socket:/run/tutor-lab:ro" in SERVICES["bot"]["volumes"]


def test_the_bot_runs_locked_down() -> None:
    bot = SERVICES["bot"]
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bot["security_opt"]
    assert "ports" not in bot
