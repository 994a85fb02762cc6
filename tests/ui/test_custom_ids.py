"""Persistent buttons and selects: the custom_ids already sent keep working, and every item's
declared id format round-trips (docs/architecture.md §3).

The strings below are today's ids, written out by hand on purpose: messages posted by an
older version of the bot carry them, so they must reach the same item with the same state
after any upgrade. Never edit one to make a test pass; add a new one instead.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import App, build_bot, open_app
from bot.config import load_settings
from bot.ui.items import CUSTOM_ID_LIMIT, KINDS, FieldValue, IdFormat, OwnedItem, PersistentItem
from tests.fake_discord import FakeDiscord, FakeUser, InteractionResult

OWNER = 1183376522316054528  # the learner of every owned id below (a 19-digit Discord id)

# (today's custom_id, the item class it reaches, the state from_custom_id rebuilds, and the id
# the rebuilt item carries when that is not the same string)
TODAY: list[tuple[str, str, dict[str, object], str | None]] = [
    ("read:1183376522316054528:0:prev", "ReadButton", {"part": 0, "action": "prev"}, None),
    ("read:1183376522316054528:3:next", "ReadButton", {"part": 3, "action": "next"}, None),
    ("read:1183376522316054528:19:done", "ReadButton", {"part": 19, "action": "done"}, None),
    ("readdone:1183376522316054528:3:yes", "ConfirmDoneButton", {"answer": "yes"}, None),
    ("readdone:1183376522316054528:3:no", "ConfirmDoneButton", {"answer": "no"}, None),
    ("readjump:1183376522316054528:2", "SectionSelect", {"part": 2}, None),
    ("readpart:1183376522316054528:1", "ReadPartButton", {"part": 1}, None),
    (
        "quiz:1183376522316054528:l3f9a0c1d:p00-dbg-run-vs-cmd:B",
        "ChoiceButton",
        {"session": "l3f9a0c1d", "question_id": "p00-dbg-run-vs-cmd", "letter": "B"},
        None,
    ),
    (  # a bare `l`: buttons from before session tokens
        "quiz:1183376522316054528:l:p01-dbg-unshare-fork:E",
        "ChoiceButton",
        {"session": "l", "question_id": "p01-dbg-unshare-fork", "letter": "E"},
        None,
    ),
    (
        "quiz:1183376522316054528:r1767225600:p02-dbg-id-vs-digest:A",
        "ChoiceButton",
        {"session": "r1767225600", "question_id": "p02-dbg-id-vs-digest", "letter": "A"},
        None,
    ),
    (
        "quizshow:1183376522316054528:l3f9a0c1d:p00-dbg-port-mapping",
        "RevealButton",
        {"session": "l3f9a0c1d", "question_id": "p00-dbg-port-mapping"},
        None,
    ),
    (
        "quizself:1183376522316054528:r1767225600:p00-dbg-port-mapping:had",
        "SelfGradeButton",
        {"session": "r1767225600", "question_id": "p00-dbg-port-mapping", "grade": "had"},
        None,
    ),
    (
        "quizself:1183376522316054528:l:p00-dbg-port-mapping:miss",
        "SelfGradeButton",
        {"session": "l", "grade": "miss"},
        None,
    ),
    (
        "card:1183376522316054528:l3f9a0c1d:p00-int-two-hours:show",
        "CardButton",
        {"session": "l3f9a0c1d", "card_id": "p00-int-two-hours", "action": "show"},
        None,
    ),
    (
        "card:1183376522316054528:r1767225600:p00-quickref:4",
        "CardButton",
        {"session": "r1767225600", "card_id": "p00-quickref", "action": "4"},
        None,
    ),
    ("card:1183376522316054528:l:p00-quickref:1", "CardButton", {"action": "1"}, None),
    (  # the oldest next button: no session at all, which means a bare `l`
        "quiznext:1183376522316054528:p00-dbg-port-mapping",
        "NextQuestionButton",
        {"question_id": "p00-dbg-port-mapping", "session": "l"},
        "quiznext:1183376522316054528:p00-dbg-port-mapping:l",
    ),
    (
        "quiznext:1183376522316054528:p00-dbg-copy-vs-add:l3f9a0c1d",
        "NextQuestionButton",
        {"question_id": "p00-dbg-copy-vs-add", "session": "l3f9a0c1d"},
        None,
    ),
    (
        "quiznext:1183376522316054528:p00-dbg-copy-vs-add:r1767225600",
        "NextQuestionButton",
        {"session": "r1767225600"},
        None,
    ),
    (
        "revnext:1183376522316054528:r1767225600",
        "ReviewNextButton",
        {"session": "r1767225600"},
        None,
    ),
    ("quizpart:1183376522316054528:0", "QuizPartButton", {"part": 0}, None),
    ("digest:1183376522316054528:review", "DigestButton", {"action": "review"}, None),
    ("digest:1183376522316054528:hour", "DigestButton", {"action": "hour"}, None),
    ("digest:1183376522316054528:evening", "DigestButton", {"action": "evening"}, None),
    ("digest:1183376522316054528:tomorrow", "DigestButton", {"action": "tomorrow"}, None),
    ("digest:1183376522316054528:pause", "DigestButton", {"action": "pause"}, None),
    (
        "labsubmit:1183376522316054528:p02-ex-count-layers",
        "SubmitButton",
        {"exercise_id": "p02-ex-count-layers"},
        None,
    ),
    ("labreview:1183376522316054528", "ReviewButton", {}, None),
    ("track:1183376522316054528", "TrackSelect", {}, None),
    ("group:join:42", "JoinButton", {"group_id": 42}, None),
    ("group:quiz:7:3:C", "AnswerButton", {"quiz_id": 7, "index": 3, "letter": "C"}, None),
    ("group:quiz:7:0:A", "AnswerButton", {"index": 0, "letter": "A"}, None),
    ("drill:answer:1234:E", "DrillAnswerButton", {"post_id": 1234, "letter": "E"}, None),
    (
        "practice:1183376522316054528:p3f9a0c1d:p03-dbg-arg-scope:C",
        "PracticeButton",
        {"session": "p3f9a0c1d", "item_id": "p03-dbg-arg-scope", "action": "C"},
        None,
    ),
    (  # a session asked for one part (`n3`); a card's rating
        "practice:1183376522316054528:p3f9a0c1dn3:p03-int-dag:4",
        "PracticeButton",
        {"session": "p3f9a0c1dn3", "item_id": "p03-int-dag", "action": "4"},
        None,
    ),
    ("practice:1183376522316054528:p3f9a0c1d:p00-quickref:show", "PracticeButton", {}, None),
    ("practice:1183376522316054528:p3f9a0c1d:p15-dbg-x:miss", "PracticeButton", {}, None),
    ("practicenext:1183376522316054528:p3f9a0c1d", "PracticeNextButton", {}, None),
    ("practicenext:1183376522316054528:p00000000n20", "PracticeNextButton", {}, None),
]

# Ids no item may take: a template that grows looser could steal another item's presses.
NOBODYS = [
    "read:1183376522316054528:0:sideways",
    "read:1183376522316054528:0:next:extra",
    "readdone:1183376522316054528:3:maybe",
    "quiz:1183376522316054528:l3f9a0c1d:p00-dbg-run-vs-cmd:F",
    "quiz:1183376522316054528:x1:p00-dbg-run-vs-cmd:A",
    "quiz:1183376522316054528:l:P00-Upper:A",
    "card:1183376522316054528:l:p00-quickref:5",
    "revnext:1183376522316054528:l3f9a0c1d",
    "digest:1183376522316054528:never",
    "labsubmit:1183376522316054528:",
    "group:join:abc",
    "drill:answer:1234:a",
    "track:-1",
    "practice:1183376522316054528:p3f9a0c1d:p03-dbg-arg-scope:F",
    "practice:1183376522316054528:l3f9a0c1d:p03-dbg-arg-scope:A",
    "practice:1183376522316054528:p3f9a0c1d:p03-dbg-arg-scope:5",
    "practicenext:1183376522316054528:p3f9a0c1dn",
]


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(
        database_url=database_url, data_dir=tmp_path / "data", discord_token="fake-bot-token"
    )
    async with open_app(settings) as app:
        yield app


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(users=[FakeUser(id=OWNER)]) as fake:
        yield fake


@pytest.fixture
async def registered(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> list[type[discord.ui.DynamicItem[Any]]]:
    """Every item class the extensions' setup() registers with bot.add_dynamic_items."""
    bot = build_bot(app)
    found: list[type[discord.ui.DynamicItem[Any]]] = []
    real = bot.add_dynamic_items

    def record(*items: type[discord.ui.DynamicItem[Any]]) -> None:
        found.extend(items)
        real(*items)

    monkeypatch.setattr(bot, "add_dynamic_items", record)
    async with fake.running(bot):
        pass
    return found


