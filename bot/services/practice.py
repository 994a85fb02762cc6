"""/practice: a short session aimed at what the learner gets wrong.

A session mixes the learner's due review cards with Debug This questions from the parts where
their accuracy is lowest (or from one part they name), taking turns, each item at most once,
for up to SESSION_SIZE items, and ends with a line saying what improved.

It keeps no state of its own. The session token goes with every answer (`Answer.session`), so
the next item is always worked out again as "the next one not yet answered in this session":
that survives a restart like any persistent button, and the unique index on (learner, session,
item) refuses a second answer to the same item. The weakest parts are ranked on the answers
from before the session, so they hold still while the learner answers.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.services.base import ServiceBase, require_learner
from bot.services.scores import PartScore, part_scores, weakest_first
from storage.models import Answer, ReviewCard

SESSION_SIZE = 8
FOCUS_PARTS = 2  # weak parts a session draws questions from
SOURCE = "practice"  # Answer.source of practice answers
SESSION = r"p[0-9a-f]{8}(?:n\d{1,2})?"  # `p` + random hex, `n<part>` when a part was named

NOTHING_YET = (
    "Nothing to practise yet: no card is due and you have not answered any Debug This "
    "questions. Try `/quiz` first; `/practice` then aims at the parts you find hardest."
)
UNKNOWN_SESSION = "That practice session is not one I know. Run `/practice` again."


def new_session(part: int | None = None) -> str:
    token = "p" + secrets.token_hex(4)
    return token if part is None else f"{token}n{part}"


def session_part(session: str) -> int | None:
    """The part a session was asked for, if any."""
    if not re.fullmatch(SESSION, session):
        raise UserError(UNKNOWN_SESSION)
    _token, _n, part = session.partition("n")
    return int(part) if part else None


class _Candidate(NamedTuple):
    item_id: str
    part: int
    kind: str
    due: bool


@dataclass(frozen=True)
class PracticeItem:
    item_id: str
    part: int
    kind: str  # quiz (a Debug This question) | interview | quickref
    due: bool  # a review card that was due; else a question from a weak part
    position: int  # 1-based place in the session
    size: int  # how many items the session will have
    accuracy: float | None  # the part's accuracy before the session; None: never answered


@dataclass(frozen=True)
class PartChange:
    part: int
    before: float | None  # None: the session's answers are the part's first
    after: float

    @property
    def improved(self) -> bool:
        return self.before is None or self.after > self.before


@dataclass(frozen=True)
class PracticeSummary:
    answered: int
    right: int
    changes: tuple[PartChange, ...]  # parts whose questions were answered, by part

    @property
    def line(self) -> str:
        """One line, plain text (the console prints it as it is)."""
        done = f"Practice done: {self.right} of {self.answered} right."
        better = [c for c in self.changes if c.improved]
        if better:
            return f"{done} Improved: {', '.join(map(_change, better))}."
        if self.changes:
            return f"{done} No part's accuracy rose this time; the misses come back in /review."
        return f"{done} The cards are rescheduled for review."


def _change(change: PartChange) -> str:
    if change.before is None:
        return f"Part {change.part} first scored {change.after:.0%}"
    return f"Part {change.part} {change.before:.0%} → {change.after:.0%}"


class PracticeService(ServiceBase):
    def check_part(self, part: int) -> int:
        """A part one can practise: written, with Debug This questions."""
        if not self.part(part).questions:
            raise UserError(f"Part {part} has no Debug This questions to practise.")
        return part

    async def step(self, discord_id: int, session_id: str) -> PracticeItem | PracticeSummary:
        """The session's next item, or its summary once it is over."""
        named = session_part(session_id)
        if named is not None:
            self.check_part(named)
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            done = (
                await session.execute(
                    select(Answer.item_id, Answer.part, Answer.kind, Answer.correct).where(
                        Answer.learner_id == learner.id, Answer.session == session_id
                    )
                )
            ).all()
            before = await part_scores(session, learner.id, excluding_session=session_id)
            answered = {row.item_id for row in done}
            if len(done) < SESSION_SIZE:
                focus = [named] if named is not None else self._weakest(before)
                weak = await self._questions(session, learner.id, focus, session_id, answered)
                due = await self._due(session, learner.id, named, answered)
                item = self._pick(weak, due, len(done), before)
                if item is not None:
                    return item
            if not done:
                raise UserError(NOTHING_YET)
            after = await part_scores(session, learner.id)
        return _summary(done, before, after)

    def _weakest(self, scores: dict[int, PartScore]) -> list[int]:
        """The parts with the lowest accuracy; those not yet perfect, if there are any."""
        ranked = [
            score
            for score in weakest_first(scores.values())
            if score.part in self.course.parts and self.course.parts[score.part].questions
        ]
        imperfect = [score.part for score in ranked if score.correct < score.answered]
        return (imperfect or [score.part for score in ranked])[:FOCUS_PARTS]

    async def _questions(
        self,
        session: AsyncSession,
        learner_id: int,
        parts: list[int],
        session_id: str,
        answered: set[str],
    ) -> list[_Candidate]:
        """Questions of the focus parts, weakest part first; in a part, the questions
        last answered wrong first, then those never answered, then the rest."""
        if not parts:
            return []
        rows = await session.execute(
            select(Answer.item_id, Answer.correct)
            .where(
                Answer.learner_id == learner_id,
                Answer.kind == "quiz",
                Answer.part.in_(parts),
                or_(Answer.session.is_(None), Answer.session != session_id),
            )
            .order_by(Answer.answered_at, Answer.id)
        )
        last = {item: correct for item, correct in rows.all()}  # the latest answer wins
        ordered = []
        for part in parts:
            questions = [q for q in self.course.parts[part].questions if q.id not in answered]
            questions.sort(key=lambda q: 0 if last.get(q.id) is False else 1 + (q.id in last))
            ordered += [_Candidate(q.id, part, "quiz", due=False) for q in questions]
        return ordered

    async def _due(
        self, session: AsyncSession, learner_id: int, part: int | None, answered: set[str]
    ) -> list[_Candidate]:
        """The due review cards, most overdue first."""
        query = (
            select(ReviewCard.item_id, ReviewCard.part, ReviewCard.kind)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.due <= self.clock())
            .order_by(ReviewCard.due, ReviewCard.item_id)
            .limit(3 * SESSION_SIZE)
        )
        if part is not None:
            query = query.where(ReviewCard.part == part)
        known = self.items()
        return [
            _Candidate(item_id, int(card_part), kind, due=True)
            for item_id, card_part, kind in (await session.execute(query)).all()
            if item_id in known and item_id not in answered
        ]

    def _pick(
        self,
        weak: list[_Candidate],
        due: list[_Candidate],
        done: int,
        before: dict[int, PartScore],
    ) -> PracticeItem | None:
        """Weak questions and due cards take turns (a weak question first)."""
        size = min(SESSION_SIZE, done + len({c.item_id for c in weak + due}))
        for candidates in (weak, due) if done % 2 == 0 else (due, weak):
            if candidates:
                first = candidates[0]
                score = before.get(first.part)
                accuracy = score.accuracy if score is not None else None
                return PracticeItem(*first, position=done + 1, size=size, accuracy=accuracy)
        return None


def _summary(
    done: Any, before: dict[int, PartScore], after: dict[int, PartScore]
) -> PracticeSummary:
    parts = sorted({int(row.part) for row in done if row.kind == "quiz"})
    changes = tuple(
        PartChange(
            part,
            before[part].accuracy if part in before else None,
            after[part].accuracy if part in after else 0.0,
        )
        for part in parts
    )
    right = sum(1 for row in done if row.correct)
    return PracticeSummary(len(done), right, changes)
