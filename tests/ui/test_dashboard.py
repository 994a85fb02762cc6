"""The server dashboard's picture: a valid PNG of its size, whatever the numbers and names."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from bot.services.server_stats import (
    DrillWeek,
    HardQuestion,
    PartReach,
    Reminders,
    ServerStats,
    Share,
    TrackCount,
    WeekCount,
    week_starts,
)
from bot.ui.dashboard import DASHBOARD_SIZE, render_dashboard, share_text
from tests.ui.test_progress_card import HOSTILE_NAMES

TODAY = date(2026, 3, 4)


def stats(learners: int, *, drill: bool = True) -> ServerStats:
    starts = week_starts(TODAY)
    return ServerStats(
        guild_id=1,
        today=TODAY,
        learners=learners,
        tracks=(TrackCount("Complete deep dive", Share(learners, learners, learners)),),
        funnel=tuple(
            PartReach(n, f"Part {n}", learners, Share(learners // 2, learners, learners))
            for n in range(21)
        ),
        weekly_active=tuple(WeekCount(s, learners // (i + 1)) for i, s in enumerate(starts)),
        hardest=tuple(
            HardQuestion(f"q{n}", n, "x" * 300, Share(3, 4, learners), "C", 2) for n in range(5)
        ),
        drill=tuple(DrillWeek(s, 7, 10**6, 10**4) for s in starts) if drill else None,
        reminders=Reminders(10**7, 12, learners),
    )


def picture(data: ServerStats, name: str = "Study server") -> Image.Image:
    image = Image.open(io.BytesIO(render_dashboard(data, name)))
    assert image.format == "PNG" and image.size == DASHBOARD_SIZE
    return image


@pytest.mark.parametrize("learners", [0, 1, 4, 5, 10_000, 10**9])
def test_any_size_of_server_draws(learners: int) -> None:
    picture(stats(learners))
    picture(stats(learners, drill=False))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_server_names_draw(name: str) -> None:
    picture(stats(10), name)


def test_a_share_is_a_percentage_only_for_enough_people() -> None:
    assert share_text(Share(3, 4, 10)) == "75%"
    assert share_text(Share(3, 4, 4)) == "3 of 4"
    assert share_text(Share(0, 0, 100)) == "0 of 0"
