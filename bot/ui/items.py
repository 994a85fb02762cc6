"""Persistent buttons and selects that survive restarts, and the declaration of their ids.

Each concrete item is a discord.py DynamicItem whose custom_id carries everything it needs
(`read:<owner>:<part>:next`), so a press after a restart is handled like any other. An item
states its id format once (`id_format=`, see PersistentItem); the template discord.py matches,
the id it sends and the parsing of a press all come from that one string.
See docs/architecture.md, "Persistent buttons and their custom_ids".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeGuard

import discord

from bot.bot import TutorBot
from bot.metrics import OK, REFUSED
from bot.metrics.interactions import feature_of, finished, started
from bot.ui.errors import RESTARTING, admitted, reply_error, report_error

if TYPE_CHECKING:
    from bot.services import Services

NOT_YOURS = (
    "These buttons belong to someone else's lesson. Use `/read`, `/quiz` or `/interview` "
    "to get your own."
)


def services_of(interaction: discord.Interaction[TutorBot]) -> Services:
    return interaction.client.services


def as_tutor(interaction: discord.Interaction) -> discord.Interaction[TutorBot]:
    """The interaction typed for this bot. discord.py's own hooks (an item's from_custom_id,
    interaction_check and callback, a modal's on_submit) are generic in the client, so an
    override cannot narrow their `discord.Interaction`; this does, checked: here the client is
    always a TutorBot."""
    if _from_tutor(interaction):
        return interaction
    raise TypeError(f"an interaction of a {type(interaction.client).__name__}, not a TutorBot")


def _from_tutor(interaction: discord.Interaction) -> TypeGuard[discord.Interaction[TutorBot]]:
    return isinstance(interaction.client, TutorBot)


# --- custom_ids, declared once ---------------------------------------------------------------

CUSTOM_ID_LIMIT = 100  # Discord refuses a component whose custom_id is longer

FieldValue = int | str


@dataclass(frozen=True)
class Kind:
    """What one field of an id format holds: a regex (no named groups), the Python type of its
    value, and realistic values, the widest among them (the id round-trip test builds every
    item from these and checks the widest against the 100-character limit)."""

    pattern: str
    examples: tuple[FieldValue, ...]
    value_type: type[int] | type[str] = str

    @classmethod
    def choice(cls, *words: str) -> Kind:
        """One of a few words (`prev|next|done` in a format)."""
        return cls("|".join(map(re.escape, words)), examples=words)

    def text(self, name: str, value: object) -> str:
        """`value` as it goes into an id; ValueError when this field cannot hold it."""
        if not isinstance(value, self.value_type) or isinstance(value, bool):
            raise ValueError(f"{name}={value!r} is not a {self.value_type.__name__}")
        text = str(value)
        if not re.fullmatch(self.pattern, text):
            raise ValueError(f"{name}={value!r} does not fit {self.pattern!r}")
        return text


KINDS: Mapping[str, Kind] = {
    # Discord snowflakes and database row ids: 20 digits is the widest 64-bit number
    "int": Kind("[0-9]+", examples=(0, 42, 2**64 - 1), value_type=int),
    # a course id (question, card, exercise): the course checker caps them at 40 characters
    "slug": Kind("[a-z0-9-]+", examples=("p00-quickref", "p20-" + "x" * 36)),
}


@dataclass(frozen=True)
class IdField:
    name: str
    kind: Kind
    optional: bool


# a field `{name:kind}`, the `[` and `]` around the optional tail, or literal text
_PIECE = re.compile(r"\{(?P<name>[a-z_]+):(?P<kind>[^{}]+)\}|(?P<bracket>[\[\]])|[^{}\[\]]+")


class IdFormat:
    """A custom_id format, such as `read:{owner:int}:{part:int}:{action:prev|next|done}`.

    `{name:kind}` is a field; its kind is `int`, `slug`, a kind the item class lists in
    `id_kinds`, or a choice of words (`prev|next|done`). One `[...]` at the very end holds
    optional fields: formats already sent grow only at their end."""

    def __init__(self, text: str, kinds: Mapping[str, Kind]) -> None:
        self.text = text
        self.fields: dict[str, IdField] = {}
        self._pieces: list[tuple[str | IdField, bool]] = []  # (literal or field, optional)
        regex: list[str] = []
        optional = closed = False
        at = 0
        for found in _PIECE.finditer(text):
            name, spec, bracket = found["name"], found["kind"], found["bracket"]
            if found.start() != at or closed or bracket == ("[" if optional else "]"):
                break
            at = found.end()
            if bracket == "[":
                optional = True
                regex.append("(?:")
            elif bracket == "]":
                closed = True
                regex.append(")?")
            elif name is None:
                self._pieces.append((found[0], optional))
                regex.append(re.escape(found[0]))
            else:
                kind = kinds.get(spec) or (Kind.choice(*spec.split("|")) if "|" in spec else None)
                if kind is None or name in self.fields:
                    raise ValueError(f"id format {text!r}: unknown kind or repeated field {name!r}")
                self.fields[name] = field = IdField(name, kind, optional)
                self._pieces.append((field, optional))
                regex.append(f"(?P<{name}>{kind.pattern})")
        if at != len(text) or optional != closed or not self._pieces:
            raise ValueError(f"id format {text!r}: malformed at character {at}")
        self.template = re.compile("".join(regex))

    def build(self, values: Mapping[str, FieldValue | None]) -> str:
        """The custom_id for these field values; ValueError for a missing, unknown or unfit
        one, or an id over Discord's 100 characters. An optional field may be None."""
        given = {name: value for name, value in values.items() if value is not None}
        unknown = set(values) - set(self.fields)
        missing = {f.name for f in self.fields.values() if not f.optional} - set(given)
        tail = {f.name for f in self.fields.values() if f.optional}
        if unknown or missing or tail & set(given) not in (set(), tail):
            raise ValueError(
                f"{self.text}: unknown {sorted(unknown)}, missing {sorted(missing)} "
                f"(optional fields {sorted(tail)} go all or none)"
            )
        custom_id = "".join(
            piece if isinstance(piece, str) else piece.kind.text(piece.name, given[piece.name])
            for piece, optional in self._pieces
            if not optional or tail <= set(given)
        )
        if len(custom_id) > CUSTOM_ID_LIMIT or not self.template.fullmatch(custom_id):
            raise ValueError(f"{custom_id!r}: over {CUSTOM_ID_LIMIT} characters, or ambiguous")
        return custom_id

    def parse(self, match: re.Match[str]) -> dict[str, FieldValue]:
        """The field values of a matched id; an absent optional field is left out."""
        return {
            name: field.kind.value_type(match[name])
            for name, field in self.fields.items()
            if match[name] is not None
        }


