"""/practice end to end: a learner who fails Part 3 and aces Part 2 practises Part 3."""

from __future__ import annotations

from bot.bot import TutorBot
from tests.bot.test_journey import button, custom_ids, enrol
from tests.fake_discord import FakeDiscord


async def answer(fake: FakeDiscord, part: int, right: bool) -> None:
    """Answer every question of a part through /quiz, right or wrong."""
    quiz = await fake.slash("quiz", {"part": str(part)})
    message = quiz.message
    while True:
        choices = [c for c in custom_ids(message) if c.startswith("quiz:")]
        question_id = choices[0].split(":")[3]
        correct = next(c for c in choices if c.endswith(":" + CORRECT[question_id]))
        pressed = await fake.click(
            message, correct if right else next(c for c in choices if c != correct)
        )
        nexts = [c for c in custom_ids(pressed.message) if c.startswith("quiznext:")]
        if not nexts:
            return
        message = (await fake.click(pressed.message, nexts[0])).message


CORRECT: dict[str, str] = {}


async def test_practice_aims_at_the_part_failed_and_sums_up(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    CORRECT.update(
        {q.id: q.correct for p in (2, 3) for q in tutor.services.quiz.questions(p) if q.correct}
    )
    await enrol(fake)
    await answer(fake, 3, right=False)
    await answer(fake, 2, right=True)

    practice = await fake.slash("practice")
    assert practice.rejections == [] and practice.ephemeral
    seen: list[str] = []
    message = practice.message
    for position in (1, 2, 3):
        (embed,) = message["embeds"]
        assert embed["title"].startswith("Practice · Debug This · ")
        footer = embed["footer"]["text"]
        assert footer.startswith(f"Practice {position}/3 · Part 3 · ")
        choices = [c for c in custom_ids(message) if c.startswith("practice:")]
        question_id = choices[0].split(":")[3]
        assert question_id.startswith("p03-") and question_id not in seen
        seen.append(question_id)
        pressed = await fake.click(
            message, next(c for c in choices if c.endswith(":" + CORRECT[question_id]))
        )
        assert pressed.rejections == []
        if position < 3:
            assert "is right" in pressed.embeds[0]["description"]
            message = (
                await fake.click(pressed.message, button(pressed.message, "practicenext:"))
            ).message
        else:
            (done,) = pressed.embeds
            summary = {f["name"]: f["value"] for f in done["fields"]}["Practice done"]
            assert summary == "Practice done: 3 of 3 right. Improved: Part 3 0% → 50%."
            assert custom_ids(pressed.message) == []


async def test_practice_before_any_answer_says_what_to_do(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    await enrol(fake)
    nothing = await fake.slash("practice")
    assert "Nothing to practise yet" in nothing.embeds[0]["description"]
    named = await fake.slash("practice", {"part": "4"})
    assert named.embeds[0]["footer"]["text"].startswith("Practice 1/3 · Part 4 · ")
