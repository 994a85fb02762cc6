"""A loopback Discord for tests: enough REST API v10 and gateway for the real discord.py client.

``FakeDiscord`` is an aiohttp server on 127.0.0.1 (a random free port). The real
``discord.Client``/``commands.Bot`` logs in against it, receives ``INTERACTION_CREATE``
events that the test dispatches (slash commands, buttons, selects, modals, autocomplete) and
answers them over the same REST routes it would use against Discord. The emulator records
every request, keeps the messages of every channel, rejects what Discord rejects (sizes,
layouts, custom_ids, late or double interaction answers) with Discord's status codes and error
bodies, and answers with 429/5xx/403 on demand.

Typical use::

    async with FakeDiscord() as fake:
        bot = make_bot()                      # a real commands.Bot
        async with fake.running(bot):         # patches discord.py, logs in, waits for on_ready
            await bot.tree.sync()             # registers the commands with the emulator
            result = await fake.slash("ping")
            assert result.content == "pong"

Time: the 3 s answer window, the 15 min token lifetime and the nonce window use ``clock`` (a
callable returning monotonic seconds; ``ManualClock`` lets a test jump ahead). Waiting for the
bot uses real time (``timeout`` arguments).

Not emulated: voice, presences, audit logs, most guild management routes,
rate-limit buckets (only injected 429s), permission checks (roles and channel overwrites, see
``set_overwrite``, are sent for the client to compute; no request is refused for them),
message content intent filtering, context-menu commands, user/role/channel select resolution.
"""

# The driving methods take a `timeout` on purpose: on expiry they raise an AssertionError that
# describes what the bot did, which a bare asyncio.timeout() around the call cannot.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import copy
import fnmatch
import itertools
import json
import re
import secrets
import socket
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

__all__ = [
    "BOT_PERMISSIONS",
    "EVERYONE_PERMISSIONS",
    "INTERACTION_ANSWER_WINDOW",
    "INTERACTION_TOKEN_LIFETIME",
    "NONCE_WINDOW",
    "DiscordAPIError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "InteractionResult",
    "ManualClock",
    "RecordedRequest",
    "Rejection",
    "new_snowflake",
]

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"

# Limits Discord enforces (docs/architecture.md, "Discord limits the code relies on").
INTERACTION_ANSWER_WINDOW = 3.0
INTERACTION_TOKEN_LIFETIME = 15 * 60.0
NONCE_WINDOW = 5 * 60.0

_DISCORD_EPOCH_MS = 1_420_070_400_000
_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
_FLAG_EPHEMERAL = 1 << 6
_FLAG_LOADING = 1 << 7
_FLAG_COMPONENTS_V2 = 1 << 15
_ALL_PERMISSIONS = discord.Permissions.all().value
_ADMINISTRATOR = discord.Permissions(administrator=True).value

EVERYONE_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    use_application_commands=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    create_public_threads=True,
    send_messages_in_threads=True,
).value
"""Default permissions of ``@everyone`` in a fake guild."""

BOT_PERMISSIONS: int = (
    EVERYONE_PERMISSIONS
    | discord.Permissions(create_private_threads=True, manage_threads=True).value
)
"""Default permissions of the bot's managed role in every fake guild."""

_ERROR_MESSAGES = {
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    40060: "Interaction has already been acknowledged.",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50027: "Invalid Webhook Token",
    50035: "Invalid Form Body",
}

_snowflake_counter = itertools.count()


def new_snowflake() -> int:
    """Return a fresh Discord-style snowflake (time-ordered, unique in this process)."""
    ms = int(time.time() * 1000) - _DISCORD_EPOCH_MS
    return (ms << 22) | (next(_snowflake_counter) & 0x3FFFFF)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _sf(value: Any) -> int | None:
    """A snowflake from a JSON int or string (discord.py sends both)."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ManualClock:
    """A monotonic clock a test moves by hand: ``clock.advance(3.5)``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


# ---------------------------------------------------------------------------------------------
# The fake world: users, roles, channels, guilds


@dataclass
class FakeUser:
    """A Discord user. ``accepts_dms=False`` makes every DM to them fail with 403/50007."""

    id: int = field(default_factory=new_snowflake)
    username: str = "learner"
    global_name: str | None = None
    bot: bool = False
    accepts_dms: bool = True

    def to_payload(self) -> dict[str, Any]:
        """The user object Discord sends."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeRole:
    """A guild role; ``permissions`` is the permission integer."""

    id: int = field(default_factory=new_snowflake)
    name: str = "role"
    permissions: int = 0
    position: int = 1
    managed: bool = False

    def to_payload(self) -> dict[str, Any]:
        """The role object Discord sends."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    """A guild channel (type 0 text by default)."""

    id: int = field(default_factory=new_snowflake)
    name: str = "general"
    type: int = 0
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    # Discord's permission overwrite objects: {"id", "type" (0 role, 1 member), "allow", "deny"}
    overwrites: list[dict[str, Any]] = field(default_factory=list)

    def to_payload(self, guild_id: int | None) -> dict[str, Any]:
        """The channel object Discord sends."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": copy.deepcopy(self.overwrites),
            "topic": self.topic,
            "nsfw": False,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


