"""The limits come from the settings (MAX_GROUPS_PER_SERVER, ...) through the composition root."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import SettingsError, load_settings


async def test_settings_reach_the_group_service(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        max_groups_per_server=3,
        max_group_members=4,
        group_quiz_seconds=45,
    )
    async with open_app(settings) as app:
        limits = app.services.groups.limits
        assert (limits.max_groups, limits.max_members, limits.question_seconds) == (3, 4, 45)
        assert app.services.group_quizzes.limit.total_seconds() == 45


def test_silly_limits_are_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_GROUP_MEMBERS", "1")
    monkeypatch.setenv("GROUP_QUIZ_SECONDS", "2")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "MAX_GROUP_MEMBERS" in str(caught.value)
    assert "GROUP_QUIZ_SECONDS" in str(caught.value)
