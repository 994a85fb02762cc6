"""A tiny local base image made from Debian's busybox-static, for hosts with no registry.

The sandbox never pulls, so a server (and CI) needs its base images locally. This builds one
from the static busybox binary: every applet as a symlink, /etc/passwd with root and nobody
(65534), a world-writable /tmp. `python -m bot.labs.baseimage` imports it once.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import docker
import docker.errors

DEFAULT_REF = "tutor-lab/busybox:latest"
DEFAULT_BUSYBOX = Path("/bin/busybox")
LABEL = "tutor-lab.base"  # marks the base image: the sandbox's sweeps never remove it

_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_DIRS = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "etc": 0o755,
    "root": 0o700,
    "home": 0o755,
    "tmp": 0o1777,
    "proc": 0o555,
    "sys": 0o555,
    "dev": 0o755,
}


def rootfs_tar(busybox: Path) -> bytes:
    """The root filesystem as an uncompressed tar: busybox, its applets, passwd and group."""
    binary = busybox.read_bytes()
    applets = subprocess.run(
        [str(busybox), "--list-full"], check=True, capture_output=True, text=True, timeout=10
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, mode in _DIRS.items():
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        _add_file(tar, "bin/busybox", binary, 0o755)
        _add_file(tar, "etc/passwd", _PASSWD.encode(), 0o644)
        _add_file(tar, "etc/group", _GROUP.encode(), 0o644)
        for path in applets:
            if path == "bin/busybox":
                continue
            link = tarfile.TarInfo(path)
            link.type, link.linkname, link.mode = tarfile.SYMTYPE, "/bin/busybox", 0o777
            tar.addfile(link)
    return buffer.getvalue()


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def ensure_busybox_image(
    client: docker.DockerClient, ref: str = DEFAULT_REF, busybox: Path = DEFAULT_BUSYBOX
) -> bool:
    """Import the image as `ref` unless it is already there. True when it was imported."""
    try:
        client.images.get(ref)
        return False
    except docker.errors.ImageNotFound:
        pass
    if not busybox.is_file():
        raise FileNotFoundError(f"{busybox} is missing: install Debian's busybox-static")
    repository, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    client.api.import_image_from_data(
        rootfs_tar(busybox),
        repository=repository,
        tag=tag or "latest",
        changes=[f"LABEL {LABEL}=1", 'CMD ["sh"]'],
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default=DEFAULT_REF, help=f"image name (default {DEFAULT_REF})")
    parser.add_argument("--busybox", type=Path, default=DEFAULT_BUSYBOX)
    args = parser.parse_args(argv)
    try:
        client = docker.from_env()
        made = ensure_busybox_image(client, args.ref, args.busybox)
    except (docker.errors.DockerException, OSError) as exc:
        print(f"cannot make {args.ref}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.ref}: {'imported' if made else 'already present'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
