"""The sandbox's limits and switches, from `LAB_*` variables (see `.env.example`).

Defaults suit a 2-core server running one build at a time. Every limit applies to every job;
a lab may ask for less memory or time, never for more.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def parse_images(value: object) -> dict[str, str]:
    """`busybox:latest=tutor-lab/busybox:latest,debian:bookworm-slim` into {name: local ref}."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    images: dict[str, str] = {}
    for item in str(value or "").split(","):
        name, _, local = item.strip().partition("=")
        if name.strip():
            images[name.strip()] = local.strip() or name.strip()
    return images


class LabSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    enabled: bool = Field(default=True, description="False turns the sandbox off (review stays)")
    docker_host: str = Field(
        default="",
        description="The lab daemon's socket, e.g. unix:///run/tutor-lab/docker.sock "
        "('' = DOCKER_HOST or the default socket)",
    )
    require_isolation: bool = Field(
        default=True,
        description="Keep graded labs off unless the lab daemon cannot reach the network",
    )
    images: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {
            "busybox:latest": "tutor-lab/busybox:latest",
            "debian:bookworm-slim": "debian:bookworm-slim",
        },
        description="Base images FROM may name, each with the local image that stands for it",
    )
    concurrency: int = Field(default=1, ge=1, le=8, description="Jobs building at once")
    queue_size: int = Field(default=10, ge=0, le=100, description="Jobs that may wait")
    cooldown: float = Field(default=30.0, ge=0, description="Seconds between one learner's jobs")
    memory_mb: int = Field(default=128, ge=16, description="Memory (and memory+swap) per job")
    cpus: float = Field(default=0.5, gt=0, le=4, description="CPUs per job")
    pids: int = Field(default=64, ge=8, description="Processes per container")
    tmpfs_mb: int = Field(default=16, ge=1, description="Size of the writable /tmp")
    build_timeout: float = Field(default=60.0, gt=0, description="Seconds a build may take")
    run_timeout: float = Field(default=20.0, gt=0, description="Ceiling on a lab's run time")
    max_write_mb: int = Field(default=256, ge=1, description="Disk a build step may write")
    max_output_kb: int = Field(default=16, ge=1, description="Output kept per stream")
    max_input_kb: int = Field(default=64, ge=1, description="Build context, submission included")
    build_cgroup: str = Field(
        default="tutor-lab",
        description="cgroup parent of build steps; its pids.max caps them ('' = none)",
    )
    build_pids: int = Field(default=256, ge=8, description="pids.max of the build cgroup")

    @field_validator("images", mode="before")
    @classmethod
    def _images(cls, value: object) -> dict[str, str]:
        return parse_images(value)
