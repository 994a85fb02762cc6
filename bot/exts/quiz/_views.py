"""Debug This questions with answer buttons, and flash cards with self-ratings.

The same buttons serve a part's quiz and a /review session. Their custom_ids carry a session
token: `l<random hex>` while learning (next = the part's next question) or `r<unix time>` in a
review (next = the next due card; the time is when the session began, for its summary). One
answer per item per session is stored; a second press is told what it chose. (A bare `l` comes
from buttons made before sessions had tokens: those are not limited.)
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

import discord

from bot.services import Services
from bot.services.quiz import RATINGS, Graded
from bot.services.review import DueItem
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.items import Kind, OwnedItem, services_of
from content.model import Card, Question

if TYPE_CHECKING:
    from bot.bot import TutorBot

RIGHT, WRONG = discord.Colour.green(), discord.Colour.orange()
LEGACY_SESSION = "l"  # the session of buttons made before sessions had tokens
# a session token in a custom_id (see the module's docstring), and a review's alone
SESSION = Kind(
    "l[0-9a-f]{0,8}|r[0-9]{1,12}", examples=(LEGACY_SESSION, "l3f9a0c1d", "r999999999999")
)
REVIEW_SESSION = Kind("r[0-9]{1,12}", examples=("r1767225600", "r999999999999"))

Message = tuple[discord.Embed, discord.ui.View | None]
Prompt = tuple[discord.Embed, discord.ui.View]  # a question or card: always with its buttons


def review_session(started: datetime) -> str:
    return f"r{int(started.timestamp())}"


def session_start(session: str) -> datetime | None:
    return datetime.fromtimestamp(int(session[1:]), UTC) if session.startswith("r") else None


def learn_session() -> str:
    """A fresh token for one run through a part's questions or cards."""
    return "l" + secrets.token_hex(4)


def learning(session: str) -> bool:
    return session.startswith("l")


def source_of(session: str) -> str:
    return "learn" if learning(session) else "review"


def answer_session(session: str) -> str | None:
    """The session an answer is limited to; None for buttons from before session tokens."""
    return None if session == LEGACY_SESSION else session


def question_message(owner: int, services: Services, question: Question, session: str) -> Prompt:
    index, total = services.quiz.position(question)
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(question.body, 4096),
        colour=BRAND_COLOUR,
    )
    where = f"question {index}/{total}" if learning(session) else "review"
    embed.set_footer(text=f"Part {question.part} · {where}")
    view = discord.ui.View(timeout=None)
    if question.choices:
        for choice in question.choices:
            view.add_item(ChoiceButton(owner, session, question.id, choice.letter))
    else:
        view.add_item(RevealButton(owner, session, question.id))
    return embed, view


def card_message(owner: int, card: Card, *, show_back: bool, session: str) -> Prompt:
    title = "Quick Reference" if card.kind == "quickref" else "Interview question"
    text = card.front if not show_back else f"{card.front}\n\n**Model answer**\n{card.back}"
    embed = discord.Embed(
        title=f"{title} · Part {card.part}", description=fit(text, 4096), colour=BRAND_COLOUR
    )
    view = discord.ui.View(timeout=None)
    if not show_back:
        view.add_item(CardButton(owner, session, card.id, "show"))
    else:
        embed.set_footer(text="How well did you know it? Your rating schedules the next review.")
        for rating in RATINGS:
            view.add_item(CardButton(owner, session, card.id, str(rating)))
    return embed, view


async def after_answer(
    owner: int, services: Services, session: str, graded: Graded, verdict: str
) -> Message:
    question = graded.question
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(f"{verdict}\n\n{question.solution}", 4096),
        colour=RIGHT if graded.correct else WRONG,
    )
    view = discord.ui.View(timeout=None)
    if not learning(session):
        view.add_item(ReviewNextButton(owner, session))
        embed.set_footer(text="Saved. Your answer schedules the next review.")
    elif graded.next_id is not None:
        view.add_item(NextQuestionButton(owner, graded.next_id, session))
        embed.set_footer(text="Your answer is saved.")
    else:
        embed.set_footer(
            text=f"Your answer is saved. That was the last question of Part "
            f"{question.part}: see /progress."
        )
    return embed, view


