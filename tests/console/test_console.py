"""The console journey: commands on stdin, a transcript on stdout, the real services and DB."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from bot.config import load_settings
from bot.console import run_console
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
        "done",
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
