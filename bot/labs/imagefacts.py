"""Facts about a built image that grading needs, read without starting it.

A created (never started) container lets us stat paths and read /etc/passwd; the saved image
lets us look for a secret in every layer, deleted files included.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator

import docker
from docker.models.containers import Container
from docker.models.images import Image

from bot.labs.results import ImageFacts, Job

ROOT_NAMES = {"", "root", "0"}


def inspect_image(client: docker.DockerClient, job: Job, image: Image) -> ImageFacts:
    """Size, layers, user, health check, and the files and secrets the lab asks about."""
    config = image.attrs.get("Config") or {}
    user = str(config.get("User") or "")
    facts = ImageFacts(
        size_bytes=int(image.attrs.get("Size", 0)),
        layers=len((image.attrs.get("RootFS") or {}).get("Layers") or []),
        user=user,
        uid=None,
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
        facts.uid = resolve_uid(probe, user)
        for path in job.lab.expect.absent:
            facts.present[path] = exists(probe, path)
    finally:
        probe.remove(force=True)
    if job.lab.expect.no_secret:
        facts.secrets_found = find_secrets(image, job.lab.expect.no_secret)
    return facts


def is_root(uid: int | None, user: str) -> bool:
    return uid == 0 if uid is not None else user.split(":", 1)[0] in ROOT_NAMES


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


def resolve_uid(container: Container, user: str) -> int | None:
    """The numeric uid the image's USER means (None when the image's passwd cannot tell)."""
    name = user.split(":", 1)[0]
    if name in ROOT_NAMES:
        return 0
    if name.isdigit():
        return int(name)
    passwd = _read_file(container, "/etc/passwd")
    for line in (passwd or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return None


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
