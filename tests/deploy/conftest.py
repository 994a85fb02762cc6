"""The image under test: TUTORBOT_IMAGE (default tutorbot:ci), built by scripts/ci-image.sh.

Image tests are marked `docker`. With no daemon, or no image, they skip and say why, unless CI
is set: CI builds the image before the tests (.ci/run), so there a missing one fails loudly.
They use the daemon the environment names (DOCKER_HOST, else the default socket), never the
lab daemon: the image is the bot's, not a learner's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import docker.errors
import docker.models.images
import pytest

IMAGE = os.environ.get("TUTORBOT_IMAGE", "tutorbot:ci")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_host() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        _unavailable(f"a Docker daemon, and none is reachable ({exc.__class__.__name__})")
    yield client
    client.close()


@pytest.fixture(scope="session")
def image(docker_host: docker.DockerClient) -> docker.models.images.Image:
    try:
        return docker_host.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"the image {IMAGE}: build it with scripts/ci-image.sh")
        raise  # unreachable: _unavailable skips or fails
