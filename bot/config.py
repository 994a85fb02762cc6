"""Settings, read from the environment and `.env` (see `.env.example` for every field)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.labs.settings import LabSettings

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DISCORD_REQUESTS_PER_SECOND = 50  # the global limit of one bot, shared by all its processes


def default_course_dir() -> Path:
    """The shipped Docker course, wherever the package is installed."""
    return Path(str(files("content") / "courses" / "docker"))


OUTBOX_SEND_RATE = 20.0  # Discord allows a bot 50 requests a second in all


class Settings(BaseSettings):
    """Everything the bot can be configured with. Field names map to upper-case variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        validate_default=True,
    )

    discord_token: SecretStr | None = Field(
        default=None, description="Bot token from the Discord developer portal"
    )
    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and state live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite under data_dir"
    )
    dev_guild_id: int | None = Field(
        default=None, gt=0, description="Guild that `tutorbot sync` targets by default"
    )
    log_level: str = Field(default="INFO", description="Python logging level")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text: one readable line per record; json: one JSON object"
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Prometheus metrics port; unset: off"
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address the metrics server binds")
    shard_count: int | None = Field(
        default=None, ge=1, le=1000, description="Shards of the whole bot (all workers); unset: 1"
    )
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None, description="The shards this worker runs, e.g. 0,1; unset: all of them"
    )
    content_dir: Path = Field(default_factory=default_course_dir, description="Course directory")
    health_max_age: float = Field(
        default=90.0, gt=0, description="Seconds after which the bot's heartbeat counts as stale"
    )
    outbox_send_rate: float = Field(
        default=OUTBOX_SEND_RATE,
        gt=0,
        le=50,
        description="Reminders sent per second at most, per process",
    )
    max_groups_per_server: int = Field(
        default=25, ge=1, le=500, description="Study groups a server may have at once"
    )
    max_group_members: int = Field(
        default=20, ge=2, le=500, description="Members a study group may have"
    )
    group_quiz_seconds: int = Field(
        default=30, ge=10, le=300, description="Time to answer each group quiz question"
    )

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            return tuple(parts) if parts else None
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the shards of all workers together)")
        wrong = sorted({i for i in self.shard_ids if not 0 <= i < self.shard_count})
        if wrong:
            raise ValueError(
                f"SHARD_IDS {wrong} outside 0..{self.shard_count - 1} "
                f"(SHARD_COUNT={self.shard_count})"
            )
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("SHARD_IDS lists a shard twice")
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers)"
            )
        return value

    @field_validator("content_dir")
    @classmethod
    def _content_exists(cls, value: Path) -> Path:
        if not (value / "course.toml").is_file():
            raise ValueError(f"{value} has no course.toml")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tutor.db').resolve()}"

    @property
    def workers(self) -> int:
        """How many worker processes share the bot, assuming each runs as many shards as this
        one (1 without sharding)."""
        if self.shard_count is None or self.shard_ids is None:
            return 1
        return -(-self.shard_count // len(self.shard_ids))

    @property
    def health_file(self) -> Path:
        return self.data_dir / "health.json"


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class SettingsError(Exception):
    """Raised with one message that names every bad variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "The configuration has problems (environment or .env):\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
        self.problems = problems


def validated(model: type[SettingsT], **overrides: object) -> SettingsT:
    """`model` read from the environment and .env; a SettingsError names each bad variable
    as it is spelled there (`LAB_CPUS`, not `cpus`)."""
    try:
        return model(**overrides)  # type: ignore[arg-type]  # pydantic validates them
    except ValidationError as exc:
        prefix = model.model_config.get("env_prefix") or ""
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"{(prefix + field).upper() if field else 'SETTINGS'}: {error['msg']}")
        raise SettingsError(problems) from None


def load_settings(**overrides: object) -> Settings:
    """The bot's settings, the lab sandbox's checked with them: one message lists every bad
    variable of both, before anything starts."""
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = validated(Settings, **overrides)
    except SettingsError as exc:
        problems += exc.problems
    try:
        validated(LabSettings)
    except SettingsError as exc:
        problems += exc.problems
    if settings is None or problems:
        raise SettingsError(problems)
    return settings
