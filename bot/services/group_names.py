"""Study group names: text a learner typed that other people's messages will show.

A name is shown in embeds, thread titles, leaderboards and autocomplete, next to text the bot
wrote. Escaping at every place it is shown is easy to forget once, so names are made inert
when they are stored: a short whitelist of characters (letters, digits, emoji, spaces and a
little punctuation) leaves nothing that Discord reads as a mention (`@`, `<@…>`), a channel
link, markdown (`*_~|>#` and backticks) or a masked link (`[…](…)`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.errors import UserError

MIN_LENGTH = 3
MAX_LENGTH = 32
PUNCTUATION = frozenset(" -'.,&+!?")
# Unicode categories that carry no markup: letters, marks, digits and symbols (emoji are So).
_SAFE_CATEGORIES = ("L", "M", "N", "So")
ALLOWED_HINT = "letters, digits, emoji, spaces and - ' . , & + ! ?"


@dataclass(frozen=True)
class GroupName:
    shown: str  # what people see
    key: str  # casefolded, what uniqueness is decided on


def _allowed(char: str) -> bool:
    return char in PUNCTUATION or unicodedata.category(char).startswith(_SAFE_CATEGORIES)


def clean_group_name(text: str) -> GroupName:
    """The stored form of a name a learner typed, or a UserError saying what to change."""
    # NFKC folds look-alikes such as full-width ＠ into the character they imitate.
    normal = unicodedata.normalize("NFKC", text)
    squeezed = " ".join(normal.split())
    if "@" in squeezed or "<" in squeezed:
        raise UserError("Group names can't contain mentions (`@…`, `<@…>`). Pick another name.")
    refused = sorted({c for c in squeezed if not _allowed(c)})
    if refused:
        shown = " ".join(f"`{c}`" if c != "`" else "backtick" for c in refused[:5])
        raise UserError(f"Group names can use {ALLOWED_HINT}; not {shown}.")
    name = squeezed.strip(" -'.,&+")
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise UserError(f"Group names are {MIN_LENGTH} to {MAX_LENGTH} characters long.")
    return GroupName(shown=name, key=name.casefold())
