"""Debug This questions with answer buttons, and interview flash cards with self-ratings."""

from __future__ import annotations

import re
from typing import ClassVar

import discord

from bot.services.quiz import RATINGS, Graded, QuizService
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.items import OwnedItem, services_of
from content.model import Card, Question

RIGHT, WRONG = discord.Colour.green(), discord.Colour.orange()
QID = r"[a-z0-9-]+"


def question_message(
    owner: int, quiz: QuizService, question: Question
) -> tuple[discord.Embed, discord.ui.View]:
    index, total = quiz.position(question)
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(question.body, 4096),
        colour=BRAND_COLOUR,
    )
    embed.set_footer(text=f"Part {question.part} · question {index}/{total}")
    view = discord.ui.View(timeout=None)
    if question.choices:
        for choice in question.choices:
            view.add_item(ChoiceButton(owner, question.id, choice.letter))
    else:
        view.add_item(RevealButton(owner, question.id))
    return embed, view


def graded_message(
    owner: int, graded: Graded, verdict: str
) -> tuple[discord.Embed, discord.ui.View]:
    question = graded.question
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(f"{verdict}\n\n{question.solution}", 4096),
        colour=RIGHT if graded.correct else WRONG,
    )
    view = discord.ui.View(timeout=None)
    if graded.next_id is not None:
        view.add_item(NextQuestionButton(owner, graded.next_id))
        embed.set_footer(text="Your answer is saved.")
    else:
        embed.set_footer(
            text=f"Your answer is saved. That was the last question of Part "
            f"{question.part}: see /progress."
        )
    return embed, view


def card_message(
    owner: int, card: Card, *, show_back: bool
) -> tuple[discord.Embed, discord.ui.View]:
    title = "Quick Reference" if card.kind == "quickref" else "Interview question"
    text = card.front if not show_back else f"{card.front}\n\n**Model answer**\n{card.back}"
    embed = discord.Embed(
        title=f"{title} · Part {card.part}", description=fit(text, 4096), colour=BRAND_COLOUR
    )
    view = discord.ui.View(timeout=None)
    if not show_back:
        view.add_item(CardButton(owner, card.id, "show"))
    else:
        embed.set_footer(text="How well did you know it? Your rating schedules the next review.")
        for rating in RATINGS:
            view.add_item(CardButton(owner, card.id, str(rating)))
    return embed, view


class _OwnedButton(OwnedItem):
    """Shared construction for the quiz's buttons: owner first, then the custom_id parts."""

    @staticmethod
    def button(custom_id: str, label: str, style: discord.ButtonStyle) -> discord.ui.Button:
        return discord.ui.Button(label=label, style=style, custom_id=custom_id)


class ChoiceButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"quiz:(?P<owner>\d+):(?P<qid>{QID}):(?P<letter>[A-E])",
):
    def __init__(self, owner: int, question_id: str, letter: str) -> None:
        super().__init__(
            self.button(f"quiz:{owner}:{question_id}:{letter}", letter, discord.ButtonStyle.primary)
        )
        self.owner_id, self.question_id, self.letter = owner, question_id, letter

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> ChoiceButton:
        return cls(int(match["owner"]), match["qid"], match["letter"])

    async def run(self, interaction: discord.Interaction) -> None:
        quiz = services_of(interaction).quiz
        graded = await quiz.answer(self.owner_id, self.question_id, self.letter)
        verdict = (
            f"✅ **{self.letter}** is right."
            if graded.correct
            else f"❌ You chose **{self.letter}**; the answer is **{graded.question.correct}**."
        )
        embed, view = graded_message(self.owner_id, graded, verdict)
        await interaction.response.edit_message(embed=embed, view=view)


class RevealButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"quizshow:(?P<owner>\d+):(?P<qid>{QID})",
):
    def __init__(self, owner: int, question_id: str) -> None:
        super().__init__(
            self.button(
                f"quizshow:{owner}:{question_id}", "Show answer", discord.ButtonStyle.primary
            )
        )
        self.owner_id, self.question_id = owner, question_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RevealButton:
        return cls(int(match["owner"]), match["qid"])

    async def run(self, interaction: discord.Interaction) -> None:
        question = services_of(interaction).quiz.question(self.question_id)
        embed = discord.Embed(
            title=fit(f"Debug This · {question.title}", 256),
            description=fit(f"{question.body}\n\n{question.solution}", 4096),
            colour=BRAND_COLOUR,
        )
        embed.set_footer(text="Be honest: did you find it before looking?")
        view = discord.ui.View(timeout=None)
        view.add_item(SelfGradeButton(self.owner_id, question.id, "had"))
        view.add_item(SelfGradeButton(self.owner_id, question.id, "miss"))
        await interaction.response.edit_message(embed=embed, view=view)


class SelfGradeButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"quizself:(?P<owner>\d+):(?P<qid>{QID}):(?P<grade>had|miss)",
):
    LABELS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "had": ("I had it", discord.ButtonStyle.success),
        "miss": ("I missed it", discord.ButtonStyle.danger),
    }

    def __init__(self, owner: int, question_id: str, grade: str) -> None:
        label, style = self.LABELS[grade]
        super().__init__(self.button(f"quizself:{owner}:{question_id}:{grade}", label, style))
        self.owner_id, self.question_id, self.grade = owner, question_id, grade

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> SelfGradeButton:
        return cls(int(match["owner"]), match["qid"], match["grade"])

    async def run(self, interaction: discord.Interaction) -> None:
        had = self.grade == "had"
        graded = await services_of(interaction).quiz.self_grade(
            self.owner_id, self.question_id, had
        )
        verdict = "✅ You had it." if had else "📌 Missed this time: it will come back for review."
        embed, view = graded_message(self.owner_id, graded, verdict)
        await interaction.response.edit_message(embed=embed, view=view)


class NextQuestionButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"quiznext:(?P<owner>\d+):(?P<qid>{QID})",
):
    def __init__(self, owner: int, question_id: str) -> None:
        super().__init__(
            self.button(
                f"quiznext:{owner}:{question_id}", "Next question ▶", discord.ButtonStyle.primary
            )
        )
        self.owner_id, self.question_id = owner, question_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> NextQuestionButton:
        return cls(int(match["owner"]), match["qid"])

    async def run(self, interaction: discord.Interaction) -> None:
        quiz = services_of(interaction).quiz
        embed, view = question_message(self.owner_id, quiz, quiz.question(self.question_id))
        await interaction.response.edit_message(embed=embed, view=view)


class QuizPartButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"quizpart:(?P<owner>\d+):(?P<part>\d+)",
):
    def __init__(self, owner: int, part: int) -> None:
        super().__init__(
            self.button(f"quizpart:{owner}:{part}", "Take the quiz", discord.ButtonStyle.success)
        )
        self.owner_id, self.part = owner, part

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> QuizPartButton:
        return cls(int(match["owner"]), int(match["part"]))

    async def run(self, interaction: discord.Interaction) -> None:
        quiz = services_of(interaction).quiz
        first = quiz.questions(self.part)[0]
        embed, view = question_message(self.owner_id, quiz, first)
        await interaction.response.edit_message(embed=embed, view=view)


class CardButton(
    _OwnedButton,
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"card:(?P<owner>\d+):(?P<cid>{QID}):(?P<action>show|[1-4])",
):
    def __init__(self, owner: int, card_id: str, action: str) -> None:
        if action == "show":
            label, style = "Show model answer", discord.ButtonStyle.primary
        else:
            label, style = RATINGS[int(action)], discord.ButtonStyle.secondary
        super().__init__(self.button(f"card:{owner}:{card_id}:{action}", label, style))
        self.owner_id, self.card_id, self.action = owner, card_id, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> CardButton:
        return cls(int(match["owner"]), match["cid"], match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        quiz = services_of(interaction).quiz
        if self.action == "show":
            embed, view = card_message(self.owner_id, quiz.card(self.card_id), show_back=True)
            await interaction.response.edit_message(embed=embed, view=view)
            return
        following = await quiz.rate_card(self.owner_id, self.card_id, int(self.action))
        if following is None:
            done = discord.Embed(
                description="Rated. That was the last card of this part. 🎉", colour=RIGHT
            )
            await interaction.response.edit_message(embed=done, view=None)
            return
        embed, view = card_message(self.owner_id, following, show_back=False)
        await interaction.response.edit_message(embed=embed, view=view)