async def next_review(owner: int, services: Services, session: str) -> Message:
    """The next due card of a review session, or its summary when none is left."""
    due = await services.review.due(owner, limit=1)
    if due:
        return due_message(owner, services, due[0], session)
    started = session_start(session) or services.clock()
    summary = await services.review.summary(owner, since=started)
    lines = [f"Review done: **{summary.reviewed}** reviewed, **{summary.correct}** right."]
    if summary.next_due is not None:
        lines.append(f"Next card due <t:{int(summary.next_due.timestamp())}:R>.")
    return discord.Embed(description="\n".join(lines), colour=RIGHT), None


def due_message(owner: int, services: Services, item: DueItem, session: str) -> Message:
    index = services.review.items()
    if item.item_id in index.questions:
        return question_message(owner, services, index.questions[item.item_id], session)
    return card_message(owner, index.cards[item.item_id], show_back=False, session=session)


class _QuizItem(OwnedItem):
    """Shared construction for the quiz's buttons."""

    id_kinds: ClassVar[dict[str, Kind]] = {"session": SESSION, "review": REVIEW_SESSION}
    session: str

    @staticmethod
    def button(custom_id: str, label: str, style: discord.ButtonStyle) -> discord.ui.Button:
        return discord.ui.Button(label=label, style=style, custom_id=custom_id)


class ChoiceButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="quiz:{owner:int}:{session:session}:{question_id:slug}:{letter:A|B|C|D|E}",
):
    def __init__(self, owner: int, session: str, question_id: str, letter: str) -> None:
        custom_id = self.custom_id_for(
            owner=owner, session=session, question_id=question_id, letter=letter
        )
        super().__init__(self.button(custom_id, letter, discord.ButtonStyle.primary))
        self.owner_id, self.session, self.question_id, self.letter = (
            owner,
            session,
            question_id,
            letter,
        )

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        graded = await services.quiz.answer(
            self.owner_id,
            self.question_id,
            self.letter,
            source=source_of(self.session),
            session=answer_session(self.session),
        )
        verdict = (
            f"✅ **{self.letter}** is right."
            if graded.correct
            else f"❌ You chose **{self.letter}**; the answer is **{graded.question.correct}**."
        )
        embed, view = await after_answer(self.owner_id, services, self.session, graded, verdict)
        await interaction.response.edit_message(embed=embed, view=view)


class RevealButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="quizshow:{owner:int}:{session:session}:{question_id:slug}",
):
    def __init__(self, owner: int, session: str, question_id: str) -> None:
        custom_id = self.custom_id_for(owner=owner, session=session, question_id=question_id)
        super().__init__(self.button(custom_id, "Show answer", discord.ButtonStyle.primary))
        self.owner_id, self.session, self.question_id = owner, session, question_id

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        question = services_of(interaction).quiz.question(self.question_id)
        embed = discord.Embed(
            title=fit(f"Debug This · {question.title}", 256),
            description=fit(f"{question.body}\n\n{question.solution}", 4096),
            colour=BRAND_COLOUR,
        )
        embed.set_footer(text="Be honest: did you find it before looking?")
        view = discord.ui.View(timeout=None)
        for grade in ("had", "miss"):
            view.add_item(SelfGradeButton(self.owner_id, self.session, question.id, grade))
        await interaction.response.edit_message(embed=embed, view=view)


class SelfGradeButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="quizself:{owner:int}:{session:session}:{question_id:slug}:{grade:had|miss}",
):
    LABELS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "had": ("I had it", discord.ButtonStyle.success),
        "miss": ("I missed it", discord.ButtonStyle.danger),
    }

    def __init__(self, owner: int, session: str, question_id: str, grade: str) -> None:
        label, style = self.LABELS[grade]
        custom_id = self.custom_id_for(
            owner=owner, session=session, question_id=question_id, grade=grade
        )
        super().__init__(self.button(custom_id, label, style))
        self.owner_id, self.session, self.question_id, self.grade = (
            owner,
            session,
            question_id,
            grade,
        )

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        had = self.grade == "had"
        graded = await services.quiz.self_grade(
            self.owner_id,
            self.question_id,
            had,
            source=source_of(self.session),
            session=answer_session(self.session),
        )
        verdict = "✅ You had it." if had else "📌 Missed this time: it will come back for review."
        embed, view = await after_answer(self.owner_id, services, self.session, graded, verdict)
        await interaction.response.edit_message(embed=embed, view=view)


class CardButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="card:{owner:int}:{session:session}:{card_id:slug}:{action:show|1|2|3|4}",
):
    def __init__(self, owner: int, session: str, card_id: str, action: str) -> None:
        if action == "show":
            label, style = "Show model answer", discord.ButtonStyle.primary
        else:
            label, style = RATINGS[int(action)], discord.ButtonStyle.secondary
        custom_id = self.custom_id_for(owner=owner, session=session, card_id=card_id, action=action)
        super().__init__(self.button(custom_id, label, style))
        self.owner_id, self.session, self.card_id, self.action = owner, session, card_id, action

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        card = services.quiz.card(self.card_id)
        if self.action == "show":
            front, buttons = card_message(self.owner_id, card, show_back=True, session=self.session)
            await interaction.response.edit_message(embed=front, view=buttons)
            return
        following = await services.quiz.rate_card(
            self.owner_id,
            self.card_id,
            int(self.action),
            source=source_of(self.session),
            session=answer_session(self.session),
        )
        view: discord.ui.View | None
        if not learning(self.session):
            embed, view = await next_review(self.owner_id, services, self.session)
        elif following is None:
            embed = discord.Embed(
                description="Rated. That was the last card of this part. 🎉", colour=RIGHT
            )
            view = None
        else:
            embed, view = card_message(
                self.owner_id, following, show_back=False, session=self.session
            )
        await interaction.response.edit_message(embed=embed, view=view)


class NextQuestionButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="quiznext:{owner:int}:{question_id:slug}[:{session:session}]",
):
    def __init__(self, owner: int, question_id: str, session: str = LEGACY_SESSION) -> None:
        custom_id = self.custom_id_for(owner=owner, question_id=question_id, session=session)
        super().__init__(self.button(custom_id, "Next question ▶", discord.ButtonStyle.primary))
        self.owner_id, self.question_id, self.session = owner, question_id, session

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        question = services.quiz.question(self.question_id)
        embed, view = question_message(self.owner_id, services, question, self.session)
        await interaction.response.edit_message(embed=embed, view=view)


class ReviewNextButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="revnext:{owner:int}:{session:review}",
):
    def __init__(self, owner: int, session: str) -> None:
        custom_id = self.custom_id_for(owner=owner, session=session)
        super().__init__(self.button(custom_id, "Next card ▶", discord.ButtonStyle.primary))
        self.owner_id, self.session = owner, session

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        embed, view = await next_review(self.owner_id, services_of(interaction), self.session)
        await interaction.response.edit_message(embed=embed, view=view)


class QuizPartButton(
    _QuizItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="quizpart:{owner:int}:{part:int}",
):
    def __init__(self, owner: int, part: int) -> None:
        custom_id = self.custom_id_for(owner=owner, part=part)
        super().__init__(self.button(custom_id, "Take the quiz", discord.ButtonStyle.success))
        self.owner_id, self.part = owner, part

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        first = services.quiz.questions(self.part)[0]
        embed, view = question_message(self.owner_id, services, first, learn_session())
        await interaction.response.edit_message(embed=embed, view=view)
