"""Facts about a built image that grading needs, read without starting it.

A created (never started) container lets us stat paths and read /etc/passwd; the saved image
lets us look for a secret in every layer, deleted files included.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator

import docker
from docker.models.containers import Container
from docker.models.images import Image

from bot.labs.results import ImageFacts, Job

_NUMBER = re.compile(r"[+-]?[0-9]+")
MAX_ID = 2**31 - 1


def inspect_image(client: docker.DockerClient, job: Job, image: Image) -> ImageFacts:
    """Size, layers, user, health check, and the files and secrets the lab asks about."""
    config = image.attrs.get("Config") or {}
    user = str(config.get("User") or "")
    facts = ImageFacts(
        size_bytes=int(image.attrs.get("Size", 0)),
        layers=len((image.attrs.get("RootFS") or {}).get("Layers") or []),
        user=user,
        uid=None,
        gid=None,
        healthcheck=bool((config.get("Healthcheck") or {}).get("Test"))
        and (config.get("Healthcheck") or {}).get("Test") != ["NONE"],
    )
    expect = job.lab.expect
    if job.final_base and (expect.max_added_mb is not None or expect.max_added_layers is not None):
        base = client.images.get(job.final_base)
        facts.base_size_bytes = int(base.attrs.get("Size", 0))
        facts.base_layers = len((base.attrs.get("RootFS") or {}).get("Layers") or [])
    probe = client.containers.create(
        image.id, command=["true"], labels=job.labels, network_mode="none"
    )
    try:
        uid, gid = resolve_user(probe, user)
        facts.uid, facts.gid = _usable(uid), _usable(gid)
        for path in job.lab.expect.absent:
            facts.present[path] = exists(probe, path)
    finally:
        probe.remove(force=True, v=True)
    if job.lab.expect.no_secret:
        facts.secrets_found = find_secrets(image, job.lab.expect.no_secret)
    return facts


def _read_file(container: Container, path: str) -> bytes | None:
    try:
        stream, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        handle = tar.extractfile(member) if member is not None else None
        return handle.read(1 << 20) if handle is not None else b""


def exists(container: Container, path: str) -> bool:
    """Whether `path` exists in a (created, never started) container: a HEAD on its archive."""
    api = container.client.api
    url = f"{api.base_url}/v{api.api_version}/containers/{container.id}/archive"
    response = api.head(url, params={"path": path}, timeout=30)
    if response.status_code not in (200, 404):
        response.raise_for_status()
    return response.status_code == 200


def _id(field: str) -> int:
    """A passwd or group id field as runc reads it: anything but a number counts as 0."""
    return int(field) if _NUMBER.fullmatch(field) else 0


def _usable(value: int | None) -> int | None:
    """An id the kernel takes as given. Docker truncates larger ones to 32 bits
    (4294967296 would run as 0), so those count as unresolvable and the job runs as 65534."""
    return value if value is not None and 0 <= value <= MAX_ID else None


def _entries(data: bytes | None) -> list[list[str]]:
    text = (data or b"").decode("utf-8", "replace")
    return [line.split(":") for line in text.splitlines() if len(line.split(":")) >= 4]


def resolve_user(container: Container, user: str) -> tuple[int | None, int | None]:
    """The (uid, gid) Docker will run the image's USER as, from the image's own /etc/passwd and
    /etc/group read as runc reads them (`evil:x::0:...` is uid 0). None where Docker could not
    resolve the name, so the container would not start."""
    name, _, group = user.partition(":")
    passwd = _entries(_read_file(container, "/etc/passwd")) if name or group else []
    if not name:
        uid, gid = 0, 0
    elif _NUMBER.fullmatch(name):
        uid = int(name)
        entry = next((e for e in passwd if _id(e[2]) == uid), None)
        gid = _id(entry[3]) if entry else 0
    else:
        entry = next((e for e in passwd if e[0] == name), None)
        if entry is None:
            return None, None
        uid, gid = _id(entry[2]), _id(entry[3])
    if group:
        if _NUMBER.fullmatch(group):
            return uid, int(group)
        groups = _entries(_read_file(container, "/etc/group"))
        found = next((g for g in groups if g[0] == group), None)
        return uid, _id(found[2]) if found else None
    return uid, gid


def scan(chunks: Iterator[bytes], needles: list[bytes]) -> set[bytes]:
    """Which needles occur in a byte stream (matches across chunk borders count too)."""
    found: set[bytes] = set()
    overlap = max((len(n) for n in needles), default=1) - 1
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        found.update(n for n in needles if n in window)
        tail = window[-overlap:] if overlap else b""
    return found


def find_secrets(image: Image, secrets: tuple[str, ...]) -> dict[str, str]:
    """Where each secret shows: the image history, its config, or the bytes of a layer."""
    found: dict[str, str] = {}
    history = " ".join(str(entry.get("CreatedBy", "")) for entry in image.history())
    config = json.dumps(image.attrs.get("Config") or {})
    for secret in secrets:
        if secret in history:
            found[secret] = "the image history"
        elif secret in config:
            found[secret] = "the image config"
    rest = [s for s in secrets if s not in found]
    if rest:
        hits = scan(image.save(named=False), [s.encode() for s in rest])
        found.update((s, "a layer of the image") for s in rest if s.encode() in hits)
    return found