class PersistentItem:
    """Mixin for a DynamicItem whose custom_id is declared once, as a class keyword:

        class ReadButton(
            OwnedItem,
            discord.ui.DynamicItem[discord.ui.Button],
            id_format="read:{owner:int}:{part:int}:{action:prev|next|done}",
        ):

    From it come the template discord.py matches presses against, `custom_id_for(owner=…,
    part=…, action=…)` for __init__ to build the id, and from_custom_id, which calls the class
    with the parsed fields as keyword arguments: the fields are __init__'s parameter names, and
    an absent optional field is not passed, so __init__'s default applies."""

    id_format: ClassVar[IdFormat | None] = None
    # kinds of field (beyond KINDS) the formats of this class and its subclasses may name
    id_kinds: ClassVar[Mapping[str, Kind]] = {}

    def __init_subclass__(cls, *, id_format: str | None = None, **kwargs: Any) -> None:
        if id_format is not None:
            cls.id_format = IdFormat(id_format, {**KINDS, **cls.id_kinds})
            kwargs["template"] = cls.id_format.template  # for DynamicItem.__init_subclass__
        super().__init_subclass__(**kwargs)

    @classmethod
    def declared_format(cls) -> IdFormat:
        if cls.id_format is None:
            raise TypeError(f"{cls.__name__} declares no id_format")
        return cls.id_format

    @classmethod
    def custom_id_for(cls, **fields: FieldValue | None) -> str:
        return cls.declared_format().build(fields)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        make: Callable[..., Self] = cls
        return make(**cls.declared_format().parse(match))


class SharedItem(PersistentItem):
    """Mixin for a DynamicItem anyone may press (a group's Join button, a drill's answers):
    a polite refusal while restarting, a press in DMs that opens DMs again, and errors that
    reach the member who pressed.

    discord.py calls interaction_check and callback; subclasses write allowed and run."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        tutor = as_tutor(interaction)
        started(tutor, feature_of(type(self)))
        allowed = await admitted(tutor, self.allowed(tutor))
        if not allowed:
            finished(tutor, REFUSED)
        return allowed

    async def callback(self, interaction: discord.Interaction) -> None:
        tutor = as_tutor(interaction)
        try:
            await self.run(tutor)
        except Exception as exc:
            await report_error(tutor, exc)
        else:
            finished(tutor, OK)

    async def allowed(self, interaction: discord.Interaction[TutorBot]) -> bool:
        if interaction.client.draining:
            await reply_error(interaction, RESTARTING)
            return False
        await interaction.client.note_dms_used(interaction)
        return True

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        raise NotImplementedError


class OwnedItem(SharedItem):
    """Mixin for a DynamicItem that belongs to one learner: only its owner may press it."""

    owner_id: int

    async def allowed(self, interaction: discord.Interaction[TutorBot]) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return await super().allowed(interaction)


def in_server(interaction: discord.Interaction[TutorBot]) -> bool:
    """Lessons are private (ephemeral) in a server and plain messages in DMs."""
    return interaction.guild is not None
