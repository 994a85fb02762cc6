"""A cgroup parent that caps the processes of build steps.

The build API has no pids limit, but it takes a cgroup parent, and `pids.max` is hierarchical:
set on the parent, it holds for every build container below it. This only works where the bot
shares the daemon's cgroup filesystem and may write to it (root on the Docker host, as in CI);
elsewhere it returns False and the operator can create the group (`.env.example`, LAB_BUILD_CGROUP).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def limit_build_pids(name: str, pids: int, driver: str, root: Path = CGROUP_ROOT) -> bool:
    """Create cgroup `name` with `pids.max` = pids (v1 or v2, cgroupfs driver). True when set."""
    if driver != "cgroupfs" or "/" in name.strip("/"):
        return False
    v1 = root / "pids"
    try:
        if v1.is_dir():
            group = v1 / name
        elif (root / "cgroup.controllers").is_file():
            control = root / "cgroup.subtree_control"
            if "pids" not in control.read_text().split():
                control.write_text("+pids")
            group = root / name
        else:
            return False
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(pids))
        return (group / "pids.max").read_text().strip() == str(pids)
    except OSError as exc:
        log.info("cannot limit build pids in %s: %s", name, exc)
        return False
