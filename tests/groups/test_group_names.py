"""Group names are user text shown in other people's messages: stored inert or refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.services.group_names import MAX_LENGTH, clean_group_name

INERT = set("@<>*_~|`\\#[]():/")


@pytest.mark.parametrize(
    "text",
    [
        "@everyone",
        "Docker @here fans",
        "<@123456789012345678>",
        "<@&123456789012345678> crew",
        "<#123456789012345678>",
        "＠everyone",  # full-width at sign folds to @
        "**bold** move",
        "`code` club",
        "[click](https://evil.example)",
        "# Heading",
        "||spoiler||",
        "a\u200beveryone",  # zero-width space
    ],
)
def test_mentions_markdown_and_invisible_characters_are_refused(text: str) -> None:
    with pytest.raises(UserError):
        clean_group_name(text)


def test_mentions_get_a_message_that_names_the_problem() -> None:
    with pytest.raises(UserError, match="mentions"):
        clean_group_name("@everyone study hall")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("  Night   owls  ", "Night owls"),
        ("Café Kubernetes", "Café Kubernetes"),
        ("Build & Ship!", "Build & Ship!"),
        ("🐳 Whales", "🐳 Whales"),
        ("-- dashes --", "dashes"),
    ],
)
def test_good_names_are_tidied(text: str, shown: str) -> None:
    assert clean_group_name(text).shown == shown


def test_the_key_ignores_case() -> None:
    assert clean_group_name("Night Owls").key == clean_group_name("NIGHT   owls").key


@pytest.mark.parametrize("text", ["ab", "x" * (MAX_LENGTH + 1), "   ", "-- .. --"])
def test_length_is_capped_both_ways(text: str) -> None:
    with pytest.raises(UserError, match="characters long"):
        clean_group_name(text)


@given(st.text(max_size=60))
def test_whatever_is_accepted_is_short_and_inert(text: str) -> None:
    try:
        name = clean_group_name(text)
    except UserError:
        return
    assert 3 <= len(name.shown) <= MAX_LENGTH
    assert not INERT & set(name.shown)
    assert name.shown == name.shown.strip()
    assert "\n" not in name.shown
