"""Host set-up without a daemon: the build cgroup's pids limit and the busybox root filesystem."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from bot.labs.baseimage import DEFAULT_BUSYBOX, rootfs_tar
from bot.labs.cgroups import limit_build_pids


def test_pids_limit_on_cgroup_v1(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    assert limit_build_pids("tutor-lab", 128, "cgroupfs", root=tmp_path)
    assert (tmp_path / "pids" / "tutor-lab" / "pids.max").read_text() == "128"


def test_pids_limit_on_cgroup_v2_enables_the_controller(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    assert limit_build_pids("tutor-lab", 64, "cgroupfs", root=tmp_path)
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+pids"
    assert (tmp_path / "tutor-lab" / "pids.max").read_text() == "64"


def test_no_limit_where_it_cannot_be_set(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    assert not limit_build_pids("tutor-lab", 64, "systemd", root=tmp_path)
    assert not limit_build_pids("a/b", 64, "cgroupfs", root=tmp_path)
    assert not limit_build_pids("tutor-lab", 64, "cgroupfs", root=tmp_path / "missing")


@pytest.mark.skipif(not DEFAULT_BUSYBOX.is_file(), reason="Debian's busybox-static is missing")
def test_the_busybox_root_filesystem() -> None:
    with tarfile.open(fileobj=io.BytesIO(rootfs_tar(DEFAULT_BUSYBOX))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        passwd = tar.extractfile(members["etc/passwd"]).read().decode()  # type: ignore[union-attr]
    assert members["bin/busybox"].isfile() and members["bin/busybox"].mode == 0o755
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["usr/sbin/httpd"].issym() and members["tmp"].mode == 0o1777
    assert "nobody:x:65534:65534" in passwd
