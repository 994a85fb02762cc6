"""The daily drill: one Debug This question a day in a server's channel, revealed later.

How a day's drill comes to be (every step through the outbox, see bot.services.jobs):
- scheduling (or resuming) asks the outbox for a `drill.post` row at the next local
  occurrence of the drill's time (bot.services.local_time: DST-proof, computed each time);
- when that row is sent, `open_post` creates the day's DrillPost (the unique (drill, day)
  index makes it one a day, whatever retries or races happen), picks its question, and asks
  for the `drill.reveal` row and for the next day's `drill.post` row (both with keys derived
  from the post, so a retried send asks for them once);
- the reveal stamps `revealed_at` with a conditional UPDATE, so it happens once.

Rows a moderator made obsolete (pause, a new schedule, `/drill now`) are cancelled; a row
that slips through anyway is recognised at sending time by its plan (channel, time, zone)
and dropped.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.base import ServiceBase
from bot.services.contention import lock_first, retry_locked
from bot.services.drill_rotation import drill_pool, history, learners_on, pick, remaining
from bot.services.drill_stats import DrillStats, Streak, drill_stats, streaks
from bot.services.jobs import Jobs
from bot.services.local_time import next_local, parse_clock
from bot.services.moderators import Member, ServerChoices, require_moderator, update_server_choices
from bot.services.timezones import parse_zone
from content.model import Question
from storage.models import Drill, DrillAnswer, DrillPost

POST_KIND, REVEAL_KIND = "drill.post", "drill.reveal"
DEFAULT_REVEAL = 480  # minutes
MIN_REVEAL, MAX_REVEAL = 5, 23 * 60  # revealed before the next day's drill
TOO_LATE = timedelta(hours=12)  # a post this late is dropped; the next day's follows


class NotPosting(Exception):
    """A `drill.post` row that must not become a message; `reason` says why (for the row)."""

    def __init__(self, reason: str, *, follow: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.follow = follow  # the next day's drill must still be asked for


@dataclass(frozen=True)
class DrillInfo:
    id: int
    guild_id: int
    channel_id: int
    at: time
    time_zone: str
    reveal_after: timedelta
    paused: bool
    paused_reason: str | None
    next_post: datetime | None  # None while paused

    @property
    def plan(self) -> str:
        """What a post row was planned against: a row with another plan is obsolete."""
        return f"{self.channel_id}|{self.at:%H:%M}|{self.time_zone}"


@dataclass(frozen=True)
class PostPlan:
    post_id: int
    guild_id: int
    channel_id: int
    day: date
    question: Question
    reveal_at: datetime


@dataclass(frozen=True)
class Upcoming:
    day: date
    due: datetime
    question: Question


@dataclass(frozen=True)
class Receipt:
    letter: str
    previous: str | None  # the answer it replaced
    reveal_at: datetime


@dataclass(frozen=True)
class Reveal:
    post_id: int
    day: date
    guild_id: int
    channel_id: int
    message_id: int | None
    question: Question
    counts: dict[str, int]  # per letter, every choice present
    first: bool  # this call revealed it (a retry of the same reveal sees False)
    streaks: tuple[Streak, ...]  # of today's answerers, longest first

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def right(self) -> int:
        return self.counts.get(self.question.correct or "", 0)


@dataclass
class DrillService(ServiceBase):
    jobs: Jobs | None = None

    # -- who may ---------------------------------------------------------------------------

    async def require_moderator(self, guild_id: int, member: Member) -> None:
        async with self.sessions() as session:
            await require_moderator(session, guild_id, member)

    @retry_locked
    async def set_moderator_role(self, guild_id: int, role_id: int | None) -> ServerChoices:
        async with self.sessions.begin() as session:
            return await update_server_choices(
                session, guild_id, self.clock(), moderator_role_id=role_id
            )

    # -- the schedule ----------------------------------------------------------------------

    async def info(self, guild_id: int) -> DrillInfo | None:
        async with self.sessions() as session:
            drill = await _drill(session, guild_id)
            return None if drill is None else await self._info(session, drill)

    async def schedule(
        self,
        guild_id: int,
        actor: int,
        channel_id: int,
        at: str,
        zone: str,
        reveal_after: int | None = None,
    ) -> DrillInfo:
        when, zone_name = parse_clock(at), parse_zone(zone).key
        minutes = DEFAULT_REVEAL if reveal_after is None else reveal_after
        if not MIN_REVEAL <= minutes <= MAX_REVEAL:
            raise UserError(
                f"Reveal the answer {MIN_REVEAL} minutes to {MAX_REVEAL // 60} hours after "
                "the post (before the next day's drill)."
            )
        if not drill_pool(self.course):
            raise UserError("The course has no multiple-choice Debug This questions yet.")
        async with self.sessions.begin() as session:
            drill = await _drill(session, guild_id, lock=True)
            if drill is None:
                drill = Drill(guild_id=guild_id, created_by=actor, created_at=self.clock())
                session.add(drill)
            drill.channel_id, drill.local_time, drill.time_zone = (
                channel_id,
                f"{when:%H:%M}",
                zone_name,
            )
            drill.reveal_after_minutes = minutes
            drill.paused, drill.paused_reason = False, None
            await session.flush()
            info = await self._info(session, drill)
        await self._replan(info)
        return await self.require(guild_id)

    @retry_locked
    async def pause(self, guild_id: int, reason: str) -> bool:
        """Pause; True only for the call that paused it (the one that should tell people)."""
        async with self.sessions.begin() as session:
            changed = await session.execute(
                update(Drill)
                .where(Drill.guild_id == guild_id, Drill.paused.is_(False))
                .values(paused=True, paused_reason=reason[:500])
            )
        if self.jobs is not None:
            await self.jobs.forget(POST_KIND, guild_id=guild_id)
        # (type: ignore on the next line) an UPDATE's result is a CursorResult
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    async def resume(self, guild_id: int) -> DrillInfo:
        info = await self.require(guild_id)
        if not info.paused:
            raise UserError("The drill isn't paused.")
        async with self.sessions.begin() as session:
            await session.execute(
                update(Drill).where(Drill.id == info.id).values(paused=False, paused_reason=None)
            )
        await self._replan(await self.require(guild_id))
        return await self.require(guild_id)

    async def now(self, guild_id: int) -> DrillInfo:
        """Post today's drill now instead of at its time (still one a day)."""
        info = await self.require(guild_id)
        if info.paused:
            raise UserError("The drill is paused: `/drill resume` first.")
        now = self.clock()
        today = now.astimezone(ZoneInfo(info.time_zone)).date()
        async with self.sessions() as session:
            existing = await session.scalar(
                select(DrillPost).where(DrillPost.drill_id == info.id, DrillPost.day == today)
            )
        if existing is not None:
            what = "was skipped" if existing.skipped else "is already out"
            assert info.next_post is not None  # not paused
            following = int(info.next_post.timestamp())
            raise UserError(f"Today's drill {what}; the next one is <t:{following}:f>.")
        await self._replan(info, due=now, day=today)
        return info

    # -- preview and skip ------------------------------------------------------------------

    async def preview(self, guild_id: int) -> Upcoming:
        info = await self.require(guild_id)
        async with self.sessions() as session:
            day, due = await self._upcoming(session, info)
            return Upcoming(day, due, await self._choose(session, info))

    @retry_locked
    async def skip(self, guild_id: int) -> tuple[Upcoming, Upcoming]:
        """Skip the next drill: nothing is posted that day and its question is set aside for
        this round. Returns (what was skipped, what comes next)."""
        info = await self.require(guild_id)
        async with self.sessions.begin() as session:
            day, due = await self._upcoming(session, info)
            question = await self._choose(session, info)
            session.add(
                DrillPost(
                    drill_id=info.id,
                    day=day,
                    question_id=question.id,
                    reveal_at=due + info.reveal_after,
                    skipped=True,
                )
            )
            await session.flush()
            after_day, after_due = await self._upcoming(session, info)
            following = Upcoming(after_day, after_due, await self._choose(session, info))
        return Upcoming(day, due, question), following

    # -- posting (called by the outbox renderer) ---------------------------------------------

    async def open_post(
        self, drill_id: int, plan: str, day: date, due: datetime, *, retry: bool
    ) -> PostPlan:
        """The post a `drill.post` row stands for, created on its first send; NotPosting when
        the row must not become a message. `retry`: the row was tried before (same nonce, so
        sending the same post again cannot make a second message)."""
        outcome, info = await self._open(drill_id, plan, day, due, retry=retry)
        if info is not None and (isinstance(outcome, PostPlan) or outcome.follow):
            await self._follow(info, day)
        if isinstance(outcome, NotPosting):
            raise outcome
        if self.jobs is not None:
            await self.jobs.later(
                REVEAL_KIND,
                outcome.reveal_at,
                {"post_id": outcome.post_id},
                key=f"drill:reveal:{outcome.post_id}",
                guild_id=outcome.guild_id,
                channel_id=outcome.channel_id,
            )
        return outcome

    @retry_locked
    async def _open(
        self, drill_id: int, plan: str, day: date, due: datetime, *, retry: bool
    ) -> tuple[PostPlan | NotPosting, DrillInfo | None]:
        now = self.clock()
        async with self.sessions.begin() as session:
            drill = await session.get(Drill, drill_id)
            if drill is None:
                return NotPosting("the drill was removed"), None
            info = await self._info(session, drill)
            if info.paused:
                return NotPosting("the drill is paused"), None
            if info.plan != plan:
                return NotPosting("obsolete: the drill was rescheduled"), None
            post = await session.scalar(
                select(DrillPost).where(DrillPost.drill_id == drill_id, DrillPost.day == day)
            )
            if post is not None and post.skipped:
                return NotPosting("skipped by a moderator", follow=True), info
            if post is not None and not retry:
                return NotPosting("that day's drill is already out"), None
            if post is None:
                if now - due > TOO_LATE:
                    return NotPosting(f"too late: due {due:%Y-%m-%d %H:%M} UTC", follow=True), info
                question = await self._choose(session, info)
                post = DrillPost(
                    drill_id=drill_id,
                    day=day,
                    question_id=question.id,
                    posted_at=now,
                    reveal_at=now + info.reveal_after,
                )
                session.add(post)
                await session.flush()
            question = self.question(post.question_id)
            opened = PostPlan(
                post.id, info.guild_id, info.channel_id, day, question, post.reveal_at
            )
        return opened, info

    @retry_locked
    async def attach_message(self, post_id: int, message_id: int) -> bool:
        """Remember the message that shows a post (the first one seen wins)."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(DrillPost)
                .where(DrillPost.id == post_id, DrillPost.message_id.is_(None))
                .values(message_id=message_id)
            )
        # (type: ignore on the next line) an UPDATE's result is a CursorResult
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @retry_locked
    async def lost(self, post_id: int) -> None:
        """The post never reached its channel: it is not a drill day for anyone's streak."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(DrillPost).where(DrillPost.id == post_id).values(skipped=True)
            )

    # -- answers and the reveal --------------------------------------------------------------

    @retry_locked
    async def answer(self, guild_id: int, post_id: int, user_id: int, letter: str) -> Receipt:
        now = self.clock()
        async with self.sessions.begin() as session:
            await lock_first(session, DrillPost, post_id)  # everyone answers the same post
            post = await session.get(DrillPost, post_id)
            drill = await session.get(Drill, post.drill_id) if post else None
            if post is None or drill is None or drill.guild_id != guild_id:
                raise UserError("That drill is not in this server.")
            if post.revealed_at is not None or now >= post.reveal_at:
                raise UserError("This drill is closed: the answer is (about to be) shown on it.")
            question = self.question(post.question_id)
            if letter not in {c.letter for c in question.choices}:
                raise UserError("That is not one of this question's choices.")
            mine = await session.get(DrillAnswer, (post_id, user_id))
            previous = mine.letter if mine else None
            if mine is None:
                session.add(
                    DrillAnswer(post_id=post_id, discord_id=user_id, letter=letter, answered_at=now)
                )
            else:
                mine.letter, mine.answered_at = letter, now
            try:
                await session.flush()
            except IntegrityError:  # a double click raced itself: the other one counted
                raise UserError("Your answer is being recorded; press it again.") from None
            return Receipt(letter, previous, post.reveal_at)

    @retry_locked
    async def reveal(self, post_id: int) -> Reveal | None:
        """Stamp the post revealed (once) and count its answers; None if it never went out."""
        async with self.sessions.begin() as session:
            post = await session.get(DrillPost, post_id)
            if post is None or post.skipped:
                return None
            drill = await session.get_one(Drill, post.drill_id)
            stamped = await session.execute(
                update(DrillPost)
                .where(DrillPost.id == post_id, DrillPost.revealed_at.is_(None))
                .values(revealed_at=self.clock())
            )
            await session.refresh(post)
            question = self.question(post.question_id)
            counts = {choice.letter: 0 for choice in question.choices}
            rows = await session.execute(
                select(DrillAnswer.letter, func.count())
                .where(DrillAnswer.post_id == post_id)
                .group_by(DrillAnswer.letter)
            )
            for letter, count in rows:
                counts[letter] = int(count)
            answerers = set(
                await session.scalars(
                    select(DrillAnswer.discord_id).where(DrillAnswer.post_id == post_id)
                )
            )
            table = await streaks(session, drill.id)
        ranked = sorted(
            (s for user, s in table.items() if user in answerers),
            key=lambda s: (-s.current, s.user_id),
        )
        return Reveal(
            post_id=post.id,
            day=post.day,
            guild_id=drill.guild_id,
            channel_id=drill.channel_id,
            message_id=post.message_id,
            question=question,
            counts=counts,
            # (type: ignore on the next line) an UPDATE's result is a CursorResult
            first=bool(stamped.rowcount),  # type: ignore[attr-defined]
            streaks=tuple(ranked),
        )

    async def stats(self, guild_id: int) -> DrillStats:
        info = await self.require(guild_id)
        today = self.clock().astimezone(ZoneInfo(info.time_zone)).date()
        questions = self.items().questions
        async with self.sessions() as session:
            return await drill_stats(
                session,
                info.id,
                today,
                lambda qid: questions[qid].correct if qid in questions else None,
            )

    async def streak(self, guild_id: int, user_id: int) -> Streak | None:
        info = await self.info(guild_id)
        if info is None:
            return None
        async with self.sessions() as session:
            return (await streaks(session, info.id)).get(user_id)

    def question(self, question_id: str) -> Question:
        question = self.items().questions.get(question_id)
        if question is None:
            raise UserError("That drill's question is no longer in the course.")
        return question

    # -- helpers ---------------------------------------------------------------------------

    async def require(self, guild_id: int) -> DrillInfo:
        info = await self.info(guild_id)
        if info is None:
            raise UserError("This server has no daily drill yet: `/drill schedule` sets one up.")
        return info

    async def _info(self, session: AsyncSession, drill: Drill) -> DrillInfo:
        hours, minutes = (int(x) for x in drill.local_time.split(":"))
        info = DrillInfo(
            id=drill.id,
            guild_id=drill.guild_id,
            channel_id=drill.channel_id,
            at=time(hours, minutes),
            time_zone=drill.time_zone,
            reveal_after=timedelta(minutes=drill.reveal_after_minutes),
            paused=drill.paused,
            paused_reason=drill.paused_reason,
            next_post=None,
        )
        if drill.paused:
            return info
        _day, due = await self._upcoming(session, info)
        return replace(info, next_post=due)

    async def _upcoming(self, session: AsyncSession, info: DrillInfo) -> tuple[date, datetime]:
        """The next occurrence whose day has no post yet (none posted, none skipped)."""
        zone = ZoneInfo(info.time_zone)
        taken = set(
            await session.scalars(
                select(DrillPost.day).where(
                    DrillPost.drill_id == info.id,
                    DrillPost.day >= self.clock().astimezone(zone).date(),
                )
            )
        )
        day, due = next_local(self.clock(), zone, info.at)
        while day in taken:
            day, due = next_local(self.clock(), zone, info.at, later_than_day=day)
        return day, due

    async def _choose(self, session: AsyncSession, info: DrillInfo) -> Question:
        candidates = remaining(drill_pool(self.course), await history(session, info.id))
        return pick(candidates, await learners_on(session, info.guild_id, info.id))

    async def _replan(
        self, info: DrillInfo, *, due: datetime | None = None, day: date | None = None
    ) -> None:
        """Cancel what was planned and ask for the next post (`due`/`day`: a given one)."""
        if self.jobs is None:
            return
        await self.jobs.forget(POST_KIND, guild_id=info.guild_id)
        if due is None or day is None:
            async with self.sessions() as session:
                day, due = await self._upcoming(session, info)
        # Every plan is a new request (a cancelled row keeps its key forever).
        await self._ask(info, day, due, key=f"drill:{info.id}:plan:{secrets.token_hex(8)}")

    async def _follow(self, info: DrillInfo, day: date) -> None:
        """Ask for the drill after `day` (the same request however often a row is retried)."""
        if self.jobs is None:
            return
        zone = ZoneInfo(info.time_zone)
        next_day, due = next_local(self.clock(), zone, info.at, later_than_day=day)
        await self._ask(info, next_day, due, key=f"drill:{info.id}:after:{day.isoformat()}")

    async def _ask(self, info: DrillInfo, day: date, due: datetime, *, key: str) -> None:
        assert self.jobs is not None
        await self.jobs.later(
            POST_KIND,
            due,
            {"drill_id": info.id, "day": day.isoformat(), "plan": info.plan},
            key=key,
            guild_id=info.guild_id,
            channel_id=info.channel_id,
        )


async def _drill(session: AsyncSession, guild_id: int, *, lock: bool = False) -> Drill | None:
    query = select(Drill).where(Drill.guild_id == guild_id)
    return await session.scalar(query.with_for_update() if lock else query)
