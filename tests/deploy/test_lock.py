"""The lock files match pyproject.toml, and the check notices when they stop matching."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_lock_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_tool", ROOT / "scripts" / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("lock_tool", module)
    spec.loader.exec_module(module)
    return module


lock = load_lock_tool()


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", path.read_text(), flags=re.MULTILINE)
    return {normalised(name): version for name, version in found}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalised(re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0])


def test_the_locks_match_pyproject() -> None:
    assert lock.problems() == []


def test_a_changed_dependency_makes_the_locks_stale(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(text.replace('"aiosqlite>=0.20"', '"aiosqlite>=0.21"'))
    found = lock.problems(pyproject=pyproject)
    assert len(found) == 3 and all("other dependencies" in p for p in found)


def test_other_edits_to_pyproject_leave_the_locks_valid(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text() + "\n[tool.example]\nx = 1\n")
    assert lock.problems(pyproject=pyproject) == []


def test_a_lock_without_hashes_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "requirements"
    shutil.copytree(ROOT / "requirements", copy)
    main = copy / "main.txt"
    main.write_text(re.sub(r" \\\n\s+--hash=sha256:\w+", "", main.read_text()))
    found = lock.problems(locks=(main,))
    assert len(found) == 1 and "without hashes" in found[0]


def test_every_dependency_is_pinned_and_dev_runs_the_same_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    main, dev = pins(ROOT / "requirements/main.txt"), pins(ROOT / "requirements/dev.txt")
    build = pins(ROOT / "requirements/build.txt")
    assert {requirement_name(d) for d in project["dependencies"]} <= set(main)
    extras = project["optional-dependencies"]["dev"]
    assert {requirement_name(d) for d in extras} <= set(dev)
    assert {name: dev[name] for name in main} == main
    assert all(dev.get(name, version) == version for name, version in build.items())
    assert "setuptools" in build
