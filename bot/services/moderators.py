"""Who moderates study groups and the daily drill, and where group threads go.

Moderators are members with Manage Server, or with a role the server chose. The adapters
collect the facts about a member (their permission and role ids); the decision is made here,
once, for groups and drills alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from storage.models import GuildSettings

NEEDS_MODERATOR = (
    "Only moderators can do that: members with **Manage Server**, or with the moderator role "
    "the server chose (`/drill role`)."
)


@dataclass(frozen=True)
class Member:
    """What the adapter knows about the member who asks."""

    user_id: int
    manage_guild: bool = False
    role_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user_id: int, *, manage_guild: bool, role_ids: Iterable[int]) -> Member:
        return cls(user_id, manage_guild, frozenset(role_ids))


@dataclass(frozen=True)
class ServerChoices:
    group_channel_id: int | None = None
    moderator_role_id: int | None = None

    def is_moderator(self, member: Member) -> bool:
        role = self.moderator_role_id
        return member.manage_guild or (role is not None and role in member.role_ids)


async def server_choices(session: AsyncSession, guild_id: int) -> ServerChoices:
    row = await session.get(GuildSettings, guild_id)
    if row is None:
        return ServerChoices()
    return ServerChoices(row.group_channel_id, row.moderator_role_id)


async def require_moderator(session: AsyncSession, guild_id: int, member: Member) -> None:
    if not (await server_choices(session, guild_id)).is_moderator(member):
        raise UserError(NEEDS_MODERATOR)


async def update_server_choices(
    session: AsyncSession, guild_id: int, now: datetime, **values: int | None
) -> ServerChoices:
    """Set `group_channel_id` and/or `moderator_role_id`, creating the server's row if needed."""
    row = await session.get(GuildSettings, guild_id)
    if row is None:
        row = GuildSettings(guild_id=guild_id, updated_at=now)
        session.add(row)
    for name, value in values.items():
        if name not in ("group_channel_id", "moderator_role_id"):
            raise ValueError(f"not a group or drill setting: {name}")
        setattr(row, name, value)
    row.updated_at = now
    await session.flush()
    return ServerChoices(row.group_channel_id, row.moderator_role_id)
