"""The outbox: everything the bot will send later, one row each, claimed under a lease.

Why a lease and a nonce: a dispatcher claims due rows by setting `lease_until`; if it dies
between sending and marking, the lease runs out, a later claim takes the row again and sends it
with the *same* nonce, which Discord (`enforce_nonce`) answers with the message it already
created. Nothing is lost and nothing is doubled.

Several dispatchers: on PostgreSQL rows are picked with `SELECT ... FOR UPDATE SKIP LOCKED`, so
two workers never take the same row, and a row enqueued or moved by any process wakes them all
(NOTIFY, bot/services/outbox_wakeups.py). SQLite has one dispatcher per database (bot/app.py
refuses a second process's); it looks the due ids up, then leases them with one
`UPDATE ... WHERE id IN (...)` that checks them again.

A row waiting for a retry stays `pending` with `lease_until` set to the retry time: `due_at`
keeps the moment it was meant for, so lateness is always measured from there.

No discord imports: bot/delivery/ turns rows into messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.services.base import ServiceBase
from bot.services.outbox_wakeups import notify_workers
from storage.models import GuildSettings, Learner, OutboxMessage

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"

NO_ROUTE = "no route: the learner's DMs are closed and their server has no usable reminder channel"
_NO_ROUTE_TOLD = f"{NO_ROUTE} (learner told)"

UNREACHABLE_NOTICE = (
    "I couldn't deliver {count} reminder{s} to you: your direct messages are closed to me and "
    "this server has no reminder channel. To get reminders, allow direct messages from server "
    "members (Privacy Settings), or ask a moderator to choose a channel with `/server reminders`."
)


def new_nonce() -> str:
    """A random message nonce, fixed for the life of a row: 24 URL-safe characters (Discord
    takes at most 25)."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Recipient:
    """The learner a row is for, as the dispatcher needs them."""

    learner_id: int
    discord_id: int
    dm_unreachable: bool
    prefers_dm: bool


@dataclass(frozen=True)
class OutboxItem:
    """A claimed row. `guild_id` is the row's, else the learner's server (for the fallback)."""

    id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    nonce: str
    attempts: int
    lease_until: datetime
    guild_id: int | None
    channel_id: int | None
    recipient: Recipient | None
    last_error: str | None = None


@dataclass(frozen=True)
class ReminderChannel:
    """A server's chosen fallback channel; `broken_at` is set once posting there failed."""

    channel_id: int
    broken_at: datetime | None

    @property
    def usable(self) -> bool:
        return self.broken_at is None


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("outbox times are UTC-aware datetimes")
    return when


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both backends speak it)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return postgresql.insert if postgres else sqlite.insert


@dataclass(frozen=True)
class Backlog:
    """What waits in the outbox: `/admin status` and the metrics show it."""

    pending: int  # rows not yet sent, failed or cancelled, due or not
    due: int  # of those, the ones due now (in a lease, or waiting for a retry, included)
    oldest_due: datetime | None  # the due time of the oldest of them


