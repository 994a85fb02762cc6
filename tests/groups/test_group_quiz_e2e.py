"""Live group quizzes end to end: speed scoring, one countdown message, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from storage.models import Answer, GroupQuizAnswer
from tests.fake_discord import FakeUser
from tests.groups.world import NOBODY, World, custom_ids, eventually


async def group_of_three(world: World) -> int:
    """Night Owls in server A: the owner, Ana and Ben. Returns the thread's id."""
    await world.slash("group create", {"name": "Night Owls"}, user=world.a.owner)
    (card,) = [m for m in world.fake.messages_in(world.a.general.id) if custom_ids(m)]
    for user in (world.ana, world.ben):
        joined = await world.fake.click(card, f"group:join:{_group_id(card)}", user=user)
        await joined.wait(lambda r: bool(r.followups))
    return int(card["id"])


def _group_id(card: dict[str, Any]) -> int:
    (join,) = custom_ids(card)
    return int(join.rsplit(":", 1)[1])


def questions_in(world: World, thread: int) -> list[dict[str, Any]]:
    return [m for m in world.fake.messages_in(thread) if "question" in m["content"]]


async def current_question(world: World, thread: int, index: int) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        shown = [m for m in questions_in(world, thread) if f"question {index}/" in m["content"]]
        return shown[0] if shown and custom_ids(shown[0]) else None

    return await eventually(find)


async def scoreboard(world: World, thread: int) -> dict[str, Any]:
    return await world.fake.wait_for_message(
        lambda m: any("quiz results" in e.get("title", "") for e in m["embeds"]),
        channel_id=thread,
    )


async def answer(world: World, message: dict[str, Any], user: FakeUser, letter: str) -> Any:
    (button,) = [c for c in custom_ids(message) if c.endswith(f":{letter}")]
    pressed = await world.fake.click(message, button, user=user)
    assert pressed.rejections == []
    return pressed


async def test_three_members_answer_at_different_speeds(world: World) -> None:
    async with world.running() as bot:
        thread = await group_of_three(world)
        started = await world.slash(
            "group quiz", {"part": "1", "questions": 1}, user=world.ana, channel_id=thread
        )
        assert "starting in" in world.text(started)
        shown = await current_question(world, thread, 1)
        assert "0/3 answered" in shown["content"] and "<t:" in shown["content"]
        assert shown["allowed_mentions"] == NOBODY
        question = bot.services.quiz.questions(1)[0]
        right = str(question.correct)
        wrong = next(c.letter for c in question.choices if c.letter != right)

        world.clock.advance(seconds=3)
        first = await answer(world, shown, world.ana, right)
        assert first.ephemeral  # and no spoiler: right or wrong shows when the question closes
        assert first.content == (
            f"Locked in: **{right}**. The answer comes when everyone has answered or the time "
            "is up."
        )
        await eventually(
            lambda: "1/3 answered" in (world.fake.get_message(int(shown["id"])) or {})["content"]
        )
        world.clock.advance(seconds=9)
        await answer(world, shown, world.ben, right)
        again = await world.fake.click(shown, custom_ids(shown)[0], user=world.ben)
        assert "already answered" in world.text(again)
        outsider = await world.fake.click(shown, custom_ids(shown)[0], user=world.cat)
        assert "Only members" in world.text(outsider)
        world.clock.advance(seconds=3)
        await answer(world, shown, world.a.owner, wrong)

        board = await scoreboard(world, thread)
        lines = board["embeds"][0]["description"].splitlines()
        assert lines == [
            f"🥇 <@{world.ana.id}> · 950 pts (1 right)",
            f"🥈 <@{world.ben.id}> · 800 pts (1 right)",
            f"🥉 <@{world.a.owner.id}> · 0 pts (0 right)",
        ]
        closed = world.fake.get_message(int(shown["id"]))
        assert closed is not None and custom_ids(closed) == []  # one message, edited
        assert "closed" in closed["content"]
        assert question.explanation.split()[0] in closed["embeds"][0]["description"]
        assert f"<@{world.ana.id}> **{right}** ✅ +950" in closed["embeds"][0]["fields"][0]["value"]
        assert len(questions_in(world, thread)) == 1  # no flood of countdown messages

        async with world.services.sessions() as session:
            points = dict(
                (
                    await session.execute(
                        select(GroupQuizAnswer.discord_id, GroupQuizAnswer.points)
                    )
                ).all()
            )
            sources = list(await session.scalars(select(Answer.source)))
        assert points == {world.ana.id: 950, world.ben.id: 800, world.a.owner.id: 0}
        assert sources == ["group", "group", "group"]  # for each member's own reviews
        ranks = await world.slash("group leaderboard", user=world.ben, channel_id=thread)
        assert ranks.embeds[0]["description"].splitlines()[0].endswith("950 pts")


