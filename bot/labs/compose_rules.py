"""The course's Compose rules: what Parts 4–18 teach about a compose file, each with its line.

Rules read one file as Compose reads it (`bot.labs.compose_file`), never several merged. The
production-only rules skip files whose name says they are for development (an override file,
`compose.dev.yaml`…): those are where bind mounts and missing limits belong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bot.labs.compose_file import ComposeFile
from bot.labs.rules import Finding, RuleInfo, Severity, secret_named, secret_valued
from content.lab_block import COMPOSE_RULES

RULES: dict[str, RuleInfo] = {
    "depends-on-healthy": RuleInfo(15),
    "dependency-without-healthcheck": RuleInfo(15),
    "image-latest": RuleInfo(17),
    "secret-in-environment": RuleInfo(16),
    "db-port-public": RuleInfo(4),
    "privileged": RuleInfo(12),
    "docker-socket": RuleInfo(12),
    "container-name-scaled": RuleInfo(18),
    "no-restart-policy": RuleInfo(15),
    "source-bind-mount": RuleInfo(16),
    "no-resource-limits": RuleInfo(16),
    "no-log-rotation": RuleInfo(11),
}
assert set(RULES) == set(COMPOSE_RULES), "the lab format and the rules name the same rules"

_DEV_NAME = re.compile(r"override|dev|local|test", re.IGNORECASE)
_DB_PORTS = {5432, 3306, 1433, 1521, 27017, 6379, 9042, 9200, 5984, 11211, 8086, 26257}
_SOCKET = re.compile(r"(^|/)(var/)?run/docker\.sock$")
_ALL_INTERFACES = {"", "0.0.0.0", "::"}
_ROTATING_DRIVERS = {"local", "journald", "syslog", "none", "gelf", "fluentd", "awslogs", "splunk"}

Check = Callable[[ComposeFile], Iterator[Finding]]


def is_production(name: str | None) -> bool:
    """A file is for production unless its name says otherwise; a pasted file has no name."""
    return name is None or not _DEV_NAME.search(name)


def compose_findings(compose: ComposeFile, name: str | None = None) -> list[Finding]:
    checks = list(_EVERY_FILE) + (list(_PRODUCTION) if is_production(name) else [])
    return [finding for check in checks for finding in check(compose)]


def _finding(severity: Severity, line: int, code: str, fix: str, why: str) -> Finding:
    return Finding(severity, line, code, fix, why, RULES[code].part)


def _at(value: Any, *keys: str) -> Any:
    """The value under nested keys, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    return isinstance(check, dict) and not check.get("disable")


# --- every file -------------------------------------------------------------------------------


def _dependencies(compose: ComposeFile) -> Iterator[Finding]:
    services = compose.services
    for name, service in services.items():
        depends = service.get("depends_on")
        if not isinstance(depends, dict):
            continue
        for target, spec in depends.items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            other = services.get(target)
            if other is None or condition == "service_completed_successfully":
                continue
            line = compose.line("services", name, "depends_on", target)
            if not _has_healthcheck(other):
                yield _finding(
                    "warning",
                    line,
                    "dependency-without-healthcheck",
                    f"Give `{target}` a `healthcheck` and wait with `condition: service_healthy`.",
                    f"Without a health check, `{name}` starts as soon as `{target}` is started, "
                    "not when it is ready.",
                )
            elif condition != "service_healthy":
                yield _finding(
                    "warning",
                    line,
                    "depends-on-healthy",
                    f"Use the long form: `{target}: {{condition: service_healthy}}`.",
                    f"`{target}` has a health check, but `{name}` waits only for it to start.",
                )


