"""Debug This questions, interview cards and Quick Reference cards, and the answers to them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.errors import UserError
from bot.services.activity import record_activity
from bot.services.base import ServiceBase, lock_learner, require_learner
from bot.services.review import review_item
from bot.services.tracks import track_of
from content.model import Card, Question
from storage.models import Answer, ReadingProgress

RATINGS = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
AGAIN, GOOD = 1, 3


class AlreadyAnswered(UserError):
    """A second press on the same item in the same session: nothing is stored."""

    def __init__(self, choice: str | None) -> None:
        self.choice = choice
        shown = RATINGS[int(choice)] if choice and choice.isdigit() else choice
        chose = f": you chose **{shown}**" if shown else ""
        super().__init__(f"Already answered{chose}. Only the first answer counts.")


@dataclass(frozen=True)
class Graded:
    question: Question
    correct: bool
    next_id: str | None  # the part's next question, if any


class QuizService(ServiceBase):
    def question(self, question_id: str) -> Question:
        question = self.items().questions.get(question_id)
        if question is None:
            raise UserError("That question is no longer in the course. Run `/quiz` again.")
        return question

    def card(self, card_id: str) -> Card:
        card = self.items().cards.get(card_id)
        if card is None:
            raise UserError("That card is no longer in the course.")
        return card

    def position(self, question: Question) -> tuple[int, int]:
        """(1-based index, count) of the question among its part's questions."""
        siblings = self.part(question.part).questions
        return siblings.index(question) + 1, len(siblings)

    def questions(self, part: int) -> tuple[Question, ...]:
        questions = self.part(part).questions
        if not questions:
            raise UserError(f"Part {part} has no Debug This questions.")
        return questions

    def interview_cards(self, part: int) -> tuple[Card, ...]:
        cards = tuple(c for c in self.part(part).cards if c.kind == "interview")
        if not cards:
            raise UserError(f"Part {part} has no interview questions.")
        return cards

    def quickref(self, part: int) -> Card:
        card = next((c for c in self.part(part).cards if c.kind == "quickref"), None)
        if card is None:
            raise UserError(f"Part {part} has no Quick Reference yet.")
        return card

    async def default_part(self, discord_id: int) -> int:
        """The part read most recently; else the first of the track."""
        async with self.sessions() as session:
            learner = await require_learner(session, discord_id)
            recent = await session.scalar(
                select(ReadingProgress.part)
                .where(ReadingProgress.learner_id == learner.id)
                .order_by(ReadingProgress.updated_at.desc())
                .limit(1)
            )
            if recent is not None:
                return int(recent)
            track = await track_of(session, learner, self.course)
            return next(n for n in track.sequence if self.course.parts[n].written)

    # `session` names the quiz or review session the answer belongs to: the first answer to an
    # item in a session is stored, a later one raises AlreadyAnswered (double clicks, a stale
    # message on another device). None: no such limit (old buttons, scripts).

    async def answer(
        self,
        discord_id: int,
        question_id: str,
        letter: str,
        *,
        source: str = "learn",
        session: str | None = None,
    ) -> Graded:
        question = self.question(question_id)
        if question.correct is None or letter not in {c.letter for c in question.choices}:
            raise UserError("That is not one of this question's choices.")
        correct = letter == question.correct
        return await self._store(discord_id, question, correct, source, session, letter)

    async def self_grade(
        self,
        discord_id: int,
        question_id: str,
        had_it: bool,
        *,
        source: str = "learn",
        session: str | None = None,
    ) -> Graded:
        question = self.question(question_id)
        if question.correct is not None:
            raise UserError("That question has choices: answer it with a letter.")
        choice = "had" if had_it else "missed"
        return await self._store(discord_id, question, had_it, source, session, choice)

    async def rate_card(
        self,
        discord_id: int,
        card_id: str,
        rating: int,
        *,
        source: str = "learn",
        session: str | None = None,
    ) -> Card | None:
        """Store a self-rating (1 Again .. 4 Easy); return the part's next card of that kind."""
        if rating not in RATINGS:
            raise UserError("Ratings go from 1 (again) to 4 (easy).")
        card = self.card(card_id)
        await self._record(
            discord_id,
            Answer(
                item_id=card.id,
                part=card.part,
                kind=card.kind,
                source=source,
                correct=rating >= GOOD,
                rating=rating,
                session=session,
                choice=str(rating),
            ),
        )
        siblings = [c for c in self.part(card.part).cards if c.kind == card.kind]
        index = siblings.index(card)
        return siblings[index + 1] if index + 1 < len(siblings) else None

    async def _store(
        self,
        discord_id: int,
        question: Question,
        correct: bool,
        source: str,
        session: str | None,
        choice: str,
    ) -> Graded:
        await self._record(
            discord_id,
            Answer(
                item_id=question.id,
                part=question.part,
                kind="quiz",
                source=source,
                correct=correct,
                session=session,
                choice=choice,
            ),
        )
        siblings = self.part(question.part).questions
        index = siblings.index(question)
        next_id = siblings[index + 1].id if index + 1 < len(siblings) else None
        return Graded(question=question, correct=correct, next_id=next_id)

    async def _record(self, discord_id: int, answer: Answer) -> None:
        """Store the answer, reschedule its review card and count the day, in one transaction."""
        now = self.clock()
        rating = answer.rating or (GOOD if answer.correct else AGAIN)
        async with self.sessions.begin() as session:
            learner = await lock_learner(session, discord_id)  # serialises this learner's presses
            if answer.session is not None:
                earlier = await session.execute(
                    select(Answer.choice).where(
                        Answer.learner_id == learner.id,
                        Answer.session == answer.session,
                        Answer.item_id == answer.item_id,
                    )
                )
                first = earlier.first()
                if first is not None:
                    raise AlreadyAnswered(first.choice)
            answer.learner_id, answer.answered_at = learner.id, now
            session.add(answer)
            await review_item(
                session,
                self.fsrs_scheduler,
                learner,
                item_id=answer.item_id,
                part=answer.part,
                kind=answer.kind,
                rating=rating,
                now=now,
            )
            await record_activity(session, learner, now)