async def test_a_quiz_survives_restarts_then_ends_with_the_scores_so_far(world: World) -> None:
    async with world.running():
        thread = await group_of_three(world)
        await world.slash(
            "group quiz", {"part": "0", "questions": 3}, user=world.ana, channel_id=thread
        )
        first = await current_question(world, thread, 1)
        world.clock.advance(seconds=2)
        await answer(world, first, world.ana, "A")
    # Back within the time limit: the same buttons work and the quiz goes on.
    world.clock.advance(seconds=5)
    async with world.running():
        await answer(world, first, world.ben, "B")
        await answer(world, first, world.a.owner, "C")
        second = await current_question(world, thread, 2)
        world.clock.advance(seconds=1)
        await answer(world, second, world.ben, "A")
    # Down for ten minutes: the quiz ends cleanly with what was scored. Even if the question
    # cannot be edited (its buttons stay), a press gets an answer, never silence.
    world.clock.advance(minutes=10)
    world.fake.fail_next("PATCH", f"/channels/{thread}/messages/{second['id']}", status=403)
    async with world.running():
        board = await scoreboard(world, thread)
        assert "Ended early: the bot was restarted" in board["embeds"][0]["footer"]["text"]
        assert f"<@{world.ana.id}> · 0 pts" in board["embeds"][0]["description"]
        assert f"<@{world.ben.id}> · " in board["embeds"][0]["description"].splitlines()[0]
        late = await world.fake.click(second, custom_ids(second)[0], user=world.ana)
        assert "This quiz is over" in world.text(late)
        assert len(questions_in(world, thread)) == 2  # question 3 never started


async def test_a_question_shown_while_the_bot_stops_is_timed_by_the_next_process(
    world: World,
) -> None:
    async with world.running() as bot:
        thread = await group_of_three(world)
        await world.slash(
            "group quiz", {"part": "0", "questions": 1}, user=world.ana, channel_id=thread
        )
        shown = await current_question(world, thread, 1)
        conductor = bot.get_cog("Groups").conductor  # type: ignore[union-attr]
        conductor.stop()  # as when the bot closes
        (live,) = await world.services.group_quizzes.running()
        conductor.arm(live)  # a press handled late: its question would be re-timed here
        world.clock.advance(seconds=31)
        await asyncio.sleep(0.2)  # a timer would have fired (its naps are 5 ms)
        assert custom_ids(world.fake.get_message(int(shown["id"])) or {}) != []
    async with world.running():
        closed = await eventually(lambda: _closed(world, shown))
        assert "closed" in closed["content"]
        await scoreboard(world, thread)


def _closed(world: World, message: dict[str, Any]) -> dict[str, Any] | None:
    """The message once it was edited to show the answer (and lost its buttons)."""
    current = world.fake.get_message(int(message["id"]))
    return current if current is not None and not custom_ids(current) else None


async def test_time_runs_out_on_the_injected_clock(world: World) -> None:
    async with world.running():
        thread = await group_of_three(world)
        await world.slash(
            "group quiz", {"part": "2", "questions": 1}, user=world.ben, channel_id=thread
        )
        shown = await current_question(world, thread, 1)
        await answer(world, shown, world.ben, "A")
        world.clock.advance(seconds=31)  # the timer sleeps on this clock
        closed = await eventually(lambda: _closed(world, shown))
        assert f"<@{world.ana.id}> — no answer" in closed["embeds"][0]["fields"][0]["value"]
        await scoreboard(world, thread)