def pattern_of(cls: type[discord.ui.DynamicItem[Any]]) -> Any:
    return cls.__discord_ui_compiled_template__


def taking(registered: list[type[discord.ui.DynamicItem[Any]]], custom_id: str) -> list[str]:
    """The registered items whose template takes `custom_id`, as discord.py matches it."""
    return [cls.__name__ for cls in registered if pattern_of(cls).fullmatch(custom_id)]


async def test_every_item_is_registered(
    registered: list[type[discord.ui.DynamicItem[Any]]],
) -> None:
    """An item sent but not registered works until the next restart, then never again."""

    def subclasses(cls: type) -> set[type]:
        return {c for sub in cls.__subclasses__() for c in {sub, *subclasses(sub)}}

    ours = {c for c in subclasses(discord.ui.DynamicItem) if c.__module__.startswith("bot.")}
    assert len(registered) == len(set(registered)), "an item is registered twice"
    assert {c.__qualname__ for c in ours} == {c.__qualname__ for c in registered}


async def test_todays_ids_reach_the_same_item_with_the_same_state(
    registered: list[type[discord.ui.DynamicItem[Any]]],
) -> None:
    by_name = {cls.__name__: cls for cls in registered}
    assert {name for _, name, _, _ in TODAY} == set(by_name), "every item has an id here"
    for custom_id, name, state, reissued in TODAY:
        assert taking(registered, custom_id) == [name], custom_id
        cls = by_name[name]
        match = pattern_of(cls).fullmatch(custom_id)
        item = await cls.from_custom_id(None, None, match)  # type: ignore[arg-type]
        assert type(item) is cls
        assert item.custom_id == (reissued or custom_id)
        owned = custom_id.split(":")[1] == str(OWNER)
        expected = {"owner_id": OWNER, **state} if owned else state
        assert {key: getattr(item, key) for key in expected} == expected, custom_id


