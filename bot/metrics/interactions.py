"""Counting interactions: which command or feature, how it ended, and how long it took.

Adapters call `started` where the bot's own code first sees an interaction
(TutorTree.interaction_check, SharedItem.interaction_check) and `finished` when its handler
has ended: ok (on_app_command_completion, SharedItem.callback), refused or error (the error
path, bot/ui/errors.py). Only the first `finished` counts, so no interaction is counted twice.
Autocomplete is not an interaction the learner waits on: it is not counted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.bot import TutorBot

OTHER = "other"
_STARTED = "metrics:started"  # keys in interaction.extras
_FEATURE = "metrics:feature"
_COUNTED = "metrics:counted"
_ID_PREFIX = re.compile(r"[a-z]{1,32}")


def feature_of(item_class: type) -> str:
    """The feature a persistent item belongs to: its package under bot/exts (the custom_id's
    prefix names the item; its class lives in that feature's package)."""
    parts = item_class.__module__.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["bot", "exts"] else OTHER


def started(interaction: discord.Interaction[TutorBot], feature: str | None = None) -> None:
    interaction.extras.setdefault(_STARTED, time.monotonic())
    if feature is not None:
        interaction.extras[_FEATURE] = feature


def finished(interaction: discord.Interaction[TutorBot], outcome: str) -> None:
    extras = interaction.extras
    if interaction.type is discord.InteractionType.autocomplete or extras.get(_COUNTED):
        return
    extras[_COUNTED] = True
    began = extras.get(_STARTED)
    seconds = None if began is None else time.monotonic() - began
    interaction.client.metrics.interaction(label(interaction), outcome, seconds)


def label(interaction: discord.Interaction[TutorBot]) -> str:
    """The slash command's qualified name ("group join"); for a button or select, its feature;
    for a modal, its custom_id's first word (only the bot's own modals reach a handler)."""
    if interaction.type is discord.InteractionType.application_command:
        command = interaction.command
        return command.qualified_name if command is not None else OTHER
    feature = interaction.extras.get(_FEATURE)
    if isinstance(feature, str):
        return feature
    data: Mapping[str, object] = interaction.data or {}
    custom_id = data.get("custom_id")
    prefix = _ID_PREFIX.match(custom_id) if isinstance(custom_id, str) else None
    return prefix.group() if prefix else OTHER
