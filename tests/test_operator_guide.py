"""Every message the code prints for an operator has a troubleshooting entry in the guide.

The messages are read from the source with `ast`, not copied here, so a new one without an entry
in docs/operations.md fails this test. A message's text is its constant pieces in order; the
variable parts (f-string fields, %-placeholders of a log call) may be anything in the guide,
where they are written as `…`. Whitespace, line breaks included, counts as one space.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "operations.md"
SOURCES = ("bot", "storage", "content", "scripts")

# Where operator messages are made: these exceptions (whose text the CLI prints as it is), any
# `Exception` subclass that writes its own message in `__init__` (a learner's errors derive
# from UserError instead), the settings validators, the health reasons, the CLI's stderr.
OPERATOR_ERRORS = {"StartupError", "SettingsError", "BackupError", "CopyError", "SystemExit"}
SETTINGS_MODULE = Path("bot/config.py")
HEALTH_MODULE = Path("bot/health.py")
CLI_MODULE = Path("bot/__main__.py")
LOG_LEVELS = {"warning", "error", "critical", "exception"}
PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdfgr]")
BETWEEN = 200  # characters a variable part may take in the guide (`…` or an example)


@dataclass(frozen=True)
class Message:
    where: str  # path:line
    pieces: tuple[str, ...]  # the constant text, split where a value goes

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = [re.escape(flat(piece)) for piece in self.pieces if flat(piece)]
        return re.compile(f".{{0,{BETWEEN}}}?".join(parts))


def flat(text: str) -> str:
    return " ".join(text.split())


def pieces(node: ast.expr, constants: dict[str, str]) -> tuple[str, ...] | None:
    """The constant pieces of a string expression: a literal, an f-string, `"..." + x`, or a
    module constant's name. None when the expression is no string at all."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Name) and node.id in constants:
        return (constants[node.id],)
    if isinstance(node, ast.JoinedStr):  # a field ({...}) leaves an empty piece
        return tuple(str(v.value) if isinstance(v, ast.Constant) else "" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = pieces(node.left, constants), pieces(node.right, constants)
        if left is None and right is None:
            return None
        return (*(left or ("",)), *(right or ("",)))
    return None


def module_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            found = pieces(node.value, {})
            if found is not None and len(found) == 1:
                constants[node.targets[0].id] = found[0]
    return constants


def raised_name(node: ast.Raise) -> tuple[str, ast.Call] | None:
    call = node.exc
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.args:
        return call.func.id, call
    return None


def own_messages(tree: ast.Module) -> Iterator[ast.Call]:
    """`super().__init__(...)` calls in the `__init__` of classes derived from Exception."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            isinstance(base, ast.Name) and base.id == "Exception" for base in node.bases
        ):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "__init__"
                    and ast.unparse(call.func.value) == "super()"
                    and call.args
                ):
                    yield call


def is_stderr_print(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Name)
        and call.func.id == "print"
        and any(
            keyword.arg == "file" and ast.unparse(keyword.value) == "sys.stderr"
            for keyword in call.keywords
        )
    )


def is_log_call(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in LOG_LEVELS
        and isinstance(func.value, ast.Name)
        and func.value.id == "log"
    )


def operator_texts(tree: ast.Module, relative: Path) -> Iterator[tuple[ast.AST, ast.expr]]:
    """(node, message expression) of everything in a module an operator is shown."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and (raised := raised_name(node)):
            name, call = raised
            if name in OPERATOR_ERRORS or (relative == SETTINGS_MODULE and name == "ValueError"):
                yield node, call.args[0]
        elif relative == CLI_MODULE and isinstance(node, ast.Call) and is_stderr_print(node):
            if node.args:
                yield node, node.args[0]
        elif (
            relative == HEALTH_MODULE
            and isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
            and node.name.startswith("check_")
        ):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    yield inner, inner.value
    for call in own_messages(tree):
        yield call, call.args[0]


def messages_in(path: Path, *, logs: bool) -> Iterator[Message]:
    """The operator messages of a module, or (`logs`) its logged warnings and errors."""
    relative = path.relative_to(ROOT)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = module_constants(tree)
    if logs:
        texts: Iterable[tuple[ast.AST, ast.expr]] = (
            (node, node.args[0])
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and is_log_call(node) and node.args
        )
    else:
        texts = operator_texts(tree, relative)
    for node, expression in texts:
        found = pieces(expression, constants)
        if found is None:
            continue
        if logs:
            found = tuple(part for piece in found for part in PLACEHOLDER.split(piece))
        if any(flat(piece) for piece in found):
            yield Message(f"{relative}:{getattr(node, 'lineno', 0)}", found)


def all_messages(*, logs: bool) -> list[Message]:
    return [
        message
        for package in SOURCES
        for path in sorted((ROOT / package).rglob("*.py"))
        for message in messages_in(path, logs=logs)
    ]


OPERATOR_MESSAGES = all_messages(logs=False)
LOG_MESSAGES = all_messages(logs=True)


@functools.cache
def guide_text() -> str:
    return flat(GUIDE.read_text(encoding="utf-8"))


def test_the_extractor_finds_the_messages_it_is_meant_to() -> None:
    """Guards the extraction itself: with none found, every other test here would pass."""
    texts = {flat("".join(message.pieces)) for message in OPERATOR_MESSAGES + LOG_MESSAGES}
    expected = [
        "The database schema is at revision",  # StartupError, f-string
        "The configuration has problems (environment or .env):",  # SettingsError, a + b
        "SHARD_IDS lists a shard twice",  # a settings validator
        "the bot is running but not connected to Discord",  # a health reason
        "already exists; choose another path or add --force.",  # BackupError, value first
        "tutorbot db backup copies SQLite only",  # printed on stderr by the CLI
        "GRADED LABS ARE OFF",  # a module constant, logged
        "outbox: cannot post in channel",  # a log line with %-placeholders
        "already sends the reminders of the SQLite database",  # an exception's own message
    ]
    missing = [text for text in expected if not any(text in found for found in texts)]
    assert missing == []
    assert len(OPERATOR_MESSAGES) >= 30, len(OPERATOR_MESSAGES)


@pytest.mark.parametrize("message", OPERATOR_MESSAGES, ids=lambda message: message.where)
def test_every_operator_error_has_a_troubleshooting_entry(message: Message) -> None:
    assert message.pattern.search(guide_text()), (
        f"{message.where}: {''.join(message.pieces)!r} is not quoted in docs/operations.md "
        "(Troubleshooting: the message with `…` for its variable parts, its cause and fix)"
    )


@pytest.mark.parametrize("message", LOG_MESSAGES, ids=lambda message: message.where)
def test_every_logged_warning_and_error_has_a_troubleshooting_entry(message: Message) -> None:
    assert message.pattern.search(guide_text()), (
        f"{message.where}: the log line {''.join(message.pieces)!r} is not quoted in "
        "docs/operations.md (Troubleshooting, with `…` for its %-placeholders)"
    )


def test_a_message_shortened_in_the_guide_still_matches() -> None:
    """The guide writes `…` where the code puts a value; a changed wording does not match."""
    message = Message("x.py:1", ("There is no database at ", "", " to back up (check DATA_DIR)."))
    assert message.pattern.search("There is no database at `…` to back up (check DATA_DIR).")
    assert not message.pattern.search("There is no database at `…`; check DATA_DIR.")