@dataclass
class OutboxService(ServiceBase):
    """Enqueue, claim, mark; plus the guild settings and learner flags delivery depends on."""

    _listeners: list[Callable[[datetime], None]] = field(
        default_factory=list, init=False, repr=False
    )

    # -- wake-ups ----------------------------------------------------------------------

    def subscribe(self, listener: Callable[[datetime], None]) -> None:
        """Call `listener(due_at)` whenever a row is enqueued or moved (the dispatcher's wake)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[datetime], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _announce(self, due_at: datetime) -> None:
        for listener in list(self._listeners):
            listener(due_at)

    # -- producers ---------------------------------------------------------------------

    async def enqueue(
        self,
        kind: str,
        *,
        due_at: datetime,
        payload: dict[str, Any],
        learner_id: int | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        dedupe_key: str | None = None,
    ) -> int:
        """Add a row; with a `dedupe_key` already present, return that row's id unchanged."""
        values = {
            "kind": kind,
            "due_at": _aware(due_at),
            "payload": payload,
            "learner_id": learner_id,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "dedupe_key": dedupe_key,
            "nonce": new_nonce(),
            "status": PENDING,
            "attempts": 0,
            "created_at": self.clock(),
        }
        async with self.sessions.begin() as session:
            stmt = _insert(session)(OutboxMessage).values(**values)
            if dedupe_key is not None:
                stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
            row_id = await session.scalar(stmt.returning(OutboxMessage.id))
            created = row_id is not None
            if created and self.shared:
                await notify_workers(session, due_at)
            if not created:
                row_id = await session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
                )
        assert row_id is not None
        if created:
            self._announce(due_at)
        return row_id

    async def cancel(
        self,
        row_id: int | None = None,
        *,
        dedupe_key: str | None = None,
        reason: str = "cancelled",
    ) -> bool:
        """Cancel a pending row (by id or dedupe key). A row already being sent may still arrive."""
        if (row_id is None) == (dedupe_key is None):
            raise ValueError("name the row by id or by dedupe_key")
        if row_id is not None:
            which = OutboxMessage.id == row_id
        else:
            which = OutboxMessage.dedupe_key == dedupe_key
        return bool(await self._set(which, status=CANCELLED, lease_until=None, last_error=reason))

    async def reschedule(self, row_id: int, due_at: datetime) -> bool:
        """Move a pending row that is not being sent right now; False if it is not movable."""
        now = self.clock()
        movable = (OutboxMessage.id == row_id) & or_(
            OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now
        )
        moved = bool(await self._set(movable, wake=due_at, due_at=_aware(due_at), lease_until=None))
        if moved:
            self._announce(due_at)
        return moved

    # -- the dispatcher's side ---------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Lease up to `limit` due rows (earliest first) until `now + lease`; attempts + 1.

        PostgreSQL: one transaction picks the ids with FOR UPDATE SKIP LOCKED (rows another
        worker is claiming are passed over) and leases them. SQLite (one dispatcher): the ids
        are looked up first, outside any write, then leased by one UPDATE that checks them
        again; a transaction that read and then wrote would fail with "database is locked"
        whenever another connection committed in between (storage/db.py), and an idle round
        writes nothing.
        """
        claimable = (
            (OutboxMessage.status == PENDING)
            & (OutboxMessage.due_at <= now)
            & or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
        )
        pick = select(OutboxMessage.id).where(claimable).order_by(OutboxMessage.due_at).limit(limit)
        if self.shared:
            async with self.sessions.begin() as session:
                ids = list(await session.scalars(pick.with_for_update(skip_locked=True)))
                return await self._lease(session, ids, claimable, now + lease)
        async with self.sessions() as session:
            ids = list(await session.scalars(pick))
        if not ids:
            return []
        async with self.sessions.begin() as session:
            return await self._lease(session, ids, claimable, now + lease)

    @property
    def engine(self) -> AsyncEngine:
        return self.sessions.kw["bind"]

    @property
    def shared(self) -> bool:
        """True on PostgreSQL, where several worker processes may dispatch the outbox."""
        return self.engine.dialect.name == "postgresql"

    async def _lease(
        self, session: AsyncSession, ids: list[int], claimable: Any, until: datetime
    ) -> list[OutboxItem]:
        if not ids:
            return []
        rows = list(
            await session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), claimable)
                .values(lease_until=until, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage),
                execution_options={"synchronize_session": False},
            )
        )
        recipients = await self._recipients(session, {r.learner_id for r in rows})
        items = [_item(row, recipients) for row in rows]
        return sorted(items, key=lambda item: (item.due_at, item.id))

    async def _recipients(
        self, session: AsyncSession, learner_ids: set[int | None]
    ) -> dict[int, tuple[Recipient, int | None]]:
        wanted = [i for i in learner_ids if i is not None]
        if not wanted:
            return {}
        learners = await session.scalars(select(Learner).where(Learner.id.in_(wanted)))
        return {
            learner.id: (
                Recipient(
                    learner_id=learner.id,
                    discord_id=learner.discord_id,
                    dm_unreachable=learner.dm_unreachable,
                    prefers_dm=learner.reminder_delivery == "dm",
                ),
                learner.reminder_guild_id,
            )
            for learner in learners
        }

    async def next_due(self, now: datetime) -> datetime | None:
        """When the next row becomes claimable: its due time, or its lease's end if leased."""
        pending = OutboxMessage.status == PENDING
        free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
        async with self.sessions() as session:
            first_free = await session.scalar(
                select(func.min(OutboxMessage.due_at)).where(pending, free)
            )
            # A leased row was claimed, so it was due; that keeps this scan to past-due rows.
            first_lease = await session.scalar(
                select(func.min(OutboxMessage.lease_until)).where(
                    pending, OutboxMessage.due_at <= now, OutboxMessage.lease_until > now
                )
            )
        times = [t for t in (first_free, first_lease) if t is not None]
        return min(times) if times else None

    async def backlog(self) -> Backlog:
        now = self.clock()
        due = (OutboxMessage.status == PENDING) & (OutboxMessage.due_at <= now)
        async with self.sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(OutboxMessage.status == PENDING)
            )
            due_count, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.due_at)).where(due)
                )
            ).one()
        return Backlog(pending=pending or 0, due=due_count, oldest_due=oldest)

    async def mark_sent(self, *row_ids: int) -> int:
        """Mark rows sent, in one statement; how many were still pending."""
        return await self._set(
            OutboxMessage.id.in_(row_ids),
            status=SENT,
            sent_at=self.clock(),
            lease_until=None,
            last_error=None,
        )

    async def mark_failed(self, row_id: int, error: str, retry_at: datetime | None) -> bool:
        """Fail a row for good (`retry_at` None) or keep it pending until `retry_at`."""
        if retry_at is None:
            values: dict[str, Any] = {"status": FAILED, "lease_until": None}
        else:
            values = {"lease_until": _aware(retry_at)}
        return bool(await self._set(OutboxMessage.id == row_id, last_error=error, **values))

    async def release(self, row_ids: Sequence[int], not_before: datetime | None = None) -> None:
        """Give back claimed rows that were never tried (the attempt is not counted)."""
        if not row_ids:
            return
        async with self.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == PENDING)
                .values(lease_until=not_before, attempts=OutboxMessage.attempts - 1)
            )

    async def _set(self, which: Any, *, wake: datetime | None = None, **values: Any) -> int:
        """Update the pending rows `which` selects; how many changed. `wake`: the rows are
        due then, tell the other workers."""
        statement = update(OutboxMessage).where(which, OutboxMessage.status == PENDING)
        async with self.sessions.begin() as session:
            result = await session.execute(
                statement.values(**values), execution_options={"synchronize_session": False}
            )
            if wake is not None and self.shared and result.rowcount:  # type: ignore[attr-defined]
                await notify_workers(session, wake)
        # (type: ignore on the next line) an UPDATE's result is a CursorResult
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- learners ----------------------------------------------------------------------

    async def dms_open_again(self, discord_id: int) -> None:
        """The learner reached us in DMs or chose DMs: try their DMs again from now on."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(Learner)
                .where(Learner.discord_id == discord_id, Learner.dm_unreachable.is_(True))
                .values(dm_unreachable=False)
            )

    async def mark_dm_unreachable(self, learner_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(Learner).where(Learner.id == learner_id).values(dm_unreachable=True)
            )

    async def unreachable_notice(self, discord_id: int) -> str | None:
        """What to tell a learner, once, whose reminders could not reach them (or None).

        Adapters call it in the learner's next interaction, so the usual answer comes from one
        indexed read: only a learner flagged `dm_unreachable` can have such reminders. Telling
        them clears the flag, so the next reminder tries their DMs again.
        """
        flagged = select(Learner.id, Learner.dm_unreachable).where(Learner.discord_id == discord_id)
        async with self.sessions() as session:
            found = (await session.execute(flagged)).first()
        if found is None or not found.dm_unreachable:
            return None
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == FAILED,
                    OutboxMessage.learner_id == found.id,
                    OutboxMessage.last_error == NO_ROUTE,
                )
                .values(last_error=_NO_ROUTE_TOLD)
            )
            # (type: ignore on the next line) an UPDATE's result is a CursorResult
            count = int(result.rowcount)  # type: ignore[attr-defined]
            if not count:
                return None
            await session.execute(
                update(Learner).where(Learner.id == found.id).values(dm_unreachable=False)
            )
        return UNREACHABLE_NOTICE.format(count=count, s="" if count == 1 else "s")

    # -- guild settings ----------------------------------------------------------------

    async def set_reminder_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Choose (or clear) a server's fallback channel; a new choice is not broken."""
        now = self.clock()
        values = {"reminder_channel_id": channel_id, "channel_broken_at": None, "updated_at": now}
        async with self.sessions.begin() as session:
            stmt = _insert(session)(GuildSettings).values(guild_id=guild_id, **values)
            await session.execute(
                stmt.on_conflict_do_update(index_elements=["guild_id"], set_=values)
            )

    async def reminder_channel(self, guild_id: int) -> ReminderChannel | None:
        async with self.sessions() as session:
            settings = await session.get(GuildSettings, guild_id)
        if settings is None or settings.reminder_channel_id is None:
            return None
        return ReminderChannel(settings.reminder_channel_id, settings.channel_broken_at)

    async def mark_channel_broken(self, guild_id: int, channel_id: int | None = None) -> bool:
        """Stop using a server's reminder channel. True only for the call that broke it (so
        moderators are told once); `channel_id` guards against breaking a newer choice."""
        which = (GuildSettings.guild_id == guild_id) & GuildSettings.channel_broken_at.is_(None)
        if channel_id is not None:
            which &= GuildSettings.reminder_channel_id == channel_id
        now = self.clock()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(GuildSettings).where(which).values(channel_broken_at=now, updated_at=now)
            )
        # (type: ignore on the next line) an UPDATE's result is a CursorResult
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _item(row: OutboxMessage, recipients: dict[int, tuple[Recipient, int | None]]) -> OutboxItem:
    recipient, learner_guild = recipients.get(row.learner_id or 0, (None, None))
    assert row.lease_until is not None
    return OutboxItem(
        id=row.id,
        kind=row.kind,
        due_at=row.due_at,
        payload=dict(row.payload or {}),
        nonce=row.nonce,
        attempts=row.attempts,
        lease_until=row.lease_until,
        guild_id=row.guild_id if row.guild_id is not None else learner_guild,
        channel_id=row.channel_id,
        recipient=recipient,
        last_error=row.last_error,
    )
