"""The built image, run: it starts, turns healthy, and stops cleanly on SIGTERM.

Discord is out of reach in CI, so the container's own, unchanged `tutorbot run` logs in to the
loopback Discord (tests/fake_discord.py) this test serves on 127.0.0.1: the container shares
the host's network, and tests/deploy/shim (mounted, on PYTHONPATH) points discord.py at it.
Healthy then means what it means in production: the image's HEALTHCHECK (`tutorbot health`,
run by Docker) found a fresh heartbeat of a bot that is connected, and its database answering
with the right schema. Only the check's interval is shortened, to keep the test quick.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import docker
import docker.models.containers
import docker.models.images
import pytest

from tests.fake_discord import FakeDiscord

pytestmark = pytest.mark.docker

SHIM = Path(__file__).resolve().parent / "shim"
GRACE = 30  # seconds: compose.yaml's stop_grace_period for the bot
UID = "10001"


def test_the_image_is_configured_as_the_dockerfile_says(
    image: docker.models.images.Image,
) -> None:
    config = image.attrs["Config"]
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["/usr/bin/tini", "--", "tutorbot"]
    assert config["Cmd"] == ["run"]
    assert config["Healthcheck"]["Test"] == ["CMD", "tutorbot", "health"]
    assert config["WorkingDir"] == "/app"
    assert not config.get("Volumes")
    assert not any(var.startswith(("DISCORD_TOKEN", "PIP_")) for var in config["Env"])


def test_health_in_a_bare_container_names_both_problems(
    docker_host: docker.DockerClient, image: docker.models.images.Image
) -> None:
    container = docker_host.containers.run(image.id, ["health"], detach=True)
    try:
        status = container.wait(timeout=60)["StatusCode"]
        output = container.logs().decode()
    finally:
        container.remove(force=True)
    assert status == 1, output
    assert "no heartbeat" in output and "no database" in output


async def test_it_turns_healthy_and_stops_cleanly_on_sigterm(
    docker_host: docker.DockerClient, image: docker.models.images.Image
) -> None:
    async with FakeDiscord() as fake:
        container = await asyncio.to_thread(
            docker_host.containers.run,
            image.id,
            detach=True,
            network_mode="host",
            environment={
                "DISCORD_TOKEN": fake.token,
                "TUTOR_FAKE_DISCORD": f"http://127.0.0.1:{fake.port}",
                "PYTHONPATH": "/shim",
                "LOG_LEVEL": "INFO",
            },
            volumes={str(SHIM): {"bind": "/shim", "mode": "ro"}},
            healthcheck={"interval": 1_000_000_000, "timeout": 10_000_000_000},
            stop_signal="SIGTERM",
        )
        try:
            started = time.monotonic()
            health = await wait_for_health(container, deadline=120)
            assert health == "healthy", container.logs().decode()[-3000:]
            to_healthy = time.monotonic() - started
            assert fake.connected_clients == 1, "the bot is not on the (loopback) gateway"

            def run(*command: str) -> str:
                code, out = container.exec_run(list(command))
                assert code == 0, out
                return str(out.decode().strip())

            assert run("id", "-u") == UID
            assert run("cat", "/proc/1/comm") == "tini"
            assert run("tutorbot", "health") == "healthy"
            assert {"health.json", "tutor.db"} <= set(run("ls", "/app/data").split())

            stopping = time.monotonic()
            await asyncio.to_thread(container.stop, timeout=GRACE)
            stop_took = time.monotonic() - stopping
            state = (await asyncio.to_thread(container.reload) or container.attrs)["State"]
            logs = container.logs().decode()
            assert (state["ExitCode"], state["OOMKilled"]) == (0, False), logs[-3000:]
            assert "stopped cleanly" in logs
            assert stop_took < GRACE
            print(f"\nhealthy after {to_healthy:.1f} s; stopped {stop_took:.1f} s after SIGTERM")
        finally:
            await asyncio.to_thread(container.remove, force=True)


async def wait_for_health(container: docker.models.containers.Container, deadline: float) -> str:
    """The container's health status once it leaves `starting` (or the last one seen)."""
    give_up = time.monotonic() + deadline
    status = "starting"
    while time.monotonic() < give_up:
        await asyncio.to_thread(container.reload)
        state = container.attrs["State"]
        status = (state.get("Health") or {}).get("Status", "none")
        if state["Status"] != "running" or status not in ("starting", "none"):
            return str(status) if state["Status"] == "running" else f"exited: {status}"
        await asyncio.sleep(0.5)
    return status
