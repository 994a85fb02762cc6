"""The console journey: commands on stdin, a transcript on stdout, the real services and DB."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from bot.config import default_course_dir, load_settings
from bot.console import run_console
from content.store import CourseStore
from storage.db import create_engine
from storage.models import ReviewCard


async def transcript(database_url: str, tmp_path: Path, *commands: str) -> str:
    settings = load_settings(database_url=database_url, data_dir=tmp_path / "data")
    out = io.StringIO()
    status = await run_console(settings, io.StringIO("\n".join(commands) + "\n"), out)
    assert status == 0
    return out.getvalue()


async def test_the_whole_journey(database_url: str, tmp_path: Path) -> None:
    text = await transcript(
        database_url,
        tmp_path,
        "read",
        "start security Europe/Berlin",
        "read",
        "next",
        "prev",
        "jump common   mistakes",
        "done yes",
        "quiz 1",
        "answer Z",
        "answer A",
        "interview 1",
        "show",
        "rate 3",
        "quickref 1",
        "settings quiet 22-7",
        "progress",
        "track nonsense",
        "frobnicate",
        "x" * 10_000,
        "answer",
        "jump",
        "settings hour -3",
        "settings off",
        "read 0",
        "jump review schedule",
        "next",
    )
    assert "You haven't started the course yet. Run `start`" in text
    assert "security     Security · 6 h · parts 0, 1, 7, 8, 12  ← yours" in text
    assert "── Part 0 · At a Glance · 1/1 · 1/" in text
    assert "── Part 0 · What You'll Learn · 1/1 · 2/" in text
    assert "── Part 0 · Common Mistakes · 1/" in text
    assert text.count("x" * 10_000) == 1  # the transcript's echo, not the error message too
    assert "! Name a section: jump Deep Dive" in text
    assert "! Hours go from 0 to 23" in text  # not "must be a number"
    assert "! Give a value too: settings hour 9" in text
    assert "End of Part 0: `quiz 0` tests it." in text  # already marked done above
    assert "Next in your track: Part 1 · Container internals" in text
    assert "── Debug This · Part 1 · 1/" in text
    assert "That is not one of this question's choices." in text
    assert "Right: A." in text or "the answer is" in text
    assert "── Interview · Part 1 ──" in text
    assert "Rated." in text
    assert "Quick Reference · Part 1" in text
    assert "quiet hours 22-7" in text
    assert "1/5 parts" in text
    assert "There is no track 'nonsense'" in text
    assert "Unknown command 'frobnicate'" in text


async def test_progress_persists_between_runs(database_url: str, tmp_path: Path) -> None:
    await transcript(database_url, tmp_path, "start complete", "read 3", "next", "next")
    text = await transcript(database_url, tmp_path, "read")
    assert "── Part 3 · " in text
    assert re.search(r"· 3/\d+ in this part", text), text[-300:]
    # after a restart, jump and done work on the part `read` would resume
    text = await transcript(database_url, tmp_path, "jump quick reference", "done")
    assert "── Part 3 · Quick Reference" in text and "Part 3 · The build process" in text
    assert "Read a part first" not in text


async def test_review_in_the_console(database_url: str, tmp_path: Path) -> None:
    text = await transcript(
        database_url, tmp_path, "start complete", "review", "quiz 1", "answer A", "review"
    )
    assert "Nothing is due right now. Answer a quiz or an interview" in text
    assert re.search(r"Nothing is due right now\. The next card is due \d{4}-\d\d-\d\d", text)
    settings = load_settings(database_url=database_url, data_dir=tmp_path / "data")
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(ReviewCard).values(due=datetime(2020, 1, 1, tzinfo=UTC)))
    finally:
        await engine.dispose()
    text = await transcript(database_url, tmp_path, "review", "answer A")
    assert "── Debug This · Part 1" in text
    assert "Review done: 1 reviewed" in text


async def test_done_before_the_end_asks_and_counts_what_was_read(
    database_url: str, tmp_path: Path
) -> None:
    text = await transcript(
        database_url, tmp_path, "start complete", "read 3", "done", "progress", "done please"
    )
    total = int(re.search(r"· 1/(\d+) in this part", text)[1])
    asked = f"You have read 1 of {total} chunks of Part 3. Mark Part 3 done anyway? `done yes`"
    assert asked in text
    assert "0/21 parts" in text
    assert "! `done` marks the part done; `done yes` does so before its last chunk." in text
    text = await transcript(database_url, tmp_path, "done yes", "progress", "done")
    assert len(re.findall(r"Part 3 · [^\n]+ is done\.", text)) == 2  # then no question
    assert "1/21 parts" in text
    hours = float(re.search(r"Read ~([\d.]+) h", text)[1])
    assert hours < 0.5  # one chunk of a two-hour part, not two hours


async def test_a_transcript_keeps_the_course_markdown_as_written(
    database_url: str, tmp_path: Path
) -> None:
    """Commands on stdin, a transcript on stdout: the course's Markdown exactly as written, no
    terminal codes (what a pipe, a diff or a test wants). Only a terminal gets it drawn."""
    text = await transcript(
        database_url, tmp_path, "start complete", "quiz 2", "read 2", "jump debug this"
    )
    question = CourseStore(default_course_dir()).course.parts[2].questions[0]
    assert "```" in question.body and "**A.**" in question.body
    assert question.body in text
    assert "\x1b[" not in text
    # the article's Debug This points to the console's own command
    assert "_Answer it in the Part 2 quiz: `quiz 2`._" in text and "/quiz" not in text


async def test_practice_in_the_console(database_url: str, tmp_path: Path) -> None:
    """`practice` aims at the part answered worst; scripted mode prints it as plain text."""
    course = CourseStore(default_course_dir()).course
    part_3, part_2 = course.parts[3].questions, course.parts[2].questions
    wrong = [next(c.letter for c in q.choices if c.letter != q.correct) for q in part_3]
    commands = ["start complete", "practice", "quiz 3", *(f"answer {w}" for w in wrong)]
    commands += ["quiz 2", *(f"answer {q.correct}" for q in part_2), "practice"]
    # all three of Part 3 were last answered wrong: they come in the course's order
    commands += [f"answer {q.correct}" for q in part_3]
    text = await transcript(database_url, tmp_path, *commands)
    assert "! Nothing to practise yet" in text
    practice = text.split("Practice 1/3, from a part you find hard:", 1)[1]
    for position, question in enumerate(part_3, 1):
        assert f"── Debug This · Part 3 · {position}/3: {question.title} ──" in practice
    assert "Part 2 ·" not in practice
    assert "Practice 3/3, from a part you find hard:" in practice
    assert practice.rstrip().endswith("Practice done: 3 of 3 right. Improved: Part 3 0% → 50%.")
    assert "\x1b[" not in text
