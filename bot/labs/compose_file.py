"""A compose file read safely: PyYAML's parser, our own small constructor, hard limits.

PyYAML composes the node graph (it knows YAML's syntax far better than any rules of ours); we
then turn nodes into plain data ourselves, because that is where a hostile file strikes:
aliases that expand to millions of nodes (a "billion laughs"), an alias inside itself, nesting
deep enough to overflow the stack. The constructor counts every node it builds, aliases
expanded, and stops at a limit. Plain scalars are resolved as Compose (Go's yaml.v3, YAML 1.2)
reads them: `yes` and `on` stay strings, `22:22` is not a base-60 number.

The result is normalised the way Compose reads the short syntaxes the course's rules look at:
`depends_on` lists become mappings with a condition, `environment` lists become mappings.
`extends`, `include` and the merging of several files are not performed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_NODES = 20_000  # a real compose file has a few hundred
MAX_DEPTH = 40
TOP_KEYS = ("services", "version", "name", "include", "volumes", "networks", "secrets", "configs")

try:  # libyaml's composer when PyYAML was built with it: same node graph, faster
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the wheel
    _Loader = yaml.SafeLoader

Path = tuple[str, ...]

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_COMPOSE_START = re.compile(rf"({'|'.join(TOP_KEYS)}|x-[\w.-]+)\s*:")
_KEEP_TAGS = ("!reset", "!override")  # Compose v2's merge tags: the value is read as usual
_CORE_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp")
}


class ComposeError(ValueError):
    """The file cannot be read as a compose file; `line` is 1-based (0 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.reason = message


@dataclass(frozen=True)
class ComposeFile:
    data: dict[str, Any]  # plain data, normalised (see the module's notes)
    lines: Mapping[Path, int] = field(default_factory=dict)  # key path -> its 1-based line

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services = self.data.get("services")
        if not isinstance(services, dict):
            return {}
        return {name: s if isinstance(s, dict) else {} for name, s in services.items()}

    def line(self, *path: str) -> int:
        """The line of the deepest key of `path` that the file spells out (1 if none)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def looks_like_compose(text: str) -> bool:
    """Whether the first line that says something opens a compose file's top-level key.

    No Dockerfile does: its first instruction is FROM, ARG or a parser directive."""
    for raw in text.removeprefix("\ufeff").splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and line != "---":
            return bool(_COMPOSE_START.match(raw))
    return False


def read_compose(text: str, *, max_chars: int) -> ComposeFile:
    """Parse, bound and normalise one compose file; ComposeError says what is wrong, where."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ComposeError(0, "the file is empty")
    if len(text) > max_chars:
        raise ComposeError(0, f"the file has {len(text):,} characters; the limit is {max_chars:,}")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ComposeError(line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # more than one document, and the like
        raise ComposeError(0, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ComposeError(0, f"nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        raise ComposeError(0, "the file is empty")
    builder = _Builder()
    data = builder.build(node, (), 0)
    if not isinstance(data, dict):
        raise ComposeError(node.start_mark.line + 1, "a compose file is a mapping (services: …)")
    return ComposeFile(_normalised(data, builder.lines), builder.lines)


class _Builder:
    """Nodes to plain data, counting what it builds and remembering where each key stands."""

    def __init__(self) -> None:
        self.count = 0
        self.lines: dict[Path, int] = {}

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if node.tag not in _CORE_TAGS and node.tag not in _KEEP_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ComposeError(node.start_mark.line + 1, f"unknown YAML tag {tag}")
        self.count += 1
        if self.count > MAX_NODES:
            raise ComposeError(
                node.start_mark.line + 1,
                f"the file expands to more than {MAX_NODES:,} values (aliases included): "
                "refused as a YAML bomb",
            )
        if depth > MAX_DEPTH:
            raise ComposeError(
                node.start_mark.line + 1,
                f"nested more than {MAX_DEPTH} levels deep (or an alias inside itself)",
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, str(index))] = item.start_mark.line + 1
                items.append(self.build(item, (*path, str(index)), depth + 1))
            return items
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        own: dict[str, Any] = {}
        merges = 0
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges += 1
                if merges > 1:  # Compose v2 refuses it; write `<<: [*a, *b]`
                    raise ComposeError(key_node.start_mark.line + 1, "'<<' is set twice here")
                merged.update(self._merge_sources(value_node, path, depth))
                continue
            key = _key(key_node)
            if key in own:
                raise ComposeError(key_node.start_mark.line + 1, f"'{key}' is set twice here")
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            own[key] = self.build(value_node, (*path, key), depth + 1)
        return {**merged, **own}  # a mapping's own keys win over merged ones

    def _merge_sources(self, node: yaml.Node, path: Path, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):  # earlier sources win
            value = self.build(source, path, depth + 1)
            if not isinstance(value, dict):
                raise ComposeError(source.start_mark.line + 1, "'<<' merges only mappings")
            merged.update(value)
        return merged


def _key(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise ComposeError(node.start_mark.line + 1, "a key must be plain text")
    value = _scalar(node)
    return value if isinstance(value, str) else node.value


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):  # pragma: no cover - build() dispatches
        raise TypeError(node)
    text = node.value
    if node.style or node.tag == "tag:yaml.org,2002:str":  # quoted or block text
        return text
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT.fullmatch(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT.fullmatch(text):
        return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return text


def _normalised(data: dict[str, Any], lines: dict[Path, int]) -> dict[str, Any]:
    services = data.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            if isinstance(service, dict):
                _normalise_service(service, ("services", name), lines)
    return data


def _normalise_service(service: dict[str, Any], path: Path, lines: dict[Path, int]) -> None:
    depends = service.get("depends_on")
    if isinstance(depends, list):
        service["depends_on"] = {str(name): {"condition": "service_started"} for name in depends}
    elif isinstance(depends, dict):
        for name, spec in depends.items():
            spec = spec if isinstance(spec, dict) else {}
            spec.setdefault("condition", "service_started")
            depends[name] = spec
    environment = service.get("environment")
    if isinstance(environment, list):
        mapping: dict[str, Any] = {}
        for index, item in enumerate(environment):
            key, sep, value = str(item).partition("=")
            mapping[key] = value if sep else None
            where = lines.get((*path, "environment", str(index)))
            if where:
                lines[(*path, "environment", key)] = where
        service["environment"] = mapping
