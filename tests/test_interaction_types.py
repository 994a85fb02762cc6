"""Interactions are typed for this bot, `discord.Interaction[TutorBot]`, so `interaction.client`
is a TutorBot to the type checker. Only discord.py's own hooks, which are generic in the client,
take a plain `discord.Interaction`, and narrow it with bot.ui.items.as_tutor."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPED = "discord.Interaction[TutorBot]"
HOOKS = {"from_custom_id", "interaction_check", "callback", "on_submit", "on_error"}
NARROWING = {"as_tutor", "_from_tutor"}


def loosely_typed(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name in HOOKS | NARROWING:
            continue
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
            if "Interaction" in annotation and annotation != TYPED:
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({arg.arg}: {annotation})"


def test_interactions_are_typed_for_the_tutor_bot() -> None:
    files = [ROOT / "bot" / "bot.py", *(ROOT / "bot" / "exts").rglob("*.py")]
    files += (ROOT / "bot" / "ui").rglob("*.py")
    assert [found for path in files for found in loosely_typed(path)] == []
