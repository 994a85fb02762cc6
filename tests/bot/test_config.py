"""Settings: defaults, .env, and one message that names every bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings


def test_defaults_put_sqlite_under_data(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'data/tutor.db'}"
    assert (settings.content_dir / "course.toml").is_file()
    assert settings.log_level == "INFO"


def test_dotenv_is_read_and_blank_values_mean_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=\nLOG_LEVEL=debug\nDEV_GUILD_ID=1234\nDATABASE_URL=\n", encoding="utf-8"
    )
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id == 1234
    assert settings.database_url is None


def test_every_bad_field_is_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("DEV_GUILD_ID", "not-a-number")
    monkeypatch.setenv("DATABASE_URL", "postgresql://sync-driver/db")
    monkeypatch.setenv("CONTENT_DIR", "/nowhere")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for field in ("LOG_LEVEL", "DEV_GUILD_ID", "DATABASE_URL", "CONTENT_DIR"):
        assert field in message
    assert "Traceback" not in message


def test_token_is_never_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "super.secret.token")
    settings = load_settings()
    assert "super.secret.token" not in repr(settings)
    assert "super.secret.token" not in str(settings.model_dump())
