"""A practice session's messages and buttons.

Every button carries the session token (`p<hex>`, `n<part>` when one part was asked for); the
service works out the next item from the answers stored under it (bot.services.practice), so
the buttons keep working after a restart and no item comes twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import discord

from bot.services import Services
from bot.services.practice import SESSION, SOURCE, PracticeItem, PracticeSummary
from bot.services.quiz import RATINGS, Graded
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.items import Kind, OwnedItem, services_of
from content.model import Card

if TYPE_CHECKING:
    from bot.bot import TutorBot

RIGHT, WRONG = discord.Colour.green(), discord.Colour.orange()
PRACTICE_SESSION = Kind(SESSION, examples=("p3f9a0c1d", "p3f9a0c1dn20"))
LETTERS = ("A", "B", "C", "D", "E")
# what a press on an item does: answer with a letter, show the answer (a self-graded question,
# a card), grade oneself (had / miss) or rate a card (1-4)
ACTIONS = (*LETTERS, "show", "had", "miss", *map(str, RATINGS))

Message = tuple[discord.Embed, discord.ui.View | None]


def step_message(
    owner: int, services: Services, session: str, step: PracticeItem | PracticeSummary
) -> Message:
    """The next item with its buttons, or the session's summary."""
    if isinstance(step, PracticeSummary):
        return discord.Embed(description=step.line, colour=RIGHT), None
    if step.due:
        why = "due for review"
    elif step.accuracy is None:
        why = "a part you have not answered yet"
    else:
        why = f"you answer {step.accuracy:.0%} of Part {step.part} right"
    footer = f"Practice {step.position}/{step.size} · Part {step.part} · {why}"
    view = discord.ui.View(timeout=None)
    index = services.practice.items()
    question = index.questions.get(step.item_id)
    if question is not None:
        embed = _embed(f"Debug This · {question.title}", question.body)
        actions = [c.letter for c in question.choices] or ["show"]
    else:
        card = services.quiz.card(step.item_id)
        embed = _embed(_card_title(card), card.front)
        actions = ["show"]
    for action in actions:
        view.add_item(PracticeButton(owner, session, step.item_id, action))
    embed.set_footer(text=footer)
    return embed, view


def _card_title(card: Card) -> str:
    kind = "Quick Reference" if card.kind == "quickref" else "Interview question"
    return f"{kind} · Part {card.part}"


def _embed(title: str, text: str, colour: discord.Colour = BRAND_COLOUR) -> discord.Embed:
    return discord.Embed(
        title=fit(f"Practice · {title}", 256), description=fit(text, 4096), colour=colour
    )


async def _after(owner: int, services: Services, session: str, verdict: str, ok: bool) -> Message:
    """After an answer: the verdict (and the explanation), then Next, or the summary."""
    step = await services.practice.step(owner, session)
    embed = discord.Embed(description=fit(verdict, 4096), colour=RIGHT if ok else WRONG)
    view = discord.ui.View(timeout=None)
    if isinstance(step, PracticeSummary):
        embed.add_field(name="Practice done", value=step.line, inline=False)
        return embed, None
    view.add_item(PracticeNextButton(owner, session))
    embed.set_footer(text="Saved. Your answer schedules the next review.")
    return embed, view


def _explained(graded: Graded, verdict: str) -> str:
    return f"**{graded.question.title}**\n{verdict}\n\n{graded.question.solution}"


class PracticeButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="practice:{owner:int}:{session:session}:{item_id:slug}:{action:"
    + "|".join(ACTIONS)
    + "}",
):
    id_kinds: ClassVar[dict[str, Kind]] = {"session": PRACTICE_SESSION}
    LABELS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "show": ("Show answer", discord.ButtonStyle.primary),
        "had": ("I had it", discord.ButtonStyle.success),
        "miss": ("I missed it", discord.ButtonStyle.danger),
        **{str(r): (name, discord.ButtonStyle.secondary) for r, name in RATINGS.items()},
    }

    def __init__(self, owner: int, session: str, item_id: str, action: str) -> None:
        label, style = self.LABELS.get(action, (action, discord.ButtonStyle.primary))
        custom_id = self.custom_id_for(owner=owner, session=session, item_id=item_id, action=action)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.owner_id, self.session, self.item_id, self.action = owner, session, item_id, action

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        owner, session, item_id, action = self.owner_id, self.session, self.item_id, self.action
        quiz = services.quiz
        if action == "show":
            embed, view = self._shown(owner, services)
        elif action in LETTERS:
            graded = await quiz.answer(owner, item_id, action, source=SOURCE, session=session)
            verdict = (
                f"✅ **{action}** is right."
                if graded.correct
                else f"❌ You chose **{action}**; the answer is **{graded.question.correct}**."
            )
            embed, view = await _after(
                owner, services, session, _explained(graded, verdict), graded.correct
            )
        elif action in ("had", "miss"):
            graded = await quiz.self_grade(
                owner, item_id, action == "had", source=SOURCE, session=session
            )
            verdict = "✅ You had it." if graded.correct else "📌 Missed: it comes back for review."
            embed, view = await _after(
                owner, services, session, _explained(graded, verdict), graded.correct
            )
        else:  # a card's rating: straight on to the next item
            await quiz.rate_card(owner, item_id, int(action), source=SOURCE, session=session)
            step = await services.practice.step(owner, session)
            embed, view = step_message(owner, services, session, step)
        await interaction.response.edit_message(embed=embed, view=view)

    def _shown(self, owner: int, services: Services) -> Message:
        """The answer of a self-graded question or a card, with the buttons to grade it."""
        view = discord.ui.View(timeout=None)
        question = services.quiz.items().questions.get(self.item_id)
        if question is not None:
            text = f"{question.body}\n\n{question.solution}"
            embed = _embed(f"Debug This · {question.title}", text)
            embed.set_footer(text="Be honest: did you find it before looking?")
            grades = [c.letter for c in question.choices] or ["had", "miss"]
        else:
            card = services.quiz.card(self.item_id)
            text = f"{card.front}\n\n**Model answer**\n{card.back}"
            embed = _embed(_card_title(card), text)
            embed.set_footer(text="How well did you know it? Your rating plans its next review.")
            grades = list(map(str, RATINGS))
        for grade in grades:
            view.add_item(PracticeButton(owner, self.session, self.item_id, grade))
        return embed, view


class PracticeNextButton(
    OwnedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="practicenext:{owner:int}:{session:session}",
):
    id_kinds: ClassVar[dict[str, Kind]] = {"session": PRACTICE_SESSION}

    def __init__(self, owner: int, session: str) -> None:
        custom_id = self.custom_id_for(owner=owner, session=session)
        style = discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label="Next ▶", style=style, custom_id=custom_id))
        self.owner_id, self.session = owner, session

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        services = services_of(interaction)
        step = await services.practice.step(self.owner_id, self.session)
        embed, view = step_message(self.owner_id, services, self.session, step)
        await interaction.response.edit_message(embed=embed, view=view)
