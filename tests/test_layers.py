"""The layering the README states: `content` and `storage` never import `bot`."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["content", "storage"])
def test_lower_layers_never_import_the_bot(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name == "bot" or name.startswith("bot.")
        )
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_feature_is_in_the_independence_contract() -> None:
    """A new feature under bot/exts/ is checked by lint-imports only once the contract lists it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [independent] = [c for c in contracts if c["type"] == "independence"]
    features = {
        f"bot.exts.{path.parent.name}" for path in (ROOT / "bot" / "exts").glob("*/__init__.py")
    }
    assert features and features == set(independent["modules"])
