"""Which servers a learner belongs to: the ones where they used the bot.

Every command and button in a server passes through `note` (bot.bot.TutorBot.note_dms_used).
It writes at most once an hour per learner and server, remembered in memory, so a busy
server costs one small upsert per learner an hour, and a member who never ran /start costs
one indexed read. A server's dashboard (bot.services.server_stats) counts only its learners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.services.base import ServiceBase
from storage.models import Learner, LearnerServer

NOTE_EVERY = timedelta(hours=1)
_FORGET_ABOVE = 50_000  # remembered pairs before the stale ones are dropped


@dataclass
class ServerLearnerService(ServiceBase):
    _noted: dict[tuple[int, int], datetime] = field(default_factory=dict, init=False, repr=False)

    async def note(self, discord_id: int, guild_id: int) -> bool:
        """Record that this user, if a learner, used the bot in this server; True if written."""
        now = self.clock()
        key = (discord_id, guild_id)
        last = self._noted.get(key)
        if last is not None and now - last < NOTE_EVERY:
            return False
        async with self.sessions() as session:  # a read first: a non-learner costs no write
            known = await session.scalar(select(Learner.id).where(Learner.discord_id == discord_id))
        if known is None:
            return False  # not remembered: they may run /start in a moment
        async with self.sessions.begin() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            insert = postgresql.insert if postgres else sqlite.insert
            seen = literal(now, LearnerServer.last_seen.type)
            learner = select(literal(guild_id, BigInteger), Learner.id, seen, seen).where(
                Learner.discord_id == discord_id
            )
            statement = insert(LearnerServer).from_select(
                ["guild_id", "learner_id", "first_seen", "last_seen"], learner
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["guild_id", "learner_id"], set_={"last_seen": now}
                )
            )
        self._remember(key, now)
        return True

    def _remember(self, key: tuple[int, int], now: datetime) -> None:
        if len(self._noted) >= _FORGET_ABOVE:
            self._noted = {k: t for k, t in self._noted.items() if now - t < NOTE_EVERY}
        self._noted[key] = now
