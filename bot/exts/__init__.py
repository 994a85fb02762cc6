"""Discord adapters, one package per feature. Every package here with a `setup` is loaded."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator


def walk_extensions() -> Iterator[str]:
    """Yield the dotted name of every `bot.exts.<feature>` package that defines `setup`."""
    for module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        if not module.ispkg or module.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        imported = importlib.import_module(module.name)
        if inspect.isfunction(getattr(imported, "setup", None)):
            yield module.name