@dataclass
class FakeMember:
    """A user's membership in a guild: extra roles (by id) and a nickname."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    nick: str | None = None


@dataclass
class FakeGuild:
    """A guild the bot is in. Users not listed in ``members`` are treated as role-less members."""

    id: int = field(default_factory=new_snowflake)
    name: str = "Tutor Test Guild"
    channels: list[FakeChannel] = field(default_factory=lambda: [FakeChannel()])
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    owner_id: int = field(default_factory=new_snowflake)
    everyone_permissions: int = EVERYONE_PERMISSIONS
    system_channel_id: int | None = None  # where Discord posts joins; one of `channels`

    def member(self, user: FakeUser) -> FakeMember:
        """The membership of ``user`` (a role-less one if not listed)."""
        for m in self.members:
            if m.user.id == user.id:
                return m
        return FakeMember(user=user)

    def permissions_for(self, user_id: int, role_ids: Sequence[int]) -> int:
        """Guild-level permissions (no channel overwrites): @everyone | roles, admin/owner = all."""
        if user_id == self.owner_id:
            return _ALL_PERMISSIONS
        perms = self.everyone_permissions
        wanted = set(role_ids)
        for role in self.roles:
            if role.id in wanted:
                perms |= role.permissions
        return _ALL_PERMISSIONS if perms & _ADMINISTRATOR else perms


# ---------------------------------------------------------------------------------------------
# Records


@dataclass
class RecordedRequest:
    """One REST request as the emulator saw it (path without ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    status: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    authorized: bool = False
    #: The JSON body of an error answer (status >= 400), else None.
    error: dict[str, Any] | None = None


@dataclass
class Rejection:
    """A request the emulator refused: ``kind`` is callback/followup/edit/delete/message."""

    kind: str
    status: int
    code: int
    message: str
    errors: dict[str, Any] | None
    body: Any


class DiscordAPIError(Exception):
    """Raised inside route handlers; turned into Discord's JSON error response."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or _ERROR_MESSAGES.get(code) or f"{status}: {_reason(status)}"
        self.errors = errors
        self.headers = dict(headers or {})
        super().__init__(f"{status} {code} {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body Discord answers with."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def _reason(status: int) -> str:
    with contextlib.suppress(ValueError):
        from http import HTTPStatus

        return HTTPStatus(status).phrase
    return "Error"


class InteractionResult:
    """An interaction the test dispatched, and everything the bot did with it.

    ``callbacks`` holds accepted callback bodies (``{"type", "data"}``), ``followup_ids`` the ids
    of followup messages, ``edits`` the bodies of accepted edits, ``rejections`` every refused
    attempt. ``message`` / ``followups`` give the *current* state of those messages.
    """

    def __init__(self, fake: FakeDiscord, payload: dict[str, Any], created_at: float) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.created_at = created_at
        self.callbacks: list[dict[str, Any]] = []
        self.followup_ids: list[int] = []
        self.edits: list[dict[str, Any]] = []
        self.rejections: list[Rejection] = []
        self.message_id: int | None = None
        self.deferred_loading = False
        self._callback_attempts = 0
        self._cond = asyncio.Condition()

    def __repr__(self) -> str:
        return (
            f"<InteractionResult {self.describe()} type={self.response_type} "
            f"rejections={[(r.status, r.code) for r in self.rejections]}>"
        )

    def describe(self) -> str:
        """A short human description (``/ping``, ``click 'btn'``...)."""
        data = self.payload.get("data") or {}
        if self.type in (2, 4):
            return f"/{data.get('name')}"
        if self.type == 3:
            return f"component {data.get('custom_id')!r}"
        if self.type == 5:
            return f"modal {data.get('custom_id')!r}"
        return f"interaction type {self.type}"

    @property
    def acknowledged(self) -> bool:
        """Whether an initial response (or defer) was accepted."""
        return bool(self.callbacks)

    @property
    def attempts(self) -> int:
        """Callback requests received, accepted or not."""
        return self._callback_attempts

    @property
    def response_type(self) -> int | None:
        """The accepted callback type (4 message, 5 defer, 6 defer update, 7 update, 8, 9)."""
        return self.callbacks[0]["type"] if self.callbacks else None

    @property
    def response_data(self) -> dict[str, Any] | None:
        """The ``data`` of the accepted callback."""
        return (self.callbacks[0].get("data") or {}) if self.callbacks else None

    @property
    def message(self) -> dict[str, Any] | None:
        """Current state of the original response message (or of the updated component message)."""
        if self.message_id is None:
            return None
        return self._fake.get_message(self.message_id)

    @property
    def content(self) -> str | None:
        """Content of the original response message, after edits."""
        msg = self.message
        return None if msg is None else msg.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds of the original response message, after edits."""
        msg = self.message
        return [] if msg is None else list(msg.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        """Whether the original response is ephemeral."""
        msg = self.message
        return bool(msg and int(msg.get("flags") or 0) & _FLAG_EPHEMERAL)

    @property
    def followups(self) -> list[dict[str, Any]]:
        """Followup messages (current state), oldest first."""
        out = []
        for mid in self.followup_ids:
            msg = self._fake.get_message(mid)
            if msg is not None:
                out.append(msg)
        return out

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices, if the bot answered with type 8."""
        if self.response_type != 8:
            return None
        return list((self.response_data or {}).get("choices") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (type 9 data)."""
        return self.response_data if self.response_type == 9 else None

    async def _touch(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait(
        self,
        predicate: Callable[[InteractionResult], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Wait until ``predicate(self)`` holds (default: the bot tried to answer).

        Raises ``AssertionError`` with the interaction's history after ``timeout`` real seconds.
        """
        pred = predicate or (lambda r: r.attempts > 0)
        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(lambda: pred(self)), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.describe()} (interaction {self.id}): condition not met within "
                f"{timeout}s; callbacks={self.callbacks!r} followups={len(self.followup_ids)} "
                f"rejections={self.rejections!r}; last requests: "
                f"{[(r.method, r.path, r.status) for r in self._fake.requests[-8:]]}"
            ) from None
        return self


@dataclass
class _Fault:
    method: str
    pattern: str
    status: int
    code: int
    message: str | None
    remaining: int
    retry_after: float
    is_global: bool
    process: bool

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.pattern)


@dataclass
class _Req:
    method: str
    path: str
    query: Mapping[str, str]
    json: Any
    files: list[dict[str, Any]]


class _Conn:
    """One gateway websocket, optionally zlib-stream compressed."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self._z = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self._z is not None:
                data = self._z.compress(raw.encode()) + self._z.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(raw)


class _Session:
    def __init__(self, shard: list[int] | None) -> None:
        self.id = secrets.token_hex(16)
        self.seq = 0
        self.shard = shard
        self.conn: _Conn | None = None
        self.backlog: deque[dict[str, Any]] = deque(maxlen=1000)

    def wants(self, guild_id: int | None) -> bool:
        if not self.shard:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0  # DMs reach shard 0 only
        return (guild_id >> 22) % count == shard_id


# ---------------------------------------------------------------------------------------------
# Validation (Discord's 50035 Invalid Form Body)


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[tuple[str | int, ...], str, str]] = []

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        self.items.append((path, code, message))

    def nested(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        for path, code, message in self.items:
            node = root
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return root

    def raise_if_any(self) -> None:
        if self.items:
            raise DiscordAPIError(400, 50035, "Invalid Form Body", self.nested())


_Path = tuple[str | int, ...]


def _check_len(errs: _Errors, path: _Path, value: Any, lo: int, hi: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errs.add(path, "BASE_TYPE_STRING", "Could not interpret value as string.")
        return
    n = len(value)
    if lo == 0 and n > hi:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")
    elif not lo <= n <= hi:
        errs.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")


def _check_count(errs: _Errors, path: _Path, value: Any, lo: int, hi: int) -> bool:
    if not isinstance(value, list):
        errs.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return False
    n = len(value)
    if lo == 0 and n > hi:
        errs.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length.")
    elif not lo <= n <= hi:
        errs.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")
    return True


def _check_range(errs: _Errors, path: _Path, value: Any, lo: int, hi: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        errs.add(path, "NUMBER_TYPE_MAX", f"Must be between {lo} and {hi}.")


def _validate_embed(embed: Any, errs: _Errors, path: _Path) -> int:
    """Validate one embed; return its size as Discord counts it toward the 6000 total."""
    if not isinstance(embed, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return 0
    total = 0
    for key, hi in (("title", 256), ("description", 4096)):
        value = embed.get(key)
        _check_len(errs, (*path, key), value, 0, hi)
        total += len(value) if isinstance(value, str) else 0
    footer = embed.get("footer") or {}
    _check_len(errs, (*path, "footer", "text"), footer.get("text"), 0, 2048)
    total += len(footer.get("text") or "")
    author = embed.get("author") or {}
    _check_len(errs, (*path, "author", "name"), author.get("name"), 0, 256)
    total += len(author.get("name") or "")
    fields = embed.get("fields")
    if fields is not None and _check_count(errs, (*path, "fields"), fields, 0, 25):
        for i, f in enumerate(fields):
            if not isinstance(f, dict):
                errs.add((*path, "fields", i), "DICT_TYPE_CONVERT", "Must be an object.")
                continue
            for key, hi in (("name", 256), ("value", 1024)):
                value = f.get(key)
                if value is None:
                    errs.add(
                        (*path, "fields", i, key), "BASE_TYPE_REQUIRED", "This field is required"
                    )
                else:
                    _check_len(errs, (*path, "fields", i, key), value, 1, hi)
                    total += len(value) if isinstance(value, str) else 0
    return total


def _check_custom_id(c: dict[str, Any], errs: _Errors, path: _Path, seen: set[str]) -> None:
    cid = c.get("custom_id")
    if cid is None:
        errs.add((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    _check_len(errs, (*path, "custom_id"), cid, 1, 100)
    if cid in seen:
        errs.add(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    seen.add(cid)


def _validate_button(c: dict[str, Any], errs: _Errors, path: _Path, seen: set[str]) -> None:
    style = c.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errs.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
    elif style == 5:
        if not c.get("url"):
            errs.add((*path, "url"), "BASE_TYPE_REQUIRED", "This field is required")
        if c.get("custom_id") is not None:
            errs.add(
                (*path, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A custom id cannot be specified for a link button",
            )
    elif style == 6:
        if not c.get("sku_id"):
            errs.add((*path, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _check_custom_id(c, errs, path, seen)
    _check_len(errs, (*path, "label"), c.get("label"), 0, 80)


def _validate_select(c: dict[str, Any], errs: _Errors, path: _Path, seen: set[str]) -> None:
    _check_custom_id(c, errs, path, seen)
    _check_len(errs, (*path, "placeholder"), c.get("placeholder"), 0, 150)
    _check_range(errs, (*path, "min_values"), c.get("min_values"), 0, 25)
    _check_range(errs, (*path, "max_values"), c.get("max_values"), 1, 25)
    if c.get("type") != 3:
        return
    options = c.get("options")
    if options is None:
        errs.add((*path, "options"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not _check_count(errs, (*path, "options"), options, 1, 25):
        return
    for i, opt in enumerate(options):
        opath = (*path, "options", i)
        if not isinstance(opt, dict):
            errs.add(opath, "DICT_TYPE_CONVERT", "Must be an object.")
            continue
        _check_len(errs, (*opath, "label"), opt.get("label", ""), 1, 100)
        _check_len(errs, (*opath, "value"), opt.get("value", ""), 1, 100)
        _check_len(errs, (*opath, "description"), opt.get("description"), 0, 100)
    max_values = c.get("max_values")
    if isinstance(max_values, int) and max_values > len(options):
        errs.add(
            (*path, "max_values"),
            "SELECT_COMPONENT_MAX_VALUES_EXCEEDS_OPTIONS",
            "max_values must be less than or equal to the number of options",
        )


def _validate_interactive(c: Any, errs: _Errors, path: _Path, seen: set[str]) -> None:
    if not isinstance(c, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Must be an object.")
        return
    t = c.get("type")
    if t == 2:
        _validate_button(c, errs, path, seen)
    elif t in _SELECT_TYPES:
        _validate_select(c, errs, path, seen)
    else:
        errs.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {2, 3, 5, 6, 7, 8}.")


def _validate_row(row: Any, errs: _Errors, path: _Path, seen: set[str]) -> None:
    if not isinstance(row, dict) or row.get("type") != 1:
        errs.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1}.")
        return
    children = row.get("components")
    if children is None:
        errs.add((*path, "components"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not _check_count(errs, (*path, "components"), children, 1, 5):
        return
    has_select = any(isinstance(c, dict) and c.get("type") in _SELECT_TYPES for c in children)
    if has_select and len(children) > 1:
        errs.add(
            (*path, "components"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    for j, child in enumerate(children):
        _validate_interactive(child, errs, (*path, "components", j), seen)


def _count_components(components: Any) -> int:
    if not isinstance(components, list):
        return 0
    total = 0
    for c in components:
        if not isinstance(c, dict):
            continue
        total += 1 + _count_components(c.get("components"))
        if isinstance(c.get("accessory"), dict):
            total += 1
    return total


def _validate_v2(c: Any, errs: _Errors, path: _Path, seen: set[str]) -> None:
    if not isinstance(c, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Must be an object.")
        return
    t = c.get("type")
    if t == 1:
        _validate_row(c, errs, path, seen)
    elif t == 2 or t in _SELECT_TYPES:
        _validate_interactive(c, errs, path, seen)
    elif t == 10:
        _check_len(errs, (*path, "content"), c.get("content", ""), 1, 4000)
    elif t in (9, 17):
        for i, child in enumerate(c.get("components") or []):
            _validate_v2(child, errs, (*path, "components", i), seen)
        if isinstance(c.get("accessory"), dict):
            _validate_v2(c["accessory"], errs, (*path, "accessory"), seen)


def _validate_components(components: Any, errs: _Errors, path: _Path, *, v2: bool) -> None:
    if not isinstance(components, list):
        errs.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    seen: set[str] = set()
    if v2:
        if _count_components(components) > 40:
            errs.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
        for i, c in enumerate(components):
            _validate_v2(c, errs, (*path, i), seen)
        return
    _check_count(errs, path, components, 0, 5)
    for i, row in enumerate(components):
        _validate_row(row, errs, (*path, i), seen)


def _validate_message(body: Any, errs: _Errors, path: _Path = ()) -> None:
    """Check a message create/edit body against Discord's limits."""
    if not isinstance(body, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    content = body.get("content")
    _check_len(errs, (*path, "content"), content, 0, 2000)
    embeds = body.get("embeds")
    if embeds is not None and _check_count(errs, (*path, "embeds"), embeds, 0, 10):
        total = sum(_validate_embed(e, errs, (*path, "embeds", i)) for i, e in enumerate(embeds))
        if total > 6000:
            errs.add(
                (*path, "embeds"),
                "MAX_EMBED_SIZE_EXCEEDED",
                "Embed size exceeds maximum size of 6000",
            )
    flags = _sf(body.get("flags")) or 0
    v2 = bool(flags & _FLAG_COMPONENTS_V2)
    components = body.get("components")
    if components is not None:
        _validate_components(components, errs, (*path, "components"), v2=v2)
    if v2 and (content or embeds):
        errs.add(
            (*path, "content") if content else (*path, "embeds"),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using "
            "MessageFlags.IS_COMPONENTS_V2",
        )
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        errs.add((*path, "nonce"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")


def _validate_text_input(c: dict[str, Any], errs: _Errors, path: _Path, seen: set[str]) -> None:
    _check_custom_id(c, errs, path, seen)
    if c.get("style") not in (1, 2):
        errs.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    _check_len(errs, (*path, "label"), c.get("label"), 0, 45)
    _check_len(errs, (*path, "placeholder"), c.get("placeholder"), 0, 100)
    _check_len(errs, (*path, "value"), c.get("value"), 0, 4000)
    _check_range(errs, (*path, "min_length"), c.get("min_length"), 0, 4000)
    _check_range(errs, (*path, "max_length"), c.get("max_length"), 1, 4000)


def _validate_modal(data: Any, errs: _Errors, path: _Path) -> None:
    if not isinstance(data, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Must be an object.")
        return
    if data.get("custom_id") is None:
        errs.add((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _check_len(errs, (*path, "custom_id"), data.get("custom_id"), 1, 100)
    _check_len(errs, (*path, "title"), data.get("title", ""), 1, 45)
    components = data.get("components")
    if not _check_count(errs, (*path, "components"), components, 1, 5):
        return
    seen: set[str] = set()
    for i, c in enumerate(components):
        cpath = (*path, "components", i)
        t = c.get("type") if isinstance(c, dict) else None
        if t == 1:
            children = c.get("components") or []
            if len(children) != 1 or children[0].get("type") != 4:
                errs.add(
                    (*cpath, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1 in length.",
                )
                continue
            _validate_text_input(children[0], errs, (*cpath, "components", 0), seen)
        elif t == 18:
            _check_len(errs, (*cpath, "label"), c.get("label", ""), 1, 45)
            inner = c.get("component") or {}
            if inner.get("type") == 4:
                _validate_text_input(inner, errs, (*cpath, "component"), seen)
            else:
                _validate_interactive(inner, errs, (*cpath, "component"), seen)
        elif t != 10:
            errs.add((*cpath, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 10, 18}.")


def _validate_choices(data: Any, errs: _Errors, path: _Path) -> None:
    choices = (data or {}).get("choices")
    if choices is None:
        errs.add((*path, "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not _check_count(errs, (*path, "choices"), choices, 0, 25):
        return
    for i, ch in enumerate(choices):
        _check_len(errs, (*path, "choices", i, "name"), ch.get("name", ""), 1, 100)
        value = ch.get("value")
        if isinstance(value, str):
            _check_len(errs, (*path, "choices", i, "value"), value, 0, 100)


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def _validate_options(options: Any, errs: _Errors, path: _Path) -> None:
    if not _check_count(errs, path, options, 0, 25):
        return
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        opath = (*path, i)
        name = opt.get("name", "")
        if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
            errs.add(
                (*opath, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        if name in names:
            errs.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(name)
        _check_len(errs, (*opath, "description"), opt.get("description", ""), 1, 100)
        otype = opt.get("type")
        if otype in (1, 2):
            _validate_options(opt.get("options") or [], errs, (*opath, "options"))
            continue
        if opt.get("required"):
            if seen_optional:
                errs.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = opt.get("choices")
        if choices and _check_count(errs, (*opath, "choices"), choices, 0, 25):
            for j, ch in enumerate(choices):
                _check_len(errs, (*opath, "choices", j, "name"), ch.get("name", ""), 1, 100)
        if choices and opt.get("autocomplete"):
            errs.add(
                (*opath, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                "Autocomplete cannot be enabled on an option that has choices",
            )


def _validate_command(cmd: Any, errs: _Errors, path: _Path) -> None:
    if not isinstance(cmd, dict):
        errs.add(path, "DICT_TYPE_CONVERT", "Must be an object.")
        return
    ctype = cmd.get("type", 1)
    name = cmd.get("name", "")
    if ctype == 1:
        if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
            errs.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        _check_len(errs, (*path, "description"), cmd.get("description", ""), 1, 100)
        _validate_options(cmd.get("options") or [], errs, (*path, "options"))
    else:
        _check_len(errs, (*path, "name"), name, 1, 32)


def _find_component(components: Any, custom_id: str) -> dict[str, Any] | None:
    if not isinstance(components, list):
        return None
    for c in components:
        if not isinstance(c, dict):
            continue
        if c.get("custom_id") == custom_id and c.get("type") != 1:
            return c
        for key in ("components",):
            found = _find_component(c.get(key), custom_id)
            if found is not None:
                return found
        for key in ("accessory", "component"):
            inner = c.get(key)
            if isinstance(inner, dict):
                found = _find_component([inner], custom_id)
                if found is not None:
                    return found
    return None


def _walk_inputs(components: Any) -> Iterator[dict[str, Any]]:
    """Text inputs and selects of a modal, in order."""
    for c in components or []:
        if not isinstance(c, dict):
            continue
        if c.get("type") == 1:
            yield from _walk_inputs(c.get("components"))
        elif c.get("type") == 18 and isinstance(c.get("component"), dict):
            yield c["component"]
        elif c.get("type") == 4 or c.get("type") in _SELECT_TYPES:
            yield c


_Handler = Callable[..., Any]


# ---------------------------------------------------------------------------------------------
# The emulator


class FakeDiscord:
    """The loopback Discord server. Start with ``async with FakeDiscord() as fake`` (or
    ``await fake.start()`` / ``await fake.stop()``).

    Defaults give one guild (``fake.guild``) with one text channel (``fake.channel``), one
    learner (``fake.user``) and the bot user (``fake.bot_user``, whose id is also the
    application id). Pass ``guilds`` and ``users`` to shape the world instead.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        clock: Callable[[], float] = time.monotonic,
        guilds: Sequence[FakeGuild] | None = None,
        users: Sequence[FakeUser] | None = None,
        bot_user: FakeUser | None = None,
        bot_permissions: int = BOT_PERMISSIONS,
        application_flags: int = 0,
        heartbeat_interval_ms: int = 41_250,
        dispatch_message_events: bool = True,
    ) -> None:
        self.token = token
        self.clock = clock
        self.bot_user = bot_user or FakeUser(username="TutorBot", bot=True)
        self.application_id = self.bot_user.id
        self.application_flags = application_flags
        self.bot_permissions = bot_permissions
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.dispatch_message_events = dispatch_message_events
        self.guilds: list[FakeGuild] = list(guilds) if guilds is not None else [FakeGuild()]
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        for u in users if users is not None else [FakeUser()]:
            self.users[u.id] = u
        for g in self.guilds:
            for m in g.members:
                self.users.setdefault(m.user.id, m.user)

        #: Every REST request, in arrival order.
        self.requests: list[RecordedRequest] = []
        #: Requests that matched no route (also answered 404).
        self.unhandled: list[RecordedRequest] = []
        #: Every gateway payload the client sent (tokens redacted).
        self.gateway_received: list[dict[str, Any]] = []
        #: The query string of every gateway connection (``v``, ``encoding``, ``compress``).
        self.gateway_connections: list[dict[str, str]] = []

        self._bot_roles = {
            g.id: FakeRole(name=self.bot_user.username, permissions=bot_permissions, managed=True)
            for g in self.guilds
        }
        self._channels: dict[int, dict[str, Any]] = {}
        self._channel_guild: dict[int, int | None] = {}
        self._dm_by_user: dict[int, int] = {}
        self._dm_recipient: dict[int, int] = {}
        for g in self.guilds:
            for ch in g.channels:
                self._channels[ch.id] = ch.to_payload(g.id)
                self._channel_guild[ch.id] = g.id
        self._threads: dict[int, list[dict[str, Any]]] = {g.id: [] for g in self.guilds}

        self._messages: dict[int, dict[str, Any]] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._message_cond = asyncio.Condition()

        self._commands: dict[int | None, dict[tuple[str, int], dict[str, Any]]] = {}
        self._interactions: dict[int, InteractionResult] = {}
        self._by_token: dict[str, InteractionResult] = {}
        self._modals: dict[str, tuple[dict[str, Any], InteractionResult]] = {}

        self._faults: list[_Fault] = []
        self._sessions: dict[str, _Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes = self._build_routes()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to 127.0.0.1 on a free port and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def stop(self) -> None:
        """Close every gateway socket and stop the server."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The websocket URL (also served by ``GET /gateway/bot``)."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    @property
    def connected_clients(self) -> int:
        """How many gateway sessions have a live websocket."""
        return sum(1 for s in self._sessions.values() if s.conn is not None)

    @property
    def guild(self) -> FakeGuild:
        """The first (default) guild."""
        return self.guilds[0]

    @property
    def channel(self) -> FakeChannel:
        """The first text channel of the default guild."""
        return next(c for c in self.guild.channels if c.type == 0)

    @property
    def user(self) -> FakeUser:
        """The first non-bot user (the default learner)."""
        return next(u for u in self.users.values() if not u.bot)

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py at the emulator (``Route.BASE``, ``DEFAULT_GATEWAY``); restore on exit.

        The patch is process-wide (class attributes), so only one emulator can be patched in at
        a time; nesting is fine.
        """
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    @contextlib.asynccontextmanager
    async def running(
        self,
        client: discord.Client,
        *,
        ready_timeout: float = 10.0,
        fast_ready: bool = True,
    ) -> AsyncIterator[discord.Client]:
        """Patch discord.py, start ``client`` with the emulator's token, wait for ``on_ready``;
        on exit close the client and wait for its task.

        discord.py waits ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE
        before ``on_ready``; ``fast_ready`` lowers it to 0.05 s on this client (a private
        attribute of ``client._connection``). Pass ``guild_ready_timeout=`` to the client
        yourself and ``fast_ready=False`` to avoid that.
        """
        with self.patch_discord():
            if fast_ready:
                state = client._connection
                state.guild_ready_timeout = min(state.guild_ready_timeout, 0.05)
            sockets_before = set(self._sockets)
            sessions_before = set(self._sessions)
            task = asyncio.create_task(client.start(self.token), name="fake-discord-client")
            try:
                deadline = asyncio.get_running_loop().time() + ready_timeout
                while not client.is_ready():
                    if task.done():
                        task.result()  # re-raise the login/connect failure
                        raise AssertionError("client stopped before it became ready")
                    if asyncio.get_running_loop().time() > deadline:
                        raise AssertionError(
                            f"client not ready within {ready_timeout}s; requests: "
                            f"{[(r.method, r.path, r.status) for r in self.requests]}"
                        )
                    await asyncio.sleep(0.005)
                yield client
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._close_client(client, task, sessions_before, sockets_before)
                raise
            await self._close_client(client, task, sessions_before, sockets_before)

    async def _close_client(
        self,
        client: discord.Client,
        task: asyncio.Task[None],
        sessions_before: set[str],
        sockets_before: set[web.WebSocketResponse],
    ) -> None:
        await client.close()
        try:
            await asyncio.wait_for(task, 5.0)  # re-raises what the client died of, if anything
        finally:
            # The client is gone for good: forget its sessions (discord.py's close races its own
            # 1000 against a 4000, so the close code cannot tell) and let the server side of its
            # sockets finish, so nothing outlives the block.
            for sid in set(self._sessions) - sessions_before:
                del self._sessions[sid]
            for _ in range(200):
                if not self._sockets - sockets_before:
                    break
                await asyncio.sleep(0.005)

    # -- fault injection and inspection ---------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int,
        code: int = 0,
        times: int = 1,
        message: str | None = None,
        retry_after: float = 0.01,
        is_global: bool = False,
        process: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (or ``"*"``) and ``path``
        (an fnmatch glob, e.g. ``"/channels/*/messages"``, with or without ``/api/v10``).

        ``status=429`` answers like Discord's rate limiter (``retry_after`` in the body and
        ``Retry-After``/``X-RateLimit-*``/``Via`` headers, ``is_global`` for the global
        limit). ``status=403, code=50007`` is "Cannot send messages to this user",
        ``code=50013`` "Missing Permissions". ``process=True`` performs the request first and
        then answers with the fault, like a response lost after Discord acted on it.
        """
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :]
        self._faults.append(
            _Fault(
                method=method.upper(),
                pattern=path,
                status=status,
                code=code,
                message=message,
                remaining=times,
                retry_after=retry_after,
                is_global=is_global,
                process=process,
            )
        )

    async def set_overwrite(
        self,
        channel: FakeChannel,
        target: FakeUser | FakeRole,
        *,
        allow: int = 0,
        deny: int = 0,
    ) -> None:
        """Give a member or role a permission overwrite in a guild channel, as a server admin
        would: connected clients get CHANNEL_UPDATE (nothing here enforces it)."""
        kind = 0 if isinstance(target, FakeRole) else 1
        channel.overwrites = [o for o in channel.overwrites if o["id"] != str(target.id)]
        channel.overwrites.append(
            {"id": str(target.id), "type": kind, "allow": str(allow), "deny": str(deny)}
        )
        payload = self._channels[channel.id]
        payload["permission_overwrites"] = copy.deepcopy(channel.overwrites)
        guild_id = self._channel_guild[channel.id]
        await self._dispatch("CHANNEL_UPDATE", payload, guild_id=guild_id)

    def find_requests(self, method: str = "*", path: str = "*") -> list[RecordedRequest]:
        """Recorded requests matching ``method`` and the fnmatch glob ``path``."""
        method = method.upper()
        return [
            r
            for r in self.requests
            if method in ("*", r.method) and fnmatch.fnmatchcase(r.path, path)
        ]

    def get_message(self, message_id: int) -> dict[str, Any] | None:
        """A copy of a stored message (ephemeral ones included), or None if unknown/deleted."""
        msg = self._messages.get(int(message_id))
        return copy.deepcopy(msg) if msg is not None else None

    def messages_in(self, channel_id: int) -> list[dict[str, Any]]:
        """Copies of the (non-ephemeral, not deleted) messages of a channel, oldest first."""
        ids = self._channel_messages.get(int(channel_id), [])
        return [copy.deepcopy(self._messages[i]) for i in ids if i in self._messages]

    def dm_channel_id(self, user: FakeUser | int) -> int:
        """The DM channel id between the bot and ``user`` (created if needed)."""
        return self._ensure_dm(user.id if isinstance(user, FakeUser) else int(user))

    def dm_messages(self, user: FakeUser | int) -> list[dict[str, Any]]:
        """Messages in the bot's DM channel with ``user``."""
        return self.messages_in(self.dm_channel_id(user))

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Registered application commands (global when ``guild_id`` is None)."""
        return [copy.deepcopy(c) for c in self._commands.get(guild_id, {}).values()]

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        channel_id: int | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Wait until a stored message (existing or new, ephemeral ones included) matches
        ``predicate``; return a copy of it. Useful for messages the bot sends on its own
        (reminders, DMs)."""

        def find() -> dict[str, Any] | None:
            for msg in self._messages.values():
                if channel_id is not None and int(msg["channel_id"]) != int(channel_id):
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        try:
            async with self._message_cond:
                await asyncio.wait_for(
                    self._message_cond.wait_for(lambda: find() is not None), timeout
                )
        except TimeoutError:
            raise AssertionError(
                f"no matching message within {timeout}s (channel {channel_id}); last requests: "
                f"{[(r.method, r.path, r.status) for r in self.requests[-8:]]}"
            ) from None
        found = find()
        assert found is not None
        return copy.deepcopy(found)

    # -- driving the bot ------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        locale: str = "en-US",
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Dispatch a slash command interaction built from the registered command and wait
        until the bot tried to answer it.

        ``name`` may name a subcommand: ``"quiz start"`` or ``"group sub command"``.
        ``options`` maps option names to values (``FakeUser``/``FakeRole``/``FakeChannel`` or
        ids for user/role/channel options). ``dm=True`` sends it from the user's DM.
        """
        user = self._known_user(user)
        guild, channel = self._place(user, guild_id, channel_id, dm)
        data = self._command_data(name, options or {}, guild=guild, user=user, focused=None)
        return await self._interact(
            2, data, user=user, guild=guild, channel=channel, locale=locale, timeout=timeout
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Dispatch an autocomplete interaction (type 4) for option ``focused`` (its value in
        ``options`` is the partial text) and wait for the answer; see ``result.choices``."""
        user = self._known_user(user)
        guild, channel = self._place(user, guild_id, channel_id, dm)
        data = self._command_data(name, options, guild=guild, user=user, focused=focused)
        return await self._interact(
            4, data, user=user, guild=guild, channel=channel, locale="en-US", timeout=timeout
        )

    async def click(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Click the button ``custom_id`` on a stored message (dict or id); wait for the answer."""
        msg, comp = self._component_on(message, custom_id)
        if comp.get("type") != 2:
            raise AssertionError(f"component {custom_id!r} is not a button: {comp!r}")
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._component_interaction(msg, data, user, timeout)

    async def select(
        self,
        message: Mapping[str, Any] | int,
        custom_id: str,
        values: Sequence[str],
        *,
        user: FakeUser | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Choose ``values`` in the select ``custom_id`` of a stored message; wait for the answer.

        For a string select the values must be among its options and within
        min_values..max_values, as Discord's client enforces.
        """
        msg, comp = self._component_on(message, custom_id)
        ctype = comp.get("type")
        if ctype not in _SELECT_TYPES:
            raise AssertionError(f"component {custom_id!r} is not a select: {comp!r}")
        values = [str(v) for v in values]
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {values}")
        if ctype == 3:
            allowed = {o.get("value") for o in comp.get("options") or []}
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise AssertionError(f"select {custom_id!r} has no option(s) {unknown}")
        data = {"custom_id": custom_id, "component_type": ctype, "values": values}
        return await self._component_interaction(msg, data, user, timeout)

    async def submit_modal(
        self,
        custom_id: str,
        fields: Mapping[str, str | Sequence[str]],
        *,
        user: FakeUser | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Submit the modal ``custom_id`` with ``fields`` (input custom_id -> value).

        The modal must have been opened by the bot (a type 9 answer); the submission mirrors
        its layout and comes from where it was opened. Values are checked against the inputs'
        required/min_length/max_length, as Discord's client does.
        """
        shown = self._modals.get(custom_id)
        if shown is None:
            raise AssertionError(
                f"modal {custom_id!r} was never opened; opened: {sorted(self._modals)}"
            )
        modal, origin = shown
        known = {c.get("custom_id"): c for c in _walk_inputs(modal.get("components"))}
        unknown = set(fields) - set(known)
        if unknown:
            raise AssertionError(f"modal {custom_id!r} has no input(s) {sorted(unknown)}")
        for cid, comp in known.items():
            value = fields.get(cid)
            if comp.get("type") != 4:
                continue
            text = "" if value is None else str(value)
            if comp.get("required", True) and not text:
                raise AssertionError(f"modal input {cid!r} is required")
            lo, hi = comp.get("min_length", 0), comp.get("max_length", 4000)
            if text and not lo <= len(text) <= hi:
                raise AssertionError(f"modal input {cid!r} takes {lo}..{hi} chars, got {len(text)}")

        def answer(c: dict[str, Any]) -> dict[str, Any]:
            cid = c.get("custom_id")
            out: dict[str, Any] = {"type": c.get("type"), "custom_id": cid}
            if "id" in c:
                out["id"] = c["id"]
            value = fields.get(cid)
            if c.get("type") == 4:
                out["value"] = "" if value is None else str(value)
            else:
                vals = [] if value is None else [value] if isinstance(value, str) else list(value)
                out["values"] = [str(v) for v in vals]
            return out

        components: list[dict[str, Any]] = []
        for c in modal.get("components") or []:
            t = c.get("type")
            if t == 1:
                components.append(
                    {"type": 1, "components": [answer(x) for x in c.get("components") or []]}
                )
            elif t == 18:
                item = {"type": 18, "component": answer(c.get("component") or {})}
                if "id" in c:
                    item["id"] = c["id"]
                components.append(item)
            else:
                components.append({k: v for k, v in c.items() if k in ("type", "id")})
        origin_payload = origin.payload
        user = self._known_user(user) if user is not None else self._payload_user(origin_payload)
        guild = self._guild_by_id(_sf(origin_payload.get("guild_id")))
        channel = self._channels[int(origin_payload["channel_id"])]
        msg = origin_payload.get("message")
        if msg is not None:
            msg = self.get_message(int(msg["id"])) or msg
        data = {"custom_id": custom_id, "components": components}
        return await self._interact(
            5, data, user=user, guild=guild, channel=channel, message=msg, timeout=timeout
        )

    async def user_message(
        self,
        content: str,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """Store a message from a user and dispatch MESSAGE_CREATE for it."""
        user = self._known_user(user)
        guild, channel = self._place(user, None, channel_id, dm)
        cid = int(channel["id"])
        msg = self._build_message(cid, {"content": content}, author=user, files=[])
        self._store_message(msg, ephemeral=False)
        event = dict(msg)
        if guild is not None:
            event["member"] = self._member_payload(guild, guild.member(user), with_user=False)
        await self._dispatch("MESSAGE_CREATE", event, guild_id=guild.id if guild else None)
        await self._notify_messages()
        return copy.deepcopy(msg)

    async def reconnect_gateway(self) -> None:
        """Send op 7 RECONNECT to every connected client (it should RESUME)."""
        for session in self._sessions.values():
            if session.conn is not None:
                with contextlib.suppress(Exception):
                    await session.conn.send({"op": 7, "d": None})

    # -- world helpers --------------------------------------------------------------------

    def _known_user(self, user: FakeUser | None) -> FakeUser:
        if user is None:
            return self.user
        self.users.setdefault(user.id, user)
        return self.users[user.id]

    def _guild_by_id(self, guild_id: int | None) -> FakeGuild | None:
        if guild_id is None:
            return None
        for g in self.guilds:
            if g.id == guild_id:
                return g
        return None

    def _payload_user(self, payload: Mapping[str, Any]) -> FakeUser:
        raw = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        return self.users[int(raw["id"])]

    def _ensure_dm(self, user_id: int) -> int:
        cid = self._dm_by_user.get(user_id)
        if cid is None:
            cid = new_snowflake()
            self._dm_by_user[user_id] = cid
            self._dm_recipient[cid] = user_id
            self._channel_guild[cid] = None
            self._channels[cid] = {"id": str(cid), "type": 1, "last_message_id": None, "flags": 0}
        return cid

    def _dm_payload(self, channel_id: int) -> dict[str, Any]:
        recipient = self.users.get(self._dm_recipient[channel_id])
        payload = dict(self._channels[channel_id])
        payload["recipients"] = [recipient.to_payload()] if recipient else []
        return payload

    def _place(
        self, user: FakeUser, guild_id: int | None, channel_id: int | None, dm: bool
    ) -> tuple[FakeGuild | None, dict[str, Any]]:
        if dm or (channel_id is not None and self._channel_guild.get(int(channel_id), 0) is None):
            cid = self._ensure_dm(user.id) if channel_id is None else int(channel_id)
            return None, self._dm_payload(cid)
        if channel_id is not None:
            cid = int(channel_id)
            if cid not in self._channels:
                raise AssertionError(f"unknown channel {cid}")
            guild = self._guild_by_id(self._channel_guild[cid])
            return guild, dict(self._channels[cid])
        guild = self._guild_by_id(guild_id) if guild_id is not None else self.guild
        if guild is None:
            raise AssertionError(f"unknown guild {guild_id}")
        first = next(c for c in guild.channels if c.type == 0)
        return guild, dict(self._channels[first.id])

    def _member_payload(
        self, guild: FakeGuild, member: FakeMember, *, with_user: bool = True
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = member.user.to_payload()
        return payload

    def _bot_member(self, guild: FakeGuild) -> FakeMember:
        return FakeMember(user=self.bot_user, roles=[self._bot_roles[guild.id].id])

    def _guild_roles(self, guild: FakeGuild) -> list[FakeRole]:
        everyone = FakeRole(
            id=guild.id, name="@everyone", permissions=guild.everyone_permissions, position=0
        )
        return [everyone, *guild.roles, self._bot_roles[guild.id]]

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        members = [self._bot_member(guild), *guild.members]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(members),
            "joined_at": _now_iso(),
            "roles": [r.to_payload() for r in self._guild_roles(guild)],
            "channels": [c.to_payload(None) for c in guild.channels],
            "threads": list(self._threads.get(guild.id, [])),
            "members": [self._member_payload(guild, m) for m in members],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": (
                str(guild.system_channel_id) if guild.system_channel_id is not None else None
            ),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "application_id": None,
            "vanity_url_code": None,
            "max_members": 500_000,
        }

    def _app_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": FakeUser(id=self.guilds[0].owner_id if self.guilds else 1).to_payload(),
            "team": None,
            "flags": self.application_flags,
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "bot": self.bot_user.to_payload(),
        }

    # -- interactions ---------------------------------------------------------------------

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        guild: FakeGuild | None,
        user: FakeUser,
        focused: str | None,
    ) -> dict[str, Any]:
        parts = name.split()
        if not parts:
            raise AssertionError("empty command name")
        cmd = None
        if guild is not None:
            cmd = self._commands.get(guild.id, {}).get((parts[0], 1))
        scope_guild = guild.id if cmd is not None and guild is not None else None
        if cmd is None:
            cmd = self._commands.get(None, {}).get((parts[0], 1))
        if cmd is None:
            known = sorted({n for scope in self._commands.values() for (n, t) in scope if t == 1})
            raise AssertionError(
                f"slash command {parts[0]!r} is not registered with the emulator (sync the tree "
                f"first, e.g. `await bot.tree.sync()`); registered: {known}"
            )
        if guild is None:
            contexts = cmd.get("contexts")
            if cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                raise AssertionError(f"/{parts[0]} is not available in DMs")
        resolved: dict[str, dict[str, Any]] = {}
        leaf_defs = cmd.get("options") or []
        path_opts: list[dict[str, Any]] = []
        container = path_opts
        for part in parts[1:]:
            sub = next(
                (o for o in leaf_defs if o.get("name") == part and o.get("type") in (1, 2)), None
            )
            if sub is None:
                raise AssertionError(f"/{name}: no subcommand (group) {part!r}")
            node: dict[str, Any] = {"type": sub["type"], "name": part, "options": []}
            container.append(node)
            container = node["options"]
            leaf_defs = sub.get("options") or []
        if any(o.get("type") in (1, 2) for o in leaf_defs):
            raise AssertionError(f"/{name} is a group; name a subcommand")
        defs = {o["name"]: o for o in leaf_defs}
        unknown = set(options) - set(defs)
        if unknown:
            raise AssertionError(f"/{name} has no option(s) {sorted(unknown)}; has {sorted(defs)}")
        if focused is None:
            missing = [n for n, o in defs.items() if o.get("required") and n not in options]
            if missing:
                raise AssertionError(f"/{name} is missing required option(s) {missing}")
        elif focused not in defs or not defs[focused].get("autocomplete"):
            raise AssertionError(f"/{name}: option {focused!r} has no autocomplete")
        for oname, value in options.items():
            odef = defs[oname]
            entry = self._option_value(odef, value, guild, resolved, raw=oname == focused)
            if oname == focused:
                entry["focused"] = True
            container.append(entry)
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": parts[0],
            "type": 1,
            "options": path_opts,
        }
        if scope_guild is not None:
            data["guild_id"] = str(scope_guild)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self,
        odef: Mapping[str, Any],
        value: Any,
        guild: FakeGuild | None,
        resolved: dict[str, dict[str, Any]],
        *,
        raw: bool,
    ) -> dict[str, Any]:
        otype = odef.get("type")
        name = odef["name"]
        entry: dict[str, Any] = {"name": name, "type": otype}
        if raw:
            entry["value"] = str(value)
            return entry
        if otype == 3:
            value = str(value)
            choices = [c.get("value") for c in odef.get("choices") or []]
            if choices and value not in choices:
                raise AssertionError(f"option {name!r} must be one of {choices}, got {value!r}")
            lo, hi = odef.get("min_length", 0), odef.get("max_length", 6000)
            if not lo <= len(value) <= hi:
                raise AssertionError(f"option {name!r} takes {lo}..{hi} chars")
        elif otype == 4:
            value = int(value)
        elif otype == 5:
            value = bool(value)
        elif otype == 10:
            value = float(value)
        elif otype == 6 or (
            otype == 9
            and not isinstance(value, FakeRole)
            and (isinstance(value, FakeUser) or int(value) in self.users)
        ):
            u = value if isinstance(value, FakeUser) else self.users[int(value)]
            self.users.setdefault(u.id, u)
            resolved.setdefault("users", {})[str(u.id)] = u.to_payload()
            if guild is not None:
                member = self._member_payload(guild, guild.member(u), with_user=False)
                member["permissions"] = str(guild.permissions_for(u.id, guild.member(u).roles))
                resolved.setdefault("members", {})[str(u.id)] = member
            value = str(u.id)
        elif otype in (8, 9):
            role = value if isinstance(value, FakeRole) else None
            if role is None and guild is not None:
                role = next((r for r in self._guild_roles(guild) if r.id == int(value)), None)
            if role is None:
                raise AssertionError(f"option {name!r}: unknown role {value!r}")
            resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            value = str(role.id)
        elif otype == 7:
            cid = value.id if isinstance(value, FakeChannel) else int(value)
            ch = dict(self._channels[cid])
            ch["permissions"] = str(self.bot_permissions)
            resolved.setdefault("channels", {})[str(cid)] = ch
            value = str(cid)
        elif otype == 11:
            att = dict(value)
            att.setdefault("id", str(new_snowflake()))
            att.setdefault("size", 0)
            att.setdefault("url", f"http://127.0.0.1:{self.port}/attachments/{att['id']}")
            att.setdefault("proxy_url", att["url"])
            resolved.setdefault("attachments", {})[str(att["id"])] = att
            value = str(att["id"])
        entry["value"] = value
        return entry

    def _component_on(
        self, message: Mapping[str, Any] | int, custom_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        mid = int(message) if isinstance(message, int) else int(message["id"])
        msg = self.get_message(mid)
        if msg is None:
            raise AssertionError(f"message {mid} does not exist (deleted or never sent)")
        comp = _find_component(msg.get("components"), custom_id)
        if comp is None:
            raise AssertionError(
                f"message {mid} has no component {custom_id!r}; components: {msg.get('components')}"
            )
        if comp.get("disabled"):
            raise AssertionError(f"component {custom_id!r} on message {mid} is disabled")
        return msg, comp

    async def _component_interaction(
        self,
        msg: dict[str, Any],
        data: dict[str, Any],
        user: FakeUser | None,
        timeout: float,
    ) -> InteractionResult:
        cid = int(msg["channel_id"])
        guild = self._guild_by_id(self._channel_guild.get(cid))
        if user is None and guild is None and cid in self._dm_recipient:
            user = self.users[self._dm_recipient[cid]]
        user = self._known_user(user)
        channel = self._dm_payload(cid) if guild is None else dict(self._channels[cid])
        return await self._interact(
            3, data, user=user, guild=guild, channel=channel, message=msg, timeout=timeout
        )

    async def _interact(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild: FakeGuild | None,
        channel: dict[str, Any],
        message: dict[str, Any] | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,
    ) -> InteractionResult:
        iid = new_snowflake()
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": "fake-" + secrets.token_urlsafe(32),
            "version": 1,
            "channel_id": channel["id"],
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(self.bot_permissions),
        }
        channel = dict(channel)
        if guild is not None:
            member = guild.member(user)
            perms = guild.permissions_for(user.id, member.roles)
            member_payload = self._member_payload(guild, member)
            member_payload["permissions"] = str(perms)
            channel["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member_payload,
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.to_payload(),
                # a guild-installed app used in the bot's DM: Discord sends "0" for the guild key
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        payload["channel"] = channel
        if message is not None:
            payload["message"] = message
        record = InteractionResult(self, payload, self.clock())
        self._interactions[iid] = record
        self._by_token[record.token] = record
        sent = await self._dispatch(
            "INTERACTION_CREATE", payload, guild_id=guild.id if guild else None
        )
        if not sent:
            raise AssertionError(
                f"{record.describe()}: no connected bot session to receive INTERACTION_CREATE"
            )
        await record.wait(timeout=timeout)
        return record

    # -- gateway --------------------------------------------------------------------------

    async def _send_event(self, session: _Session, name: str, data: dict[str, Any]) -> bool:
        session.seq += 1
        event = {"op": 0, "t": name, "s": session.seq, "d": data}
        session.backlog.append(event)
        conn = session.conn
        if conn is None:
            return False
        try:
            await conn.send(event)
        except (ConnectionResetError, RuntimeError, aiohttp.ClientError):
            session.conn = None
            return False
        return True

    async def _dispatch(self, name: str, data: dict[str, Any], *, guild_id: int | None) -> bool:
        """Send a DISPATCH to every session that should receive it; True if one got it live."""
        delivered = False
        for session in list(self._sessions.values()):
            if session.wants(guild_id):
                delivered = await self._send_event(session, name, copy.deepcopy(data)) or delivered
        return delivered

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_connections.append(dict(request.query))
        # zlib-stream is what discord.py asks for without zstandard; anything else gets text frames.
        conn = _Conn(ws, compress=request.query.get("compress") == "zlib-stream")
        self._sockets.add(ws)
        session: _Session | None = None
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                op = payload.get("op")
                d = payload.get("d")
                logged = copy.deepcopy(payload)
                if isinstance(logged.get("d"), dict) and "token" in logged["d"]:
                    logged["d"]["token"] = "<redacted>"
                self.gateway_received.append(logged)
                if op == 1:
                    await conn.send({"op": 11, "d": None})
                elif op == 2:
                    if not isinstance(d, dict) or d.get("token") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    session = _Session(d.get("shard"))
                    session.conn = conn
                    self._sessions[session.id] = session
                    await self._identify(session)
                elif op == 6:
                    found = self._sessions.get((d or {}).get("session_id"))
                    if found is None or (d or {}).get("token") != self.token:
                        await conn.send({"op": 9, "d": False})
                        continue
                    session = found
                    session.conn = conn
                    last = (d or {}).get("seq") or 0
                    for event in list(session.backlog):
                        if event["s"] > last:
                            await conn.send(event)
                    await self._send_event(session, "RESUMED", {})
                elif op == 8 and session is not None and isinstance(d, dict):
                    await self._members_chunk(session, d)
                # op 3 presence and 4 voice state: accepted and ignored
        finally:
            self._sockets.discard(ws)
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code == 1000:  # the client closed cleanly: the session ends
                    self._sessions.pop(session.id, None)
        return ws

    async def _members_chunk(self, session: _Session, d: dict[str, Any]) -> None:
        """Answer REQUEST_MEMBERS (discord.py chunks guilds when the members intent is on)."""
        guild = self._guild_by_id(_sf(d.get("guild_id")))
        if guild is None:
            return
        members = [self._bot_member(guild), *guild.members]
        wanted = {_sf(u) for u in d.get("user_ids") or []}
        query = (d.get("query") or "").lower()
        chosen = [
            m
            for m in members
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        limit = d.get("limit") or 0
        if limit:
            chosen = chosen[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [self._member_payload(guild, m) for m in chosen],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        await self._send_event(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _identify(self, session: _Session) -> None:
        guilds = [g for g in self.guilds if session.wants(g.id)]
        me = self.bot_user.to_payload()
        me.update(verified=True, mfa_enabled=False, email=None)
        ready: dict[str, Any] = {
            "v": 10,
            "user": me,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        if session.shard:
            ready["shard"] = session.shard
        await self._send_event(session, "READY", ready)
        for g in guilds:
            await self._send_event(session, "GUILD_CREATE", self._guild_payload(g))

    # -- REST plumbing --------------------------------------------------------------------

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], _Handler]]:
        app = r"/applications/(?P<app_id>\d+|@me)"
        cmds = app + r"(?:/guilds/(?P<guild_id>\d+))?/commands"
        ch = r"/channels/(?P<channel_id>\d+)"
        msg = ch + r"/messages/(?P<message_id>\d+)"
        hook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        table: list[tuple[str, str, _Handler]] = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", r"/oauth2/applications/@me", self._get_app),
            ("GET", r"/applications/@me", self._get_app),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway_bot),
            ("GET", cmds, self._list_commands),
            ("PUT", cmds, self._put_commands),
            ("POST", cmds, self._post_command),
            ("GET", cmds + r"/(?P<command_id>\d+)", self._get_command),
            ("PATCH", cmds + r"/(?P<command_id>\d+)", self._patch_command),
            ("DELETE", cmds + r"/(?P<command_id>\d+)", self._delete_command),
            ("GET", ch, self._get_channel),
            ("GET", ch + r"/messages", self._list_messages),
            ("POST", ch + r"/messages", self._create_message),
            ("GET", msg, self._get_message_route),
            ("PATCH", msg, self._edit_message),
            ("DELETE", msg, self._delete_message),
            ("POST", ch + r"/typing", self._no_content),
            ("PUT", msg + r"/reactions/[^/]+/@me", self._no_content),
            ("DELETE", msg + r"/reactions/[^/]+/@me", self._no_content),
            ("POST", ch + r"/threads", self._create_thread),
            ("POST", msg + r"/threads", self._create_thread),
            ("GET", r"/guilds/(?P<guild_id>\d+)", self._get_guild),
            ("GET", r"/guilds/(?P<guild_id>\d+)/channels", self._get_guild_channels),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", self._get_member),
            (
                "POST",
                r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
                self._interaction_callback,
            ),
            ("POST", hook, self._followup),
            ("GET", hook + r"/messages/(?P<message_id>@original|\d+)", self._webhook_get),
            ("PATCH", hook + r"/messages/(?P<message_id>@original|\d+)", self._webhook_edit),
            ("DELETE", hook + r"/messages/(?P<message_id>@original|\d+)", self._webhook_delete),
        ]
        return [(m, re.compile(p + r"$"), h) for m, p, h in table]

    @staticmethod
    def _json_response(
        status: int, body: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        # Content-Type must be exactly application/json: discord.py compares the header verbatim.
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        return web.Response(status=status, body=json.dumps(body).encode(), headers=hdrs)

    def _error_response(self, exc: DiscordAPIError) -> web.Response:
        return self._json_response(exc.status, exc.body(), exc.headers)

    def _fault_response(self, fault: _Fault) -> web.Response:
        if fault.status == 429:
            scope = "global" if fault.is_global else "user"
            body = {
                "message": fault.message or "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": fault.code,
            }
            headers = {
                "Retry-After": str(max(1, int(fault.retry_after + 0.999))),
                "X-RateLimit-Scope": scope,
                "Via": "1.1 google",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            else:
                headers.update(
                    {
                        "X-RateLimit-Limit": "5",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                        "X-RateLimit-Bucket": "fake-bucket",
                    }
                )
            return self._json_response(429, body, headers)
        err = DiscordAPIError(fault.status, fault.code, fault.message)
        return self._error_response(err)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            body: Any = None
            files: list[dict[str, Any]] = []
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename or part.name or "file",
                            "data": bytes(await part.read()),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            raise DiscordAPIError(400, 50109, "The request body contains invalid JSON.") from None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        record = RecordedRequest(
            method=method,
            path=path,
            query=dict(request.query),
            json=None,
            time=self.clock(),
            authorized=request.headers.get("Authorization") == f"Bot {self.token}",
        )
        self.requests.append(record)
        try:
            response = await self._handle(request, record)
        except DiscordAPIError as exc:
            response = self._error_response(exc)
        record.status = response.status
        if response.status >= 400 and isinstance(response.body, bytes):
            record.error = json.loads(response.body)
        return response

    async def _handle(self, request: web.Request, record: RecordedRequest) -> web.Response:
        body, files = await self._read_body(request)
        record.json = body
        record.files = {f["filename"]: f["data"] for f in files}
        path, method = record.path, record.method

        fault = next((f for f in self._faults if f.remaining > 0 and f.matches(method, path)), None)
        if fault is not None:
            fault.remaining -= 1
            if not fault.process:
                return self._fault_response(fault)

        open_route = path == "/gateway" or path.startswith(("/webhooks/", "/interactions/"))
        if not record.authorized and not open_route:
            raise DiscordAPIError(401, 0, "401: Unauthorized")

        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            m = pattern.match(path)
            if m is None:
                continue
            req = _Req(method, path, request.query, body, files)
            params = {k: v for k, v in m.groupdict().items()}
            result = await handler(req, **params)
            if fault is not None:  # process=True: acted on, but the answer is lost
                return self._fault_response(fault)
            if isinstance(result, web.Response):
                return result
            if result is None:
                return web.Response(status=204)
            return self._json_response(200, result)

        self.unhandled.append(record)
        raise DiscordAPIError(
            404, 0, f"404: Not Found (FakeDiscord has no route for {method} {path})"
        )

    # -- REST: users, application, gateway -----------------------------------------------

    async def _get_me(self, req: _Req) -> Any:
        me = self.bot_user.to_payload()
        me.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return me

    async def _get_user(self, req: _Req, user_id: str) -> Any:
        user = self.users.get(int(user_id))
        if user is None:
            raise DiscordAPIError(404, 10013)
        return user.to_payload()

    async def _create_dm(self, req: _Req) -> Any:
        uid = _sf((req.json or {}).get("recipient_id"))
        if uid is None or uid not in self.users:
            raise DiscordAPIError(404, 10013)
        return self._dm_payload(self._ensure_dm(uid))

    async def _get_app(self, req: _Req) -> Any:
        return self._app_payload()

    async def _get_gateway(self, req: _Req) -> Any:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: _Req) -> Any:
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    # -- REST: application commands ------------------------------------------------------

    def _check_app(self, app_id: str) -> None:
        if app_id != "@me" and int(app_id) != self.application_id:
            raise DiscordAPIError(403, 50001, "Missing Access")

    def _command_scope(self, app_id: str, guild_id: str | None) -> int | None:
        self._check_app(app_id)
        gid = _sf(guild_id)
        if gid is not None and self._guild_by_id(gid) is None:
            raise DiscordAPIError(403, 50001, "Missing Access")
        return gid

    def _stored_command(
        self, cmd: dict[str, Any], gid: int | None, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        stored = copy.deepcopy(cmd)
        stored.setdefault("type", 1)
        stored.setdefault("description", "")
        stored.setdefault("options", [])
        stored.setdefault("default_member_permissions", None)
        stored.setdefault("nsfw", False)
        stored["id"] = old["id"] if old else str(new_snowflake())
        stored["application_id"] = str(self.application_id)
        stored["version"] = str(new_snowflake())
        if gid is not None:
            stored["guild_id"] = str(gid)
        else:
            stored.setdefault("dm_permission", True)
        return stored

    async def _list_commands(self, req: _Req, app_id: str, guild_id: str | None = None) -> Any:
        return self.commands(self._command_scope(app_id, guild_id))

    async def _put_commands(self, req: _Req, app_id: str, guild_id: str | None = None) -> Any:
        gid = self._command_scope(app_id, guild_id)
        body = req.json
        errs = _Errors()
        if not isinstance(body, list):
            errs.add((), "BASE_TYPE_ARRAY", "Must be an array.")
            errs.raise_if_any()
        for i, cmd in enumerate(body):
            _validate_command(cmd, errs, (i,))
        keys = [(c.get("name"), c.get("type", 1)) for c in body if isinstance(c, dict)]
        if len(keys) != len(set(keys)):
            errs.add(
                (),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        if sum(1 for _, t in keys if t == 1) > 100:
            errs.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        errs.raise_if_any()
        old = self._commands.get(gid, {})
        new = {}
        for cmd in body:
            key = (cmd["name"], cmd.get("type", 1))
            new[key] = self._stored_command(cmd, gid, old.get(key))
        self._commands[gid] = new
        return self.commands(gid)

    async def _post_command(self, req: _Req, app_id: str, guild_id: str | None = None) -> Any:
        gid = self._command_scope(app_id, guild_id)
        errs = _Errors()
        _validate_command(req.json, errs, ())
        errs.raise_if_any()
        scope = self._commands.setdefault(gid, {})
        key = (req.json["name"], req.json.get("type", 1))
        scope[key] = self._stored_command(req.json, gid, scope.get(key))
        return copy.deepcopy(scope[key])

    def _command_by_id(self, gid: int | None, command_id: str) -> tuple[tuple[str, int], dict]:
        for key, cmd in self._commands.get(gid, {}).items():
            if cmd["id"] == command_id:
                return key, cmd
        raise DiscordAPIError(404, 10063)

    async def _get_command(
        self, req: _Req, app_id: str, command_id: str, guild_id: str | None = None
    ) -> Any:
        _, cmd = self._command_by_id(self._command_scope(app_id, guild_id), command_id)
        return copy.deepcopy(cmd)

    async def _patch_command(
        self, req: _Req, app_id: str, command_id: str, guild_id: str | None = None
    ) -> Any:
        gid = self._command_scope(app_id, guild_id)
        key, cmd = self._command_by_id(gid, command_id)
        merged = {**cmd, **(req.json or {})}
        errs = _Errors()
        _validate_command(merged, errs, ())
        errs.raise_if_any()
        del self._commands[gid][key]
        new_key = (merged["name"], merged.get("type", 1))
        self._commands[gid][new_key] = self._stored_command(merged, gid, cmd)
        return copy.deepcopy(self._commands[gid][new_key])

    async def _delete_command(
        self, req: _Req, app_id: str, command_id: str, guild_id: str | None = None
    ) -> Any:
        gid = self._command_scope(app_id, guild_id)
        key, _ = self._command_by_id(gid, command_id)
        del self._commands[gid][key]
        return None

    # -- REST: channels and messages -----------------------------------------------------

    def _require_channel(self, channel_id: int) -> dict[str, Any]:
        ch = self._channels.get(channel_id)
        if ch is None:
            raise DiscordAPIError(404, 10003)
        return ch

    def _require_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        msg = self._messages.get(message_id)
        if msg is None or int(msg["channel_id"]) != channel_id:
            raise DiscordAPIError(404, 10008)
        return msg

    async def _get_channel(self, req: _Req, channel_id: str) -> Any:
        cid = int(channel_id)
        self._require_channel(cid)
        return self._dm_payload(cid) if cid in self._dm_recipient else dict(self._channels[cid])

    async def _list_messages(self, req: _Req, channel_id: str) -> Any:
        cid = int(channel_id)
        self._require_channel(cid)
        limit = int(req.query.get("limit", 50))
        return list(reversed(self.messages_in(cid)))[:limit]

    async def _get_message_route(self, req: _Req, channel_id: str, message_id: str) -> Any:
        return copy.deepcopy(self._require_message(int(channel_id), int(message_id)))

    def _attachments(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for f in files:
            aid = new_snowflake()
            url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{f['filename']}"
            out.append(
                {
                    "id": str(aid),
                    "filename": f["filename"],
                    "size": len(f["data"]),
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.get("content_type"),
                }
            )
        return out

    def _build_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        *,
        author: FakeUser,
        files: list[dict[str, Any]],
        interaction: InteractionResult | None = None,
        extra_flags: int = 0,
    ) -> dict[str, Any]:
        mid = new_snowflake()
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
        flags = (_sf(body.get("flags")) or 0) | extra_flags
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": author.to_payload(),
            "content": body.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(files),
            "embeds": embeds,
            "components": copy.deepcopy(body.get("components") or []),
            "pinned": False,
            "type": 0,
            "flags": flags,
        }
        gid = self._channel_guild.get(channel_id)
        if gid is not None:
            msg["guild_id"] = str(gid)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
            msg["type"] = 19
        if body.get("allowed_mentions") is not None:
            # Not part of Discord's message object; kept so tests can check what was asked for.
            msg["allowed_mentions"] = body["allowed_mentions"]
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            user = self._payload_user(interaction.payload)
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user.to_payload(),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.type == 2:
                msg["type"] = 20
                msg["interaction_metadata"]["name"] = interaction.payload["data"]["name"]
        return msg

    def _store_message(self, msg: dict[str, Any], *, ephemeral: bool) -> None:
        mid = int(msg["id"])
        self._messages[mid] = msg
        if not ephemeral:
            cid = int(msg["channel_id"])
            self._channel_messages.setdefault(cid, []).append(mid)
            if cid in self._channels:
                self._channels[cid]["last_message_id"] = msg["id"]

    async def _notify_messages(self) -> None:
        async with self._message_cond:
            self._message_cond.notify_all()

    async def _announce(self, event: str, msg: dict[str, Any]) -> None:
        if self.dispatch_message_events and not int(msg.get("flags") or 0) & _FLAG_EPHEMERAL:
            gid = _sf(msg.get("guild_id"))
            if event == "MESSAGE_DELETE":
                data = {"id": msg["id"], "channel_id": msg["channel_id"]}
                if gid is not None:
                    data["guild_id"] = str(gid)
            else:
                data = {k: v for k, v in msg.items() if k != "allowed_mentions"}
            await self._dispatch(event, data, guild_id=gid)
        await self._notify_messages()

    @staticmethod
    def _check_not_empty(msg: Mapping[str, Any]) -> None:
        has = (
            msg.get("content")
            or msg.get("embeds")
            or msg.get("components")
            or msg.get("attachments")
            or msg.get("sticker_ids")
            or msg.get("poll")
        )
        if not has:
            raise DiscordAPIError(400, 50006)

    def _check_can_send(self, channel_id: int) -> None:
        recipient = self._dm_recipient.get(channel_id)
        if recipient is not None:
            user = self.users.get(recipient)
            if user is None or not user.accepts_dms or user.bot:
                raise DiscordAPIError(403, 50007)

    async def _create_message(self, req: _Req, channel_id: str) -> Any:
        cid = int(channel_id)
        self._require_channel(cid)
        body = req.json or {}
        errs = _Errors()
        _validate_message(body, errs)
        errs.raise_if_any()
        self._check_not_empty({**body, "attachments": req.files or body.get("attachments")})
        self._check_can_send(cid)
        nonce = body.get("nonce")
        key = (self.bot_user.id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            hit = self._nonces.get(key)
            if hit is not None and self.clock() - hit[1] <= NONCE_WINDOW:
                existing = self._messages.get(hit[0])
                if existing is not None:
                    return copy.deepcopy(existing)
        msg = self._build_message(cid, body, author=self.bot_user, files=req.files)
        self._store_message(msg, ephemeral=False)
        if nonce is not None:
            self._nonces[key] = (int(msg["id"]), self.clock())
        await self._announce("MESSAGE_CREATE", msg)
        return copy.deepcopy(msg)

    def _apply_edit(self, msg: dict[str, Any], body: Mapping[str, Any], files: list[dict]) -> None:
        errs = _Errors()
        _validate_message(body, errs)
        errs.raise_if_any()
        updated = dict(msg)
        if "content" in body:
            updated["content"] = body["content"] or ""
        if "embeds" in body:
            updated["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            updated["components"] = copy.deepcopy(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = int(msg.get("flags") or 0) & _FLAG_EPHEMERAL
            updated["flags"] = (int(body["flags"]) & ~_FLAG_LOADING) | keep
        if "attachments" in body or files:
            kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in msg.get("attachments") or [] if a["id"] in kept_ids]
            updated["attachments"] = kept + self._attachments(files)
        if "allowed_mentions" in body:
            updated["allowed_mentions"] = body["allowed_mentions"]
        loading = int(msg.get("flags") or 0) & _FLAG_LOADING
        if loading:
            updated["flags"] = int(updated.get("flags") or 0) & ~_FLAG_LOADING
        else:
            updated["edited_timestamp"] = _now_iso()
        self._check_not_empty(updated)
        msg.clear()
        msg.update(updated)

    async def _edit_message(self, req: _Req, channel_id: str, message_id: str) -> Any:
        msg = self._require_message(int(channel_id), int(message_id))
        if int(msg["author"]["id"]) != self.bot_user.id:
            raise DiscordAPIError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(msg, req.json or {}, req.files)
        await self._announce("MESSAGE_UPDATE", msg)
        return copy.deepcopy(msg)

    async def _delete_message(self, req: _Req, channel_id: str, message_id: str) -> Any:
        msg = self._require_message(int(channel_id), int(message_id))
        del self._messages[int(message_id)]
        await self._announce("MESSAGE_DELETE", msg)
        return None

    async def _no_content(self, req: _Req, **_: str) -> Any:
        return None

    async def _create_thread(
        self, req: _Req, channel_id: str, message_id: str | None = None
    ) -> Any:
        cid = int(channel_id)
        parent = self._require_channel(cid)
        gid = self._channel_guild.get(cid)
        if gid is None:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        if message_id is not None:
            self._require_message(cid, int(message_id))
        body = req.json or {}
        errs = _Errors()
        _check_len(errs, ("name",), body.get("name", ""), 1, 100)
        errs.raise_if_any()
        tid = int(message_id) if message_id is not None else new_snowflake()
        thread = {
            "id": str(tid),
            "guild_id": str(gid),
            "parent_id": parent["id"],
            "owner_id": str(self.bot_user.id),
            "name": body["name"],
            "type": body.get("type") or 11,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": _now_iso(),
                "locked": False,
                "invitable": body.get("invitable", True),
            },
        }
        self._channels[tid] = thread
        self._channel_guild[tid] = gid
        self._threads.setdefault(gid, []).append(thread)
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=gid)
        return copy.deepcopy(thread)

    async def _get_guild(self, req: _Req, guild_id: str) -> Any:
        guild = self._guild_by_id(int(guild_id))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        payload = self._guild_payload(guild)
        for key in ("channels", "threads", "members", "presences", "voice_states"):
            payload.pop(key, None)
        return payload

    async def _get_guild_channels(self, req: _Req, guild_id: str) -> Any:
        guild = self._guild_by_id(int(guild_id))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        return [c.to_payload(guild.id) for c in guild.channels]

    async def _get_member(self, req: _Req, guild_id: str, user_id: str) -> Any:
        guild = self._guild_by_id(int(guild_id))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        uid = int(user_id)
        if uid == self.bot_user.id:
            return self._member_payload(guild, self._bot_member(guild))
        user = self.users.get(uid)
        if user is None:
            raise DiscordAPIError(404, 10007, "Unknown Member")
        return self._member_payload(guild, guild.member(user))

    # -- REST: interaction callbacks and webhooks ----------------------------------------

    _ALLOWED_CALLBACKS: ClassVar[dict[int, frozenset[int]]] = {
        1: frozenset({1}),
        2: frozenset({4, 5, 9, 12}),
        3: frozenset({4, 5, 6, 7, 9, 12}),
        4: frozenset({8}),
        5: frozenset({4, 5, 6, 7, 12}),
    }

    async def _reject(
        self, record: InteractionResult, kind: str, exc: DiscordAPIError, body: Any
    ) -> None:
        record.rejections.append(
            Rejection(kind, exc.status, exc.code, exc.message, exc.errors, copy.deepcopy(body))
        )
        await record._touch()

    async def _interaction_callback(self, req: _Req, interaction_id: str, token: str) -> Any:
        record = self._interactions.get(int(interaction_id))
        if record is None or record.token != token:
            raise DiscordAPIError(404, 10062)
        body = req.json or {}
        record._callback_attempts += 1
        try:
            result = await self._answer(record, body, req.files)
        except DiscordAPIError as exc:
            await self._reject(record, "callback", exc, body)
            raise
        await record._touch()
        if req.query.get("with_response") in ("1", "true", "True"):
            return result
        return None

    async def _answer(
        self, record: InteractionResult, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if record.acknowledged:
            raise DiscordAPIError(400, 40060)
        if self.clock() - record.created_at > INTERACTION_ANSWER_WINDOW:
            raise DiscordAPIError(404, 10062)
        ctype = body.get("type")
        allowed = self._ALLOWED_CALLBACKS.get(record.type, frozenset())
        if ctype in (6, 7) and record.payload.get("message") is None:
            allowed = allowed - {6, 7}
        errs = _Errors()
        if ctype not in allowed:
            errs.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}.")
            errs.raise_if_any()
        data = body.get("data") or {}
        if ctype in (4, 7):
            _validate_message(data, errs, ("data",))
        elif ctype == 8:
            _validate_choices(data, errs, ("data",))
        elif ctype == 9:
            _validate_modal(data, errs, ("data",))
        errs.raise_if_any()
        channel_id = int(record.payload["channel_id"])
        info: dict[str, Any] = {"id": str(record.id), "type": record.type}
        resource: dict[str, Any] = {"type": ctype}
        announce: tuple[str, dict[str, Any]] | None = None
        if ctype in (4, 5):
            if ctype == 4:
                self._check_not_empty({**data, "attachments": files or data.get("attachments")})
            flags = _sf(data.get("flags")) or 0
            ephemeral = bool(flags & _FLAG_EPHEMERAL)
            msg = self._build_message(
                channel_id,
                data if ctype == 4 else {"flags": flags},
                author=self.bot_user,
                files=files,
                interaction=record,
                extra_flags=_FLAG_LOADING if ctype == 5 else 0,
            )
            self._store_message(msg, ephemeral=ephemeral)
            record.message_id = int(msg["id"])
            record.deferred_loading = ctype == 5
            info.update(
                response_message_id=msg["id"],
                response_message_loading=ctype == 5,
                response_message_ephemeral=ephemeral,
            )
            resource["message"] = copy.deepcopy(msg)
            announce = ("MESSAGE_CREATE", msg)
        elif ctype in (6, 7):
            target = self._messages.get(int(record.payload["message"]["id"]))
            if target is None:
                raise DiscordAPIError(404, 10008)
            record.message_id = int(target["id"])
            info["response_message_id"] = target["id"]
            if ctype == 7:
                self._apply_edit(target, data, files)
                resource["message"] = copy.deepcopy(target)
                announce = ("MESSAGE_UPDATE", target)
        elif ctype == 9:
            self._modals[data["custom_id"]] = (copy.deepcopy(data), record)
        record.callbacks.append(copy.deepcopy(body))
        if announce is not None:
            await self._announce(*announce)
        return {"interaction": info, "resource": resource}

    def _webhook_record(self, app_id: str, token: str) -> InteractionResult:
        record = self._by_token.get(token)
        if record is None or int(app_id) != self.application_id:
            raise DiscordAPIError(404, 10015)
        if self.clock() - record.created_at > INTERACTION_TOKEN_LIFETIME:
            raise DiscordAPIError(401, 50027)
        if not record.acknowledged:
            # Discord only knows the webhook once the interaction has been answered or deferred.
            raise DiscordAPIError(404, 10015)
        return record

    async def _guarded(
        self,
        record: InteractionResult | None,
        kind: str,
        body: Any,
        action: Callable[[], Awaitable[Any]],
    ) -> Any:
        try:
            result = await action()
        except DiscordAPIError as exc:
            if record is not None:
                await self._reject(record, kind, exc, body)
            raise
        if record is not None:
            await record._touch()
        return result

    async def _followup(self, req: _Req, app_id: str, token: str) -> Any:
        record = self._by_token.get(token)
        body = req.json or {}

        async def action() -> Any:
            rec = self._webhook_record(app_id, token)
            errs = _Errors()
            _validate_message(body, errs)
            errs.raise_if_any()
            self._check_not_empty({**body, "attachments": req.files or body.get("attachments")})
            original = self._messages.get(rec.message_id) if rec.message_id else None
            if rec.deferred_loading and original is not None:
                # The first followup after a "thinking" defer replaces the loading message.
                rec.deferred_loading = False
                self._apply_edit(
                    original, {k: v for k, v in body.items() if k != "flags"}, req.files
                )
                rec.followup_ids.append(int(original["id"]))
                await self._announce("MESSAGE_UPDATE", original)
                msg = original
            else:
                flags = _sf(body.get("flags")) or 0
                msg = self._build_message(
                    int(rec.payload["channel_id"]),
                    body,
                    author=self.bot_user,
                    files=req.files,
                    interaction=rec,
                )
                self._store_message(msg, ephemeral=bool(flags & _FLAG_EPHEMERAL))
                rec.followup_ids.append(int(msg["id"]))
                await self._announce("MESSAGE_CREATE", msg)
            if req.query.get("wait") in ("1", "true", "True"):
                return copy.deepcopy(msg)
            return None

        return await self._guarded(record, "followup", body, action)

    def _webhook_message(self, rec: InteractionResult, message_id: str) -> dict[str, Any]:
        if message_id == "@original":
            mid = rec.message_id
        else:
            mid = int(message_id)
            if mid != rec.message_id and mid not in rec.followup_ids:
                raise DiscordAPIError(404, 10008)
        msg = self._messages.get(mid) if mid is not None else None
        if msg is None:
            raise DiscordAPIError(404, 10008)
        return msg

    async def _webhook_get(self, req: _Req, app_id: str, token: str, message_id: str) -> Any:
        rec = self._webhook_record(app_id, token)
        return copy.deepcopy(self._webhook_message(rec, message_id))

    async def _webhook_edit(self, req: _Req, app_id: str, token: str, message_id: str) -> Any:
        record = self._by_token.get(token)
        body = req.json or {}

        async def action() -> Any:
            rec = self._webhook_record(app_id, token)
            msg = self._webhook_message(rec, message_id)
            if int(msg["id"]) == rec.message_id:
                rec.deferred_loading = False
            self._apply_edit(msg, body, req.files)
            rec.edits.append(copy.deepcopy(body))
            await self._announce("MESSAGE_UPDATE", msg)
            return copy.deepcopy(msg)

        return await self._guarded(record, "edit", body, action)

    async def _webhook_delete(self, req: _Req, app_id: str, token: str, message_id: str) -> Any:
        record = self._by_token.get(token)

        async def action() -> Any:
            rec = self._webhook_record(app_id, token)
            msg = self._webhook_message(rec, message_id)
            del self._messages[int(msg["id"])]
            await self._announce("MESSAGE_DELETE", msg)
            return None

        return await self._guarded(record, "delete", None, action)