def _images(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        image = service.get("image")
        if not isinstance(image, str) or "@" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.partition(":")[2]
        if tag in ("", "latest"):
            yield _finding(
                "warning",
                compose.line("services", name, "image"),
                "image-latest",
                "Pin a version tag (or a digest): `image: name:1.2.3`.",
                f"`{image}` means whatever `latest` is on the day of the pull: two hosts can run "
                "different code.",
            )


def _environment(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        environment = service.get("environment")
        if not isinstance(environment, dict):
            continue
        for key, value in environment.items():
            text = "" if value is None else str(value)
            literal = text != "" and "${" not in text and not text.startswith("$")
            if (secret_named(str(key)) and literal) or secret_valued(text):
                yield _finding(
                    "error",
                    compose.line("services", name, "environment", str(key)),
                    "secret-in-environment",
                    "Use a Compose `secrets:` entry (a file under /run/secrets) or `${VAR}` "
                    "from the environment, never the value itself.",
                    f"`{key}` is written into the file: it ends up in version control, "
                    "`docker inspect` and every log of the config.",
                )


def _published(port: Any) -> tuple[str, int | None]:
    """(host address, container port) of a `ports:` entry in its short or long form. Either
    form publishes on the host: with no host port given, Docker picks one."""
    if isinstance(port, dict):
        return str(port.get("host_ip") or ""), _number(port.get("target"))
    text = str(port).split("/")[0]  # drop the protocol
    address = ""
    if text.startswith("["):  # [::1]:5432:5432
        address, _, text = text[1:].partition("]")
        text = text.lstrip(":")
    parts = text.split(":")
    if len(parts) > 2:
        address = ":".join(parts[:-2])
    return address, _number(parts[-1].split("-")[0])


def _number(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _ports(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        ports = service.get("ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            address, container = _published(port)
            if container in _DB_PORTS and address in _ALL_INTERFACES:
                yield _finding(
                    "warning",
                    compose.line("services", name, "ports", str(index)),
                    "db-port-public",
                    f"Publish on loopback (`127.0.0.1:{container}:{container}`), or not at "
                    "all: services on the same network reach it by name.",
                    "Published without an address, the port listens on every interface of "
                    "the host, and Docker's rules bypass most host firewalls.",
                )


def _privileged(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        if service.get("privileged") is True:
            yield _finding(
                "error",
                compose.line("services", name, "privileged"),
                "privileged",
                "Remove `privileged: true`; add the one capability or device the service needs.",
                "A privileged container has every capability and every device: root in it is "
                "close to root on the host.",
            )


def _volume_parts(volume: Any) -> tuple[str, str, bool]:
    """(source, target, read-only) of a volume entry in its short or long form."""
    if isinstance(volume, dict):
        return (
            str(volume.get("source", "")),
            str(volume.get("target", "")),
            bool(volume.get("read_only")),
        )
    parts = str(volume).split(":")
    if len(parts) == 1:
        return "", parts[0], False
    mode = parts[2] if len(parts) > 2 else ""
    return parts[0], parts[1], "ro" in mode.split(",")


def _volumes(compose: ComposeFile) -> Iterator[tuple[str, int, str, str, bool]]:
    for name, service in compose.services.items():
        volumes = service.get("volumes")
        if isinstance(volumes, list):
            for index, volume in enumerate(volumes):
                line = compose.line("services", name, "volumes", str(index))
                yield (name, line, *_volume_parts(volume))


def _docker_socket(compose: ComposeFile) -> Iterator[Finding]:
    for _name, line, source, _target, _read_only in _volumes(compose):
        if _SOCKET.search(source):
            yield _finding(
                "error",
                line,
                "docker-socket",
                "Do not mount the Docker socket; if a tool must, give it a socket proxy that "
                "allows only the calls it needs.",
                "Whoever talks to the Docker socket is root on the host, read-only mount or not.",
            )


def _container_names(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        counts = [
            n
            for n in (_at(service, "deploy", "replicas"), service.get("scale"))
            if isinstance(n, int)
        ]
        if "container_name" in service and any(n > 1 for n in counts):
            yield _finding(
                "error",
                compose.line("services", name, "container_name"),
                "container-name-scaled",
                "Drop `container_name`: Compose names each replica itself.",
                "A container name is unique on a host, so a second replica cannot be created.",
            )


# --- production files -------------------------------------------------------------------------


def _restart(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        policy = _at(service, "deploy", "restart_policy")
        if service.get("restart") in (None, "no") and policy is None:
            yield _finding(
                "warning",
                compose.line("services", name),
                "no-restart-policy",
                "Add `restart: unless-stopped` (or `on-failure` for jobs).",
                "Without a restart policy a crash or a host reboot leaves the service down.",
            )


def _source_mounts(compose: ComposeFile) -> Iterator[Finding]:
    for name, line, source, target, read_only in _volumes(compose):
        if source.startswith((".", "~")) and not read_only:
            yield _finding(
                "warning",
                line,
                "source-bind-mount",
                "Bake the code into the image; keep the bind mount in `compose.override.yaml`.",
                f"`{name}` runs whatever is in `{source}` on the host at `{target}`, writable, "
                "not the image you tested.",
            )


def _limits(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        memory = _at(service, "deploy", "resources", "limits", "memory")
        if memory is None and "mem_limit" not in service:
            yield _finding(
                "warning",
                compose.line("services", name),
                "no-resource-limits",
                "Set `deploy.resources.limits.memory` (and `cpus`).",
                "One leaking service can take the host's memory and every other service with it.",
            )


def _logging(compose: ComposeFile) -> Iterator[Finding]:
    for name, service in compose.services.items():
        driver = _at(service, "logging", "driver") or "json-file"
        if driver in _ROTATING_DRIVERS or _at(service, "logging", "options", "max-size"):
            continue
        yield _finding(
            "info",
            compose.line("services", name, "logging"),
            "no-log-rotation",
            'Add `logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}` '
            "(or set it once in the daemon's daemon.json).",
            "The default json-file driver never rotates: a chatty service fills the disk.",
        )


_EVERY_FILE: tuple[Check, ...] = (
    _dependencies,
    _images,
    _environment,
    _ports,
    _privileged,
    _docker_socket,
    _container_names,
)
_PRODUCTION: tuple[Check, ...] = (_restart, _source_mounts, _limits, _logging)
