"""The learner's journey end to end: every command and button through the loopback Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.app import App, build_bot, open_app
from bot.bot import TutorBot
from bot.config import load_settings
from storage.models import ReviewCard
from tests.fake_discord import FakeDiscord, FakeUser


def custom_ids(message: dict[str, Any] | None) -> list[str]:
    assert message is not None
    return [
        component["custom_id"]
        for row in message.get("components", [])
        for component in row.get("components", [])
        if "custom_id" in component
    ]


def component(message: dict[str, Any] | None, custom_id: str) -> dict[str, Any]:
    assert message is not None
    rows = message.get("components", [])
    found = [
        c for row in rows for c in row.get("components", []) if c.get("custom_id") == custom_id
    ]
    assert found, f"no component {custom_id!r} in {custom_ids(message)}"
    return found[0]


def button(message: dict[str, Any] | None, prefix: str) -> str:
    matches = [cid for cid in custom_ids(message) if cid.startswith(prefix)]
    assert matches, f"no component {prefix!r} in {custom_ids(message)}"
    return matches[0]


async def enrol(fake: FakeDiscord, track: str = "complete", user: FakeUser | None = None) -> None:
    started = await fake.slash("start", {"time_zone": "Europe/Berlin"}, user=user)
    picked = await fake.select(
        started.message, button(started.message, "track:"), [track], user=user
    )
    assert picked.rejections == []


async def test_a_newcomer_is_guided_to_start(tutor: TutorBot, fake: FakeDiscord) -> None:
    for command in ("read", "quiz", "progress", "settings", "track", "interview"):
        result = await fake.slash(command)
        await result.wait(lambda r: bool(r.embeds or r.followups))
        shown = (result.embeds or result.followups[0]["embeds"])[0]["description"]
        assert "/start" in shown, command


async def test_start_picks_a_track_and_running_it_again_keeps_it(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    started = await fake.slash("start", {"time_zone": "Europe/Berlin", "reminder_hour": 8})
    assert started.ephemeral
    embed = started.embeds[0]
    assert "Welcome" in embed["description"]
    assert len([f for f in embed["fields"] if " h" in f["name"]]) == 4
    picked = await fake.select(started.message, f"track:{fake.user.id}", ["security"])
    assert "Track: Security" in picked.embeds[0]["title"]
    assert "0, 1, 7, 8, 12" in picked.embeds[0]["description"]

    again = await fake.slash("start")
    fields = {f["name"]: f["value"] for f in again.embeds[0]["fields"]}
    assert any(name.startswith("Security") and "yours" in name for name in fields)
    assert fields["Time zone"] == "Europe/Berlin"
    assert fields["Reminders"].startswith("08:00 local")


async def test_bad_time_zone_and_junk_autocomplete(tutor: TutorBot, fake: FakeDiscord) -> None:
    result = await fake.slash("start", {"time_zone": "Moon/Tranquility"})
    assert "not a time zone" in result.embeds[0]["description"]
    for typed in ("", "zzz\u200b💥" * 20, "berl"):
        choices = await fake.autocomplete("start", {"time_zone": typed}, "time_zone")
        assert choices.rejections == []
        assert len(choices.choices) <= 25
    berlin = await fake.autocomplete("start", {"time_zone": "berl"}, "time_zone")
    assert berlin.choices[0]["value"] == "Europe/Berlin"
    parts = await fake.autocomplete("read", {"part": "build"}, "part")
    assert [c["value"] for c in parts.choices] == ["3", "6"]


async def test_reading_next_previous_jump_and_done(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake, "security")
    reading = await fake.slash("read")
    assert reading.ephemeral
    embed = reading.embeds[0]
    assert embed["title"] == "Part 0 · How to use this series"
    assert embed["footer"]["text"].startswith("Part 0 · At a Glance · 1/")
    assert f"read:{fake.user.id}:0:next" in custom_ids(reading.message)

    nxt = await fake.click(reading.message, f"read:{fake.user.id}:0:next")
    assert nxt.rejections == []
    second = nxt.embeds[0]["footer"]["text"]
    assert "2/" in second.split("·")[-1]
    back = await fake.click(nxt.message, f"read:{fake.user.id}:0:prev")
    assert back.embeds[0]["footer"]["text"] == embed["footer"]["text"]

    jumped = await fake.select(back.message, f"readjump:{fake.user.id}:0", ["Debug This"])
    assert jumped.embeds[0]["footer"]["text"].startswith("Part 0 · Debug This · 1/")

    asked = await fake.click(jumped.message, f"read:{fake.user.id}:0:done")
    assert "Mark **Part 0 · How to use this series** done anyway?" in asked.embeds[0]["description"]
    done = await fake.click(asked.message, f"readdone:{fake.user.id}:0:yes")
    text = done.embeds[0]["description"]
    assert "is done" in text and "Part 1 · Container internals" in text
    read1 = await fake.click(done.message, f"readpart:{fake.user.id}:1")
    assert read1.embeds[0]["title"] == "Part 1 · Container internals"

    again = await fake.slash("read", {"part": "0"})
    assert again.embeds[0]["footer"]["text"].endswith("done ✓")
    done_again = await fake.click(again.message, f"read:{fake.user.id}:0:done")
    quiz = await fake.click(done_again.message, f"quizpart:{fake.user.id}:0")
    assert quiz.embeds[0]["title"].startswith("Debug This")


async def test_done_before_the_end_asks_with_buttons_that_outlive_a_restart(
    app: App, fake: FakeDiscord
) -> None:
    me = fake.user.id
    async with fake.running(build_bot(app)) as bot:
        await bot.tree.sync()
        await enrol(fake)
        reading = await fake.slash("read", {"part": "3"})
        total = int(reading.embeds[0]["footer"]["text"].split("/")[-1].split()[0])
        asked = await fake.click(reading.message, f"read:{me}:3:done")
        assert asked.ephemeral and asked.message is not None
        assert asked.message["id"] != reading.message["id"]  # the lesson stays as it was
        text = asked.embeds[0]["description"]
        assert f"You have read 1 of {total} chunks of Part 3." in text
        assert custom_ids(asked.message) == [f"readdone:{me}:3:yes", f"readdone:{me}:3:no"]
        kept = await fake.click(asked.message, f"readdone:{me}:3:no")
        assert "not marked done" in kept.embeds[0]["description"]
        assert custom_ids(kept.message) == []
        assert not (await bot.services.progress.report(me)).parts[3].done
        again = await fake.click(reading.message, f"read:{me}:3:done")
    # A new process (same database) takes the Yes of a question the old one asked.
    async with fake.running(build_bot(app)) as bot:
        done = await fake.click(again.message, f"readdone:{me}:3:yes")
        assert done.embeds[0]["description"].startswith("**Part 3 · ")
        assert "** is done" in done.embeds[0]["description"]
        part3 = (await bot.services.progress.report(me)).parts[3]
        assert part3.done and part3.read_fraction == 1 / total


async def test_done_at_the_last_chunk_asks_nothing(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    page = await fake.slash("read", {"part": "0"})
    forward = f"read:{fake.user.id}:0:next"
    while not component(page.message, forward).get("disabled"):  # the last chunk disables it
        page = await fake.click(page.message, forward)
    done = await fake.click(page.message, f"read:{fake.user.id}:0:done")
    assert done.message is not None and done.message["id"] == page.message["id"]  # no question
    assert "is done" in done.embeds[0]["description"]


async def test_debug_this_in_an_article_points_to_the_quiz_command(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    await enrol(fake)
    reading = await fake.slash("read", {"part": "2"})
    jumped = await fake.select(reading.message, f"readjump:{fake.user.id}:2", ["Debug This"])
    text = jumped.embeds[0]["description"]
    assert text.endswith("_Answer it in the Part 2 quiz: `/quiz 2`._")  # no console wording


async def test_reading_resumes_where_it_left_off(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    first = await fake.slash("read", {"part": "2"})
    await fake.click(first.message, f"read:{fake.user.id}:2:next")
    resumed = await fake.slash("read")
    assert resumed.embeds[0]["title"] == "Part 2 · Image anatomy"
    assert "2/" in resumed.embeds[0]["footer"]["text"].split("·")[-1]


async def test_next_button_works_after_a_restart(app: App, fake: FakeDiscord) -> None:
    async with fake.running(build_bot(app)) as bot:
        await bot.tree.sync()
        await enrol(fake)
        reading = await fake.slash("read")
    # The bot is gone; a new process (same database) must handle the old message's button.
    async with fake.running(build_bot(app)):
        pressed = await fake.click(reading.message, f"read:{fake.user.id}:0:next")
        assert pressed.rejections == []
        assert "2/" in pressed.embeds[0]["footer"]["text"].split("·")[-1]


async def test_someone_elses_buttons_are_politely_refused(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    await enrol(fake)
    reading = await fake.slash("read")
    stranger = FakeUser(username="stranger")
    pressed = await fake.click(reading.message, f"read:{fake.user.id}:0:next", user=stranger)
    assert pressed.ephemeral
    assert "someone else's lesson" in (pressed.content or "")
    unchanged = await fake.slash("read")
    assert unchanged.embeds[0]["footer"]["text"] == reading.embeds[0]["footer"]["text"]


async def test_quiz_answers_are_checked_with_the_explanation(
    tutor: TutorBot, fake: FakeDiscord
) -> None:
    await enrol(fake)
    quiz = await fake.slash("quiz", {"part": "1"})
    assert quiz.embeds[0]["footer"]["text"].startswith("Part 1 · question 1/")
    letters = [cid.rsplit(":", 1)[1] for cid in custom_ids(quiz.message) if cid.startswith("quiz:")]
    assert len(letters) >= 3
    question = tutor.services.quiz.questions(1)[0]
    wrong = next(letter for letter in letters if letter != question.correct)
    # a double click: the second press arrives before the first one's edit; whichever the
    # bot takes first is stored, the other is told what was chosen and stores nothing
    presses = [wrong, str(question.correct)]
    replies = await asyncio.gather(
        *(fake.click(quiz.message, button(quiz.message, "quiz:")[:-1] + p) for p in presses)
    )
    texts = [r.embeds[0]["description"] for r in replies]
    (refused,) = [i for i, t in enumerate(texts) if t.startswith("Already answered")]
    taken = 1 - refused
    assert f"you chose **{presses[taken]}**" in texts[refused]
    graded = replies[taken]
    assert f"the answer is **{question.correct}**" in texts[taken] or presses[taken] != wrong
    assert question.explanation.split()[0] in texts[taken]
    following = await fake.click(graded.message, button(graded.message, "quiznext:"))
    assert following.embeds[0]["footer"]["text"].startswith("Part 1 · question 2/")
    report = await tutor.services.progress.report(fake.user.id)
    part1 = next(p for p in report.parts if p.info.number == 1)
    assert (part1.answered, part1.correct) == (1, int(presses[taken] == question.correct))


async def test_interview_flash_cards(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    card = await fake.slash("interview", {"part": "1"})
    first_question = card.embeds[0]["description"]
    assert "Model answer" not in first_question
    shown = await fake.click(card.message, button(card.message, "card:"))
    assert "Model answer" in shown.embeds[0]["description"]
    good = button(shown.message, "card:").rsplit(":", 1)[0] + ":3"
    rated = await fake.click(shown.message, good)
    assert "Model answer" not in rated.embeds[0]["description"]
    assert rated.embeds[0]["description"] != first_question


async def test_quickref_and_unknown_parts(tutor: TutorBot, fake: FakeDiscord) -> None:
    ref = await fake.slash("quickref", {"part": "4"})
    assert ref.rejections == []
    assert ref.embeds[0]["title"].startswith("Quick Reference · Part 4")
    missing = await fake.slash("quickref", {"part": "99"})
    assert "no part '99'" in missing.embeds[0]["description"]


async def test_a_draft_course_shows_its_unwritten_parts_as_coming_soon(
    database_url: str, tmp_path: Path, fake: FakeDiscord, draft_course: Path
) -> None:
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        discord_token="fake-bot-token",
        content_dir=draft_course,
    )
    async with open_app(settings) as app:
        bot = build_bot(app)
        async with fake.running(bot):
            await bot.tree.sync()
            await enrol(fake)
            soon = await fake.slash("quickref", {"part": "20"})
            said = "Part 20 · Cheatsheet and decision guide is coming soon"
            assert said in str(soon.embeds)
            reading = await fake.slash("read", {"part": "20"})
            assert said in str(reading.embeds)


async def test_progress_shows_numbers_and_a_picture(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake, "performance")
    reading = await fake.slash("read")
    asked = await fake.click(reading.message, f"read:{fake.user.id}:0:done")
    await fake.click(asked.message, f"readdone:{fake.user.id}:0:yes")
    result = await fake.slash("progress")
    await result.wait(lambda r: bool(r.followups or r.embeds))
    message = result.message if result.embeds else result.followups[0]
    embed = message["embeds"][0]
    assert "**1/6** parts" in embed["description"]
    assert embed["image"]["url"].endswith("progress.png")
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "progress.png"


async def test_settings_and_track_changes(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    bad = await fake.slash("settings", {"quiet_hours": "late"})
    assert "22-7" in bad.embeds[0]["description"]
    good = await fake.slash("settings", {"quiet_hours": "22-7", "pause_until": "off"})
    fields = {f["name"]: f["value"] for f in good.embeds[0]["fields"]}
    assert "quiet 22:00–07:00" in fields["Reminders"]
    changed = await fake.slash("track", {"track": "production"})
    assert changed.embeds[0]["title"] == "Track: Production operations"
    unknown = await fake.slash("track", {"track": "fastest"})
    assert "There is no track" in unknown.embeds[0]["description"]


async def test_in_dms_lessons_are_plain_messages(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    reading = await fake.slash("read", dm=True)
    assert not reading.ephemeral
    assert reading.embeds[0]["title"].startswith("Part 0")


async def test_review_session_with_summary(tutor: TutorBot, fake: FakeDiscord) -> None:
    await enrol(fake)
    nothing = await fake.slash("review")
    assert "Nothing is due" in nothing.embeds[0]["description"]

    quiz = await fake.slash("quiz", {"part": "2"})
    question = tutor.services.quiz.questions(2)[0]
    await fake.click(quiz.message, button(quiz.message, "quiz:")[:-1] + str(question.correct))
    card = await fake.slash("interview", {"part": "2"})
    shown = await fake.click(card.message, button(card.message, "card:"))
    await fake.click(shown.message, button(shown.message, "card:").rsplit(":", 1)[0] + ":1")
    # Two cards exist; make them due now, as if weeks had passed.
    async with tutor.services.sessions.begin() as session:
        await session.execute(update(ReviewCard).values(due=datetime(2020, 1, 1, tzinfo=UTC)))

    review = await fake.slash("review")
    assert review.embeds[0]["footer"]["text"].endswith("review")
    first = button(review.message, "quiz:")
    assert ":r" in first
    graded = await fake.click(review.message, first[:-1] + str(question.correct))
    assert "is right" in graded.embeds[0]["description"]
    flash = await fake.click(graded.message, button(graded.message, "revnext:"))
    assert flash.embeds[0]["title"].startswith("Interview question")
    back = await fake.click(flash.message, button(flash.message, "card:"))
    again = button(back.message, "card:").rsplit(":", 1)[0] + ":1"
    done = await fake.click(back.message, again)
    text = done.embeds[0]["description"]
    assert "**2** reviewed, **1** right" in text
    assert "Next card due <t:" in text