async def test_no_item_takes_a_malformed_id(
    registered: list[type[discord.ui.DynamicItem[Any]]],
) -> None:
    for custom_id in NOBODYS:
        assert taking(registered, custom_id) == [], custom_id


# --- every item declares its id once, and the declaration round-trips ---------------------------


def declared(cls: type) -> IdFormat | None:
    """The id format `cls` declares with `id_format=` (docs/architecture.md §3), if it does;
    None for an item with a hand-written template."""
    fmt = cls.__dict__.get("id_format")
    if not (issubclass(cls, PersistentItem) and isinstance(fmt, IdFormat)):
        return None
    return fmt if pattern_of(cls) is fmt.template else None


def samples(fmt: IdFormat) -> Iterator[dict[str, FieldValue | None]]:
    """Every combination of the fields' realistic values, the widest among them; an optional
    field also absent (None)."""
    fields = list(fmt.fields.values())
    values = [f.kind.examples + ((None,) if f.optional else ()) for f in fields]
    for combination in itertools.product(*values):
        yield {f.name: value for f, value in zip(fields, combination, strict=True)}


async def test_every_item_declares_its_id_format(
    registered: list[type[discord.ui.DynamicItem[Any]]],
) -> None:
    assert len(registered) >= 18
    assert [cls.__name__ for cls in registered if declared(cls) is None] == []
    # The first segment names the item: no two share the text before their first field.
    heads = [fmt.text.split("{", 1)[0] for fmt in map(declared, registered) if fmt]
    assert len(heads) == len(set(heads)), heads


