#!/usr/bin/env python3
"""The lock files: what the image, ./run.sh and CI install, pinned with hashes (pip-tools).

    .venv/bin/python scripts/lock.py             re-lock after editing pyproject.toml's dependencies
                                                 (keeps every pin that still fits)
    .venv/bin/python scripts/lock.py --upgrade   move every pin to the newest release allowed
    python3 scripts/lock.py --check              exit 1 when a lock is out of date (CI runs it)

pyproject.toml keeps ranges for people who install the package; the application runs the pins:

    requirements/main.txt   the bot's dependencies                 (the image, ./run.sh)
    requirements/dev.txt    the same pins plus the dev extra       (./test.sh, CI)
    requirements/build.txt  the build backend that packages the bot (the image, ./run.sh)

Each file's first line records a hash of pyproject.toml's dependency lists (requires-python,
dependencies, optional-dependencies, build-system.requires); `--check` recomputes it, so CI
fails as soon as a dependency changes without a new lock. The check needs only the standard
library; locking needs pip-tools (in the dev extra). Hashes are those of PyPI's files: the
host's own pip configuration (mirrors, find-links) is left out while locking.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK_DIR = ROOT / "requirements"
MAIN, DEV, BUILD = (LOCK_DIR / name for name in ("main.txt", "dev.txt", "build.txt"))
LOCKS = (MAIN, DEV, BUILD)
STAMP = "# pyproject-dependencies-sha256: "
INDEX_URL = os.environ.get("LOCK_INDEX_URL", "https://pypi.org/simple")


def dependency_hash(pyproject: Path = PYPROJECT) -> str:
    """A hash of the parts of pyproject.toml a lock is made from, and of nothing else."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    relevant = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system.requires": data.get("build-system", {}).get("requires", []),
    }
    canonical = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_hash(lock: Path) -> str | None:
    try:
        first = lock.read_text(encoding="utf-8").splitlines()[0]
    except (FileNotFoundError, IndexError):
        return None
    return first.removeprefix(STAMP).strip() if first.startswith(STAMP) else None


def problems(pyproject: Path = PYPROJECT, locks: tuple[Path, ...] = LOCKS) -> list[str]:
    """Why the locks do not match pyproject.toml; empty when they do."""
    expected = dependency_hash(pyproject)
    found: list[str] = []
    for lock in locks:
        name = lock.relative_to(lock.parent.parent) if lock.is_absolute() else lock
        recorded = recorded_hash(lock)
        if recorded is None:
            found.append(f"{name}: missing, or without its '{STAMP.strip('# :')}' line")
        elif recorded != expected:
            found.append(f"{name}: made from other dependencies than pyproject.toml lists now")
        else:
            logical = lock.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
            pins = [line for line in logical if line and not line.startswith((" ", "#", "-"))]
            unhashed = [line.split()[0] for line in pins if "--hash=" not in line]
            if unhashed or not pins:
                found.append(f"{name}: pins without hashes: {', '.join(unhashed) or 'no pins'}")
    return found


def _compile(output: Path, *args: str, upgrade: bool) -> None:
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)  # no mirrors or find-links of this host
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CONSTRAINT"):
        env.pop(name, None)
    command = [
        str(Path(sys.executable).parent / "pip-compile"),
        "--quiet",
        "--generate-hashes",
        "--allow-unsafe",  # pin pip and setuptools too, where something needs them
        "--strip-extras",
        "--no-emit-index-url",
        "--index-url",
        INDEX_URL,
        "--output-file",
        str(output.relative_to(ROOT)),
        *(["--upgrade"] if upgrade else []),
        *args,
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    text = output.read_text(encoding="utf-8")
    output.write_text(
        f"{STAMP}{dependency_hash()}\n"
        "# Made by scripts/lock.py from pyproject.toml: edit pyproject.toml, never this file.\n"
        + text,
        encoding="utf-8",
    )


def lock(*, upgrade: bool) -> None:
    LOCK_DIR.mkdir(exist_ok=True)
    build = ("--only-build-deps", "--build-deps-for", "wheel", "pyproject.toml")
    _compile(BUILD, *build, upgrade=upgrade)
    _compile(MAIN, "pyproject.toml", upgrade=upgrade)
    # the dev lock takes the others' pins as constraints: the tests run what the image runs,
    # and .venv can hold all three locks at once
    constraints = ("-c", "requirements/main.txt", "-c", "requirements/build.txt")
    _compile(DEV, "--extra", "dev", *constraints, "pyproject.toml", upgrade=upgrade)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="fail when a lock is out of date")
    group.add_argument("--upgrade", action="store_true", help="upgrade every pin")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for problem in found:
            print(f"lock out of date: {problem}", file=sys.stderr)
        if found:
            print("Re-lock with:  .venv/bin/python scripts/lock.py", file=sys.stderr)
            return 1
        print("locks match pyproject.toml")
        return 0
    lock(upgrade=args.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
