"""Running a group quiz in the thread: questions, the countdown, answers, the scoreboard.

Each question is one message; its countdown is a Discord timestamp (`<t:…:R>`), which every
client counts down by itself, and the message is edited only when someone answers (to show
how many did) and when the question closes (answer, explanation, who scored what). No
stream of "10 seconds left" messages.

A question closes when every member has answered, when its timer fires, or when a late press
finds it past its time: all three go through `QuizService.close`, which only one can win.
Timers live in this process; after a restart `recover` picks up every running quiz and
resumes it (still within its time), closes the question and goes on (just past it), or ends
it with the scores so far (long past), so no button is ever left without an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.services import Services
from bot.services.group_quiz import Closed, GroupQuizService, LiveQuestion, Score, TimeUp
from bot.ui.access import NOBODY, server_of
from bot.ui.embeds import BRAND_COLOUR, fit
from bot.ui.errors import reply_error
from bot.ui.items import SharedItem, services_of

if TYPE_CHECKING:
    from bot.bot import TutorBot

log = logging.getLogger(__name__)

RIGHT = discord.Colour.green()
Sleep = Callable[[float], Awaitable[None]]


def question_content(live: LiveQuestion) -> str:
    return (
        f"**{live.group_name} · question {live.index + 1}/{live.total}** · time's up "
        f"<t:{int(live.deadline.timestamp())}:R> · {live.answered}/{live.members} answered"
    )


def question_embed(live: LiveQuestion) -> discord.Embed:
    question = live.question
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(question.body, 4096),
        colour=BRAND_COLOUR,
    )
    embed.set_footer(text=f"Part {question.part} · one answer each · right and quick scores most")
    return embed


def question_view(live: LiveQuestion) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice in live.question.choices:
        view.add_item(AnswerButton(live.quiz_id, live.index, choice.letter))
    return view


def closed_embed(closed: Closed) -> discord.Embed:
    question = closed.question.question
    embed = discord.Embed(
        title=fit(f"Debug This · {question.title}", 256),
        description=fit(f"{question.body}\n\n{question.solution}", 4096),
        colour=RIGHT,
    )
    lines = [
        f"<@{r.user_id}> — no answer"
        if r.letter is None
        else f"<@{r.user_id}> **{r.letter}** {'✅' if r.correct else '❌'} +{r.points}"
        for r in closed.results
    ]
    embed.add_field(name="Answers", value=fit("\n".join(lines) or "Nobody answered.", 1024))
    return embed


def scoreboard_embed(group_name: str, board: tuple[Score, ...], note: str = "") -> discord.Embed:
    medals = ["🥇", "🥈", "🥉"]
    lines = [
        f"{medals[i] if i < 3 else f'{i + 1}.'} <@{s.user_id}> · {s.points:,} pts "
        f"({s.correct} right)"
        for i, s in enumerate(board)
    ]
    embed = discord.Embed(
        title=fit(f"🏁 {group_name} · quiz results", 256),
        description=fit("\n".join(lines) or "Nobody answered this time.", 4096),
        colour=BRAND_COLOUR,
    )
    footer = "Points count in /group leaderboard; every answer is in your own /review."
    embed.set_footer(text=f"{note} · {footer}" if note else footer)
    return embed


class QuizConductor:
    """Shows questions, keeps their timers, closes them. One per bot process."""

    def __init__(self, client: discord.Client, services: Services, sleep: Sleep = asyncio.sleep):
        self.client = client
        self.services = services
        self.sleep = sleep
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._stopped = False

    @property
    def quizzes(self) -> GroupQuizService:
        return self.services.group_quizzes

    async def show(self, live: LiveQuestion) -> None:
        """Post the question in the thread and start its timer."""
        channel = self.client.get_partial_messageable(live.channel_id)
        message = await channel.send(
            content=question_content(live),
            embed=question_embed(live),
            view=question_view(live),
            allowed_mentions=NOBODY,
        )
        await self.quizzes.shown(live.quiz_id, live.index, message.id)
        self.arm(live)

    def arm(self, live: LiveQuestion) -> None:
        if self._stopped:
            # A press still being handled while the bot stops: no timer may outlive this
            # process (it would close the question with a closed HTTP session and hide the
            # next one); the next process's `recover` times the question instead.
            return
        old = self._timers.pop(live.quiz_id, None)
        if old is not None and old is not asyncio.current_task():
            old.cancel()
        self._timers[live.quiz_id] = asyncio.create_task(
            self._expire(live), name=f"group-quiz-{live.quiz_id}-{live.index}"
        )

    def stop(self) -> None:
        self._stopped = True
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()

    async def _expire(self, live: LiveQuestion) -> None:
        # A sleep may end early (the clock was set, the loop was busy): check, and sleep on.
        while (delay := (live.deadline - self.services.clock()).total_seconds()) > 0:
            await self.sleep(delay)
        try:
            await self.close(live.quiz_id, live.index)
        except Exception:
            log.exception("group quiz %s: closing question %s failed", live.quiz_id, live.index)

    async def answered(self, live: LiveQuestion, message: discord.Message | None) -> None:
        """Show how many answered; close the question once everyone has."""
        if live.answered >= live.members:
            await self.close(live.quiz_id, live.index)
            return
        # Read the count again: answers given meanwhile must not be shown as fewer.
        latest = await self.quizzes.current(live.quiz_id)
        if message is None or latest is None or latest.index != live.index:
            return  # closed meanwhile: its message shows the answer now
        with contextlib.suppress(discord.HTTPException):
            await message.edit(content=question_content(latest), allowed_mentions=NOBODY)

    async def close(self, quiz_id: int, index: int, *, end: bool = False, note: str = "") -> None:
        closed = await self.quizzes.close(quiz_id, index, end=end)
        if closed is None:
            return  # another timer, press or process closed it
        timer = self._timers.pop(quiz_id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        live = closed.question
        channel = self.client.get_partial_messageable(live.channel_id)
        if live.message_id is not None:
            # Buttons go away with the edit; if it fails they still answer ("closed").
            with contextlib.suppress(discord.HTTPException):
                await channel.get_partial_message(live.message_id).edit(
                    content=f"**{live.group_name} · question {live.index + 1}/{live.total}** · "
                    "closed",
                    embed=closed_embed(closed),
                    view=None,
                    allowed_mentions=NOBODY,
                )
        if closed.following is not None:
            await self.show(closed.following)
            return
        await channel.send(
            embed=scoreboard_embed(live.group_name, closed.scoreboard, note),
            allowed_mentions=NOBODY,
        )

    async def recover(self) -> None:
        """After a start: resume, advance or end every quiz left running."""
        for live in await self.quizzes.running():
            decision = self.quizzes.after_restart(live)
            try:
                if decision == "resume" and live.message_id is None:
                    await self.show(live)  # the process died before posting it
                elif decision == "resume":
                    self.arm(live)
                elif decision == "advance":
                    await self.close(live.quiz_id, live.index)
                else:
                    note = "Ended early: the bot was restarted"
                    await self.close(live.quiz_id, live.index, end=True, note=note)
            except Exception:
                log.exception("group quiz %s: could not %s it", live.quiz_id, decision)


def conductor_of(interaction: discord.Interaction[TutorBot]) -> QuizConductor:
    conductor = getattr(interaction.client.get_cog("Groups"), "conductor", None)
    if not isinstance(conductor, QuizConductor):
        raise RuntimeError("the Groups cog is not loaded")
    return conductor


class AnswerButton(
    SharedItem,
    discord.ui.DynamicItem[discord.ui.Button],
    id_format="group:quiz:{quiz_id:int}:{index:int}:{letter:A|B|C|D|E}",
):
    def __init__(self, quiz_id: int, index: int, letter: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=letter,
                style=discord.ButtonStyle.primary,
                custom_id=self.custom_id_for(quiz_id=quiz_id, index=index, letter=letter),
            )
        )
        self.quiz_id, self.index, self.letter = quiz_id, index, letter

    async def run(self, interaction: discord.Interaction[TutorBot]) -> None:
        quizzes = services_of(interaction).group_quizzes
        conductor = conductor_of(interaction)
        try:
            outcome = await quizzes.answer(
                server_of(interaction), self.quiz_id, self.index, interaction.user.id, self.letter
            )
        except TimeUp as late:
            await reply_error(interaction, str(late))
            await conductor.close(self.quiz_id, self.index)  # its timer was lost or is late
            return
        await interaction.response.send_message(
            f"Locked in: **{self.letter}**. The answer comes when everyone has answered or "
            "the time is up.",
            ephemeral=True,
        )
        await conductor.answered(outcome.live, interaction.message)