def test_a_hand_written_template_does_not_count_as_declared() -> None:
    class Legacy(
        OwnedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"legacy:(?P<owner>\d+)"
    ):
        pass

    class Declared(
        OwnedItem, discord.ui.DynamicItem[discord.ui.Button], id_format="declared:{owner:int}"
    ):
        pass

    class Plain(discord.ui.DynamicItem[discord.ui.Button], template=r"plain:\d+"):
        pass

    assert declared(Legacy) is None and declared(Plain) is None
    assert declared(Declared) is Declared.id_format


async def test_every_item_round_trips_its_id(
    registered: list[type[discord.ui.DynamicItem[Any]]],
) -> None:
    longest = ""
    for cls in registered:
        fmt = declared(cls)
        assert fmt is not None and issubclass(cls, PersistentItem), cls.__name__
        for fields in samples(fmt):
            given = {name: value for name, value in fields.items() if value is not None}
            custom_id = cls.custom_id_for(**fields)
            longest = max(longest, custom_id, key=len)
            assert taking(registered, custom_id) == [cls.__name__], custom_id
            match = pattern_of(cls).fullmatch(custom_id)
            assert fmt.parse(match) == given, custom_id
            pressed = await cls.from_custom_id(None, None, match)  # type: ignore[arg-type]
            assert type(pressed) is cls
            if len(given) == len(fields):  # an absent optional field comes back as its default
                assert pressed.custom_id == custom_id
            reparsed = fmt.parse(pattern_of(cls).fullmatch(pressed.custom_id))
            assert given.items() <= reparsed.items(), custom_id
            # __init__ builds its id from its own arguments, and keeps them by the same names
            assert cls(**reparsed).custom_id == pressed.custom_id, custom_id
            for name, value in reparsed.items():
                attribute = "owner_id" if name == "owner" else name
                assert getattr(pressed, attribute) == value, (custom_id, attribute)
    assert len(longest) <= CUSTOM_ID_LIMIT - 10, longest  # room to spare (see §3)


def test_a_format_states_fields_of_known_kinds_and_builds_only_fitting_ids() -> None:
    fmt = IdFormat("x:{owner:int}:{item:slug}:{mood:up|down}[:{n:int}]", KINDS)
    assert fmt.build({"owner": 7, "item": "p01-a", "mood": "up"}) == "x:7:p01-a:up"
    assert fmt.build({"owner": 7, "item": "p01-a", "mood": "up", "n": 0}) == "x:7:p01-a:up:0"
    assert fmt.parse(fmt.template.fullmatch("x:7:p01-a:down")) == {  # type: ignore[arg-type]
        "owner": 7,
        "item": "p01-a",
        "mood": "down",
    }
    for wrong in (
        {"owner": 7, "item": "p01-a"},  # missing
        {"owner": 7, "item": "p01-a", "mood": "up", "extra": 1},  # unknown
        {"owner": "7", "item": "p01-a", "mood": "up"},  # a str for an int
        {"owner": True, "item": "p01-a", "mood": "up"},  # a bool is no id
        {"owner": -1, "item": "p01-a", "mood": "up"},
        {"owner": 7, "item": "P01:A", "mood": "up"},  # outside the charset
        {"owner": 7, "item": "p01-a", "mood": "sideways"},
        {"owner": 7, "item": "x" * 100, "mood": "up"},  # over 100 characters
    ):
        with pytest.raises(ValueError):
            fmt.build(wrong)
    for malformed in (
        "x:{owner:float}",  # an unknown kind
        "x:{a:int}:{a:int}",  # a field twice
        "x[:{a:int}]:y",  # optional fields only at the end
        "x:{a:int}[:{b:int}",
        "x:{a:int}]",
        "x:{a:int}}",
    ):
        with pytest.raises(ValueError):
            IdFormat(malformed, KINDS)


