"""The Compose review: the file read safely, each rule with its line, hostile files refused."""

from __future__ import annotations

import time

import pytest

from bot.labs.compose_file import (
    MAX_NODES,
    ComposeError,
    looks_like_compose,
    read_compose,
)
from bot.labs.compose_rules import RULES, compose_findings, is_production
from bot.labs.review import review_compose

LIMIT = 20_000

RISKY = """\
services:
  web:
    image: example/web
    depends_on: [db, cache]
    environment:
      - DB_PASSWORD=hunter2
      - DB_HOST=db
    volumes:
      - .:/app
      - /var/run/docker.sock:/var/run/docker.sock
    privileged: true
    container_name: web
    deploy:
      replicas: 3
  db:
    image: postgres:16
    ports: ["5432:5432"]
    healthcheck:
      test: ["CMD", "pg_isready"]
  cache:
    image: redis:7
"""

GOOD = """\
x-logging: &logging
  driver: json-file
  options: {max-size: 10m, max-file: "3"}

services:
  web:
    image: example/web:1.4.2
    restart: unless-stopped
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    environment:
      DB_PASSWORD_FILE: /run/secrets/db_password
      API_TOKEN: ${API_TOKEN}
    ports: ["8080:8080"]
    logging: *logging
    deploy:
      replicas: 2
      resources: {limits: {memory: 256m, cpus: "0.5"}}
  migrate:
    image: example/web:1.4.2
    command: ["migrate"]
    restart: "on-failure"
    logging: *logging
    mem_limit: 128m
  db:
    image: postgres:16.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    restart: unless-stopped
    ports: ["127.0.0.1:5432:5432"]
    healthcheck:
      test: ["CMD", "pg_isready"]
    logging: *logging
    deploy: {resources: {limits: {memory: 512m}}}
"""


def codes_by_line(text: str, name: str | None = None) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for finding in compose_findings(read_compose(text, max_chars=LIMIT), name):
        found.setdefault(finding.code, set()).add(finding.line)
    return found


def test_every_rule_fires_on_its_line_and_names_a_part() -> None:
    found = codes_by_line(RISKY)
    assert found == {
        "dependency-without-healthcheck": {4},  # cache has no health check
        "depends-on-healthy": {4},  # db has one, but the short form waits only for start
        "image-latest": {3},
        "secret-in-environment": {6},
        "source-bind-mount": {9},
        "docker-socket": {10},
        "privileged": {11},
        "container-name-scaled": {12},
        "db-port-public": {17},
        "no-restart-policy": {2, 15, 20},
        "no-resource-limits": {2, 15, 20},
        "no-log-rotation": {2, 15, 20},
    }
    assert set(found) == set(RULES)
    for finding in compose_findings(read_compose(RISKY, max_chars=LIMIT)):
        assert finding.part is not None and finding.fix and finding.why


def test_a_careful_file_gets_no_findings() -> None:
    assert codes_by_line(GOOD) == {}


def test_production_rules_skip_development_files() -> None:
    assert not is_production("compose.override.yaml")
    assert not is_production("compose.dev.yml")
    assert is_production("compose.yaml") and is_production(None)
    found = codes_by_line(RISKY, "compose.override.yaml")
    assert "source-bind-mount" not in found and "no-restart-policy" not in found
    assert "privileged" in found  # never right, in any file


@pytest.mark.parametrize(
    ("port", "public"),
    [
        ("5432:5432", True),
        ("5432", True),  # a random host port, on every interface
        ("0.0.0.0:5432:5432", True),
        ("127.0.0.1:5432:5432", False),
        ("[::1]:5432:5432", False),
        ("15432:5432/tcp", True),
        ("8080:80", False),
        ({"target": 5432, "published": 5432}, True),
        ({"target": 5432, "host_ip": "127.0.0.1"}, False),
    ],
)
def test_database_ports_published_on_every_interface(port: object, public: bool) -> None:
    entry = (
        port
        if isinstance(port, str)
        else "{"
        + ", ".join(
            f"{k}: {v}"
            for k, v in port.items()  # type: ignore[attr-defined]
        )
        + "}"
    )
    text = f'services:\n  db:\n    image: postgres:16\n    ports: ["{entry}"]\n'
    if not isinstance(port, str):
        text = f"services:\n  db:\n    image: postgres:16\n    ports:\n      - {entry}\n"
    assert ("db-port-public" in codes_by_line(text, "compose.dev.yaml")) is public


