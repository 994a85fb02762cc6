"""Live group quizzes: one question at a time, every member answers once, quick and right wins.

The database is the quiz's only state: which question is current, when it started, who
answered what and when. A process that restarts (or a second one) therefore knows everything
needed to carry on; closing a question is one conditional UPDATE (`current = index`), so
however many timers, clicks and restarts race to close it, exactly one wins.

Scoring: a right answer is worth 1000 points when given at once and 500 at the very end of
the time limit, falling in a straight line; a wrong or missing answer is worth 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.base import ServiceBase
from bot.services.contention import lock_first, retry_locked
from bot.services.quiz import QuizService
from content.model import Question
from storage.models import GroupMember, GroupQuiz, GroupQuizAnswer, StudyGroup

if TYPE_CHECKING:
    from bot.services.groups import GroupService

POINTS_FAST, POINTS_SLOW = 1000, 500
GRACE = timedelta(seconds=1)  # a click sent just before the end still counts
RESUME_WINDOW = timedelta(minutes=2)  # after a restart, carry on if not later than this
DEFAULT_QUESTIONS, MAX_QUESTIONS = 5, 10
RUNNING, FINISHED, CANCELLED = "running", "finished", "cancelled"

Restart = Literal["resume", "advance", "end"]


def points_for(correct: bool, elapsed: timedelta, limit: timedelta) -> int:
    if not correct:
        return 0
    spent = min(max(elapsed / limit, 0.0), 1.0)
    return round(POINTS_FAST - (POINTS_FAST - POINTS_SLOW) * spent)


def _already_running(thread_id: int) -> UserError:
    return UserError(f"A quiz is already running in <#{thread_id}>.")


@dataclass(frozen=True)
class LiveQuestion:
    quiz_id: int
    guild_id: int
    group_name: str
    channel_id: int  # the group's thread
    message_id: int | None
    index: int  # 0-based
    total: int
    question: Question
    started_at: datetime
    deadline: datetime
    answered: int
    members: int


@dataclass(frozen=True)
class Outcome:
    letter: str
    correct: bool
    points: int
    everyone_answered: bool
    live: LiveQuestion


@dataclass(frozen=True)
class Result:
    user_id: int
    letter: str | None  # None: no answer in time
    correct: bool
    points: int


@dataclass(frozen=True)
class Score:
    user_id: int
    points: int
    correct: int


@dataclass(frozen=True)
class Closed:
    question: LiveQuestion  # the question just closed
    results: tuple[Result, ...]  # fastest right answers first
    following: LiveQuestion | None  # None: the quiz is over
    scoreboard: tuple[Score, ...]  # the standings after this question


class TimeUp(UserError):
    def __init__(self) -> None:
        super().__init__("Time's up for this question: the answer is on its way.")


class GroupQuizService(ServiceBase):
    """Reached as `services.group_quizzes`; the group service supplies limits and members."""

    def __init__(self, groups: GroupService) -> None:
        super().__init__(groups.sessions, groups.courses, groups.clock, groups.fsrs_scheduler)
        self.groups = groups
        self._quiz = QuizService(self.sessions, self.courses, self.clock, self.fsrs_scheduler)

    @property
    def limit(self) -> timedelta:
        return timedelta(seconds=self.groups.limits.question_seconds)

    @retry_locked
    async def start(
        self,
        guild_id: int,
        group_id: int,
        user_id: int,
        *,
        part: int | None = None,
        count: int | None = None,
    ) -> LiveQuestion:
        group = await self.groups.get(guild_id, group_id)
        if not group.has(user_id):
            raise UserError(f"Only members of **{group.name}** can start its quiz.")
        if group.thread_id is None:
            raise UserError(f"**{group.name}** has no thread to hold a quiz in.")
        number = part if part is not None else await self._quiz.default_part(user_id)
        pool = [q for q in self._quiz.questions(number) if q.choices and q.correct]
        if not pool:
            raise UserError(f"Part {number} has no multiple-choice questions for a group quiz.")
        wanted = min(count or DEFAULT_QUESTIONS, MAX_QUESTIONS, len(pool))
        if wanted < 1:
            raise UserError("Ask for at least one question.")
        try:
            return await self._begin(group.id, group.thread_id, number, pool[:wanted], user_id)
        except IntegrityError:  # another start won the race: the unique index held
            raise _already_running(group.thread_id) from None

    async def _begin(
        self, group_id: int, thread_id: int, number: int, questions: list[Question], user_id: int
    ) -> LiveQuestion:
        async with self.sessions.begin() as session:
            running = await session.scalar(
                select(GroupQuiz.id).where(
                    GroupQuiz.group_id == group_id, GroupQuiz.status == RUNNING
                )
            )
            if running is not None:
                raise _already_running(thread_id)
            row = GroupQuiz(
                group_id=group_id,
                part=number,
                question_ids=[q.id for q in questions],
                current=0,
                status=RUNNING,
                channel_id=thread_id,
                started_by=user_id,
                question_started_at=self.clock(),
                started_at=self.clock(),
            )
            session.add(row)
            await session.flush()
            return await self._live(session, row)

    async def shown(self, quiz_id: int, index: int, message_id: int) -> None:
        """The message that shows question `index` (its buttons carry the index too)."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(GroupQuiz)
                .where(GroupQuiz.id == quiz_id, GroupQuiz.current == index)
                .values(message_id=message_id)
            )

    async def current(self, quiz_id: int) -> LiveQuestion | None:
        async with self.sessions() as session:
            row = await session.get(GroupQuiz, quiz_id)
            if row is None or row.status != RUNNING:
                return None
            return await self._live(session, row)

    async def running(self) -> list[LiveQuestion]:
        """Every quiz still running (after a restart: to resume or end them)."""
        async with self.sessions() as session:
            rows = await session.scalars(select(GroupQuiz).where(GroupQuiz.status == RUNNING))
            return [await self._live(session, row) for row in rows]

    def after_restart(self, live: LiveQuestion) -> Restart:
        """Still within the time limit: resume; just past it: close it and go on; else end."""
        now = self.clock()
        if now <= live.deadline:
            return "resume"
        return "advance" if now - live.deadline <= RESUME_WINDOW else "end"

    async def answer(
        self, guild_id: int, quiz_id: int, index: int, user_id: int, letter: str
    ) -> Outcome:
        correct, points, live = await self._store_answer(guild_id, quiz_id, index, user_id, letter)
        # It counts for the member's own spaced repetition like any answer; in a transaction
        # of its own, since the group answer above is the once-only guard.
        await retry_locked(self._quiz.answer)(user_id, live.question.id, letter, source="group")
        return Outcome(letter, correct, points, live.answered >= live.members, live)

    @retry_locked
    async def _store_answer(
        self, guild_id: int, quiz_id: int, index: int, user_id: int, letter: str
    ) -> tuple[bool, int, LiveQuestion]:
        now = self.clock()
        async with self.sessions.begin() as session:
            # One answer at a time per quiz, so the last one in sees everyone's (contention).
            await lock_first(session, GroupQuiz, quiz_id)
            row = await session.get(GroupQuiz, quiz_id)
            group = await session.get(StudyGroup, row.group_id) if row else None
            if row is None or group is None or group.guild_id != guild_id:
                raise UserError("That quiz is not in this server.")
            if row.status != RUNNING:
                raise UserError("This quiz is over: the scoreboard is in the thread.")
            if row.current != index:
                raise UserError("That question is closed: answer the current one below it.")
            if await session.get(GroupMember, (row.group_id, user_id)) is None:
                raise UserError(
                    f"Only members of **{group.name}** answer its quiz. Join with "
                    "`/group join` and you're in for the next question."
                )
            if now - row.question_started_at > self.limit + GRACE:
                raise TimeUp()
            question = self._quiz.question(row.question_ids[index])
            if letter not in {c.letter for c in question.choices}:
                raise UserError("That is not one of this question's choices.")
            correct = letter == question.correct
            points = points_for(correct, now - row.question_started_at, self.limit)
            session.add(
                GroupQuizAnswer(
                    quiz_id=row.id,
                    question_id=question.id,
                    discord_id=user_id,
                    letter=letter,
                    correct=correct,
                    points=points,
                    answered_at=now,
                )
            )
            try:
                await session.flush()
            except IntegrityError:
                raise UserError("You already answered this question.") from None
            return correct, points, await self._live(session, row)

    @retry_locked
    async def close(self, quiz_id: int, index: int, *, end: bool = False) -> Closed | None:
        """Close question `index` (and with `end`, the quiz). None if it was already closed."""
        now = self.clock()
        async with self.sessions.begin() as session:
            await lock_first(session, GroupQuiz, quiz_id)
            row = await session.get(GroupQuiz, quiz_id)
            if row is None:
                return None
            closing = await self._live(session, row)
            last = end or index + 1 >= len(row.question_ids)
            values = (
                {"status": FINISHED, "finished_at": now}
                if last
                else {"current": index + 1, "question_started_at": now, "message_id": None}
            )
            won = await session.execute(
                update(GroupQuiz)
                .where(
                    GroupQuiz.id == quiz_id,
                    GroupQuiz.status == RUNNING,
                    GroupQuiz.current == index,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            # (type: ignore on the next line) an UPDATE's result is a CursorResult
            if not won.rowcount:  # type: ignore[attr-defined]
                return None
            await session.refresh(row)
            results = await self._results(session, row, closing.question.id)
            following = None if last else await self._live(session, row)
            board = await self._scoreboard(session, row)
        return Closed(closing, results, following, board)

    async def _live(self, session: AsyncSession, row: GroupQuiz) -> LiveQuestion:
        group = await session.get_one(StudyGroup, row.group_id)
        index = min(row.current, len(row.question_ids) - 1)
        question_id = row.question_ids[index]
        answered = await session.scalar(
            select(func.count())
            .select_from(GroupQuizAnswer)
            .join(
                GroupMember,
                (GroupMember.group_id == row.group_id)
                & (GroupMember.discord_id == GroupQuizAnswer.discord_id),
            )
            .where(GroupQuizAnswer.quiz_id == row.id, GroupQuizAnswer.question_id == question_id)
        )
        members = await session.scalar(
            select(func.count()).where(GroupMember.group_id == row.group_id)
        )
        return LiveQuestion(
            quiz_id=row.id,
            guild_id=group.guild_id,
            group_name=group.name,
            channel_id=row.channel_id or group.thread_id or 0,
            message_id=row.message_id,
            index=index,
            total=len(row.question_ids),
            question=self._quiz.question(question_id),
            started_at=row.question_started_at,
            deadline=row.question_started_at + self.limit,
            answered=int(answered or 0),
            members=int(members or 0),
        )

    async def _results(
        self, session: AsyncSession, row: GroupQuiz, question_id: str
    ) -> tuple[Result, ...]:
        answers = list(
            await session.scalars(
                select(GroupQuizAnswer)
                .where(
                    GroupQuizAnswer.quiz_id == row.id, GroupQuizAnswer.question_id == question_id
                )
                .order_by(GroupQuizAnswer.points.desc(), GroupQuizAnswer.answered_at)
            )
        )
        given = [Result(a.discord_id, a.letter, a.correct, a.points) for a in answers]
        members = await session.scalars(
            select(GroupMember.discord_id)
            .where(GroupMember.group_id == row.group_id)
            .order_by(GroupMember.joined_at)
        )
        silent = [Result(m, None, False, 0) for m in members if m not in {r.user_id for r in given}]
        return tuple(given + silent)

    async def _scoreboard(self, session: AsyncSession, row: GroupQuiz) -> tuple[Score, ...]:
        totals = await session.execute(
            select(
                GroupQuizAnswer.discord_id,
                func.sum(GroupQuizAnswer.points),
                func.count().filter(GroupQuizAnswer.correct.is_(True)),
            )
            .where(GroupQuizAnswer.quiz_id == row.id)
            .group_by(GroupQuizAnswer.discord_id)
        )
        scores = [Score(int(user), int(points or 0), int(right)) for user, points, right in totals]
        return tuple(sorted(scores, key=lambda s: (-s.points, -s.correct, s.user_id)))
