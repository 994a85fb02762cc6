"""Every setting's default is written once, in its Settings class: .env.example only repeats it,
and this test keeps the copy honest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from bot.config import Settings
from bot.labs.settings import LabSettings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


@pytest.mark.parametrize("settings", [Settings, LabSettings])
def test_env_example_says_what_the_defaults_are(
    settings: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.upper() in EXAMPLE.read_text(encoding="utf-8"):
            monkeypatch.delenv(name)  # the test compares files with defaults, not this shell
    from_example = settings(_env_file=EXAMPLE).model_dump()  # type: ignore[call-arg]
    defaults = settings(_env_file=None).model_dump()  # type: ignore[call-arg]
    assert from_example == defaults


def test_env_example_lists_every_setting() -> None:
    keys = {
        line.split("=", 1)[0]
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }
    names = {name.upper() for name in Settings.model_fields}
    names |= {f"LAB_{name.upper()}" for name in LabSettings.model_fields}
    assert names == keys