def test_yaml_is_read_as_compose_reads_it() -> None:
    compose = read_compose(
        "services:\n  a:\n    image: x:1\n    ports: [22:22]\n    tty: yes\n"
        "    environment: [A=1, B]\n    depends_on: [b]\n  b: {image: 'y:2'}\n",
        max_chars=LIMIT,
    )
    service = compose.services["a"]
    assert service["ports"] == ["22:22"]  # YAML 1.1 would make it 1342 (base 60)
    assert service["tty"] == "yes"  # a string in YAML 1.2, as Go's yaml.v3 reads it
    assert service["environment"] == {"A": "1", "B": None}
    assert service["depends_on"] == {"b": {"condition": "service_started"}}
    assert compose.line("services", "a", "ports") == 4


def test_merge_keys_resolve_and_own_keys_win() -> None:
    compose = read_compose(
        "x-base: &base\n  image: x:1\n  restart: always\n"
        "services:\n  a:\n    <<: *base\n    restart: unless-stopped\n",
        max_chars=LIMIT,
    )
    assert compose.services["a"] == {"image": "x:1", "restart": "unless-stopped"}


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (LAUGHS, f"more than {MAX_NODES:,} values"),
        ("services: &s\n  a: *s\n", "an alias inside itself"),
        ("services:\n  a: {image: x}\n  a: {image: y}\n", "'a' is set twice"),
        ("x-a: &a {b: 1}\nservices:\n  s:\n    <<: *a\n    <<: *a\n", "'<<' is set twice"),
        ("services:\n  a: [\n", "not valid YAML"),
        ("- just\n- a list\n", "a compose file is a mapping"),
        ("services: !!python/object:os.system {}\n", "unknown YAML tag !!python/object"),
        ("services:\n  a: !secret x\n", "unknown YAML tag !secret"),
        ("services: {}\n---\nservices: {}\n", "not valid YAML"),
        ("x" * (LIMIT + 1), "the limit is 20,000"),
        ("   \n", "empty"),
    ],
)
def test_hostile_or_broken_files_get_a_clear_refusal(text: str, says: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ComposeError) as refused:
        read_compose(text, max_chars=LIMIT)
    assert says in str(refused.value)
    assert time.perf_counter() - started < 5  # refused, not ground through


def test_an_error_names_its_line() -> None:
    with pytest.raises(ComposeError) as refused:
        read_compose("services:\n  a:\n    image: x\n   bad: indent\n", max_chars=LIMIT)
    assert refused.value.line == 4


def test_compose_files_and_dockerfiles_are_told_apart() -> None:
    assert looks_like_compose(RISKY)
    assert looks_like_compose("# the stack\n---\nname: shop\nservices: {}\n")
    assert looks_like_compose("x-common: &c {}\nservices: {}\n")
    assert not looks_like_compose('FROM busybox\nCMD ["true"]\n')
    assert not looks_like_compose("# syntax=docker/dockerfile:1\nFROM busybox\n")
    assert not looks_like_compose("ARG services=1\nFROM busybox\n")


def test_the_review_lists_compose_findings_by_severity() -> None:
    review = review_compose(read_compose(RISKY, max_chars=LIMIT))
    assert review.kind == "Compose file"
    severities = [finding.severity for finding in review.findings]
    assert severities == sorted(severities, key=("error", "warning", "info").index)
    folded = {f.code: f for f in review.findings}
    assert len(folded["no-restart-policy"].more_lines) == 2  # one finding, three services