# --- through the real client: messages an older version posted, pressed after a restart ------


def said(result: InteractionResult) -> str:
    messages = [result.message or {}, *result.followups]
    parts: list[str] = []
    for message in messages:
        parts.append(message.get("content") or "")
        for embed in message.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
    if result.modal is not None:
        parts.append(result.modal.get("title") or "")
    return "\n".join(parts)


# In the order they are pressed: (custom_id, the select's values or None, words in the answer)
PRESSES: list[tuple[str, list[str] | None, str]] = [
    ("track:1183376522316054528", ["complete"], "Track: Complete"),
    ("read:1183376522316054528:0:next", None, "Part 0 · How to use this series"),
    ("read:1183376522316054528:0:prev", None, "Part 0 · At a Glance · 1/"),
    ("readjump:1183376522316054528:0", ["Debug This"], "Part 0 · Debug This · 1/"),
    ("read:1183376522316054528:0:done", None, "done anyway?"),
    ("readdone:1183376522316054528:0:no", None, "Part 0 is not marked done"),
    ("readdone:1183376522316054528:0:yes", None, "is done"),
    ("readpart:1183376522316054528:1", None, "Part 1 · Container internals"),
    ("quizpart:1183376522316054528:0", None, "question 1/4"),
    ("quiz:1183376522316054528:l:p00-dbg-run-vs-cmd:B", None, "**B** is right"),
    ("quiz:1183376522316054528:l3f9a0c1d:p00-dbg-entrypoint-cmd:C", None, "You chose **C**"),
    ("quiznext:1183376522316054528:p00-dbg-port-mapping", None, "question 3/4"),
    ("quiznext:1183376522316054528:p00-dbg-copy-vs-add:l3f9a0c1d", None, "question 4/4"),
    ("quizshow:1183376522316054528:l3f9a0c1d:p00-dbg-port-mapping", None, "Be honest"),
    (  # routed and run: this question has choices, so self-grading it is refused
        "quizself:1183376522316054528:l3f9a0c1d:p00-dbg-port-mapping:had",
        None,
        "answer it with a letter",
    ),
    ("card:1183376522316054528:l3f9a0c1d:p00-int-two-hours:show", None, "Model answer"),
    ("card:1183376522316054528:l:p00-int-two-hours:3", None, "Interview question · Part 0"),
    ("revnext:1183376522316054528:r1767225600", None, ""),
    ("digest:1183376522316054528:hour", None, "Snoozed"),
    ("digest:1183376522316054528:pause", None, "Reminders paused for a week"),
    ("digest:1183376522316054528:review", None, ""),
    ("labreview:1183376522316054528", None, ""),
    ("labsubmit:1183376522316054528:p02-ex-count-layers", None, "Count the layers"),
]


async def test_buttons_posted_before_an_upgrade_work_after_it(app: App, fake: FakeDiscord) -> None:
    posted: dict[str, int] = {}
    async with fake.running(build_bot(app)) as old:
        channel = old.get_partial_messageable(fake.channel.id)
        for custom_id, values, _ in PRESSES:
            view = discord.ui.View(timeout=None)
            if values is None:
                view.add_item(discord.ui.Button(label="old", custom_id=custom_id))
            else:
                options = [discord.SelectOption(label=value) for value in values]
                view.add_item(discord.ui.Select(custom_id=custom_id, options=options))
            message = await channel.send("posted by an older version", view=view)
            posted[custom_id] = message.id
    # A new process (same database) gets the presses: only the registered items can take them.
    async with fake.running(build_bot(app)):
        for custom_id, values, words in PRESSES:
            if values is None:
                pressed = await fake.click(posted[custom_id], custom_id)
            else:
                pressed = await fake.select(posted[custom_id], custom_id, values)
            await pressed.wait(lambda r: bool(r.message or r.followups or r.modal))
            assert pressed.rejections == [], custom_id
            text = said(pressed)
            assert "Something went wrong" not in text, (custom_id, text)
            assert "someone else's" not in text, (custom_id, text)
            assert words in text, (custom_id, text)
