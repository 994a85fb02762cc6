"""The database schema. Alembic migrations in storage/migrations must match it (`alembic check`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def unique_where(name: str, column: str, condition: str) -> Index:
    """A unique index over the rows where `condition` holds (a partial index on both
    backends): at most one such row per value of `column`."""
    return Index(
        name,
        column,
        unique=True,
        sqlite_where=text(condition),
        postgresql_where=text(condition),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Learner(Base):
    """A Discord user who has started the course, with their time zone and preferences."""

    __tablename__ = "learners"
    __table_args__ = (
        CheckConstraint("reminder_hour BETWEEN 0 AND 23", name="reminder_hour_range"),
        CheckConstraint(
            "quiet_start IS NULL OR quiet_start BETWEEN 0 AND 23", name="quiet_start_range"
        ),
        CheckConstraint("quiet_end IS NULL OR quiet_end BETWEEN 0 AND 23", name="quiet_end_range"),
        CheckConstraint("reminder_delivery IN ('dm', 'server')", name="reminder_delivery_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    discord_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    reminder_hour: Mapped[int] = mapped_column(SmallInteger, default=18, server_default="18")
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)
    reminder_delivery: Mapped[str] = mapped_column(String(8), default="dm", server_default="dm")
    reminder_guild_id: Mapped[int | None] = mapped_column(BigInteger)
    reminders_paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dm_unreachable: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="learner", cascade="all, delete-orphan", passive_deletes=True
    )


class Enrollment(Base):
    """A learner's track. The current one has ended_at NULL; earlier ones stay as history."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_learner_id", "learner_id"),
        unique_where("uq_enrollments_one_current", "learner_id", "ended_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    track: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    learner: Mapped[Learner] = relationship(back_populates="enrollments")


class ReadingProgress(Base):
    """Where a learner is in one part: the chunk to show next, the furthest chunk they reached
    (what they have read, for hours and for asking before marking an unread part done), and
    when the part was finished."""

    __tablename__ = "reading_progress"
    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    furthest: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# BIGINT ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Answer(Base):
    """One answer a learner gave: a quiz question (right or wrong) or a self-rated card."""

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_learner_part", "learner_id", "part"),
        # the wrong choices of a question (/server stats), without reading the table
        Index("ix_answers_item", "item_id", "correct", "choice", "learner_id"),
        # one answer per item per quiz or review session (rows without a session: no limit)
        Index("ux_answers_session_item", "learner_id", "session", "item_id", unique=True),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 4", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    part: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))  # quiz | interview | quickref
    source: Mapped[str] = mapped_column(String(8), default="learn", server_default="learn")
    correct: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # FSRS: 1 again .. 4 easy
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    session: Mapped[str | None] = mapped_column(String(16))  # the quiz or review session
    choice: Mapped[str | None] = mapped_column(String(8))  # what was pressed: A, had, 3...


class ActivityDay(Base):
    """How much a learner did on one day of their own calendar: streaks and the heatmap."""

    __tablename__ = "activity_days"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local date of the learner
    events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReviewCard(Base):
    """A question or card a learner has met, with its FSRS scheduling state (all times UTC)."""

    __tablename__ = "review_cards"
    __table_args__ = (
        Index("ix_review_cards_learner_due", "learner_id", "due"),
        # a learner's answers and wrong answers per question (/server stats), from the index
        Index("ix_review_cards_learner_kind", "learner_id", "kind", "item_id", "reviews", "lapses"),
    )

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))  # quiz | interview | quickref
    state: Mapped[int] = mapped_column(SmallInteger)  # fsrs.State
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviews: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lapses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# A row that failed because the learner's DMs were closed and no channel took it: its error
# starts with bot.services.outbox.NO_ROUTE (a test keeps the two together). Queries that want
# the partial index on it must say this condition as written, with literals.
NO_ROUTE_FAILED = "status = 'failed' AND last_error LIKE 'no route%'"


class OutboxMessage(Base):
    """Something the bot will send later. The dispatcher claims due rows under a lease, sends
    with the row's nonce (so a retry after a crash is not a second message) and marks them."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "due_at"),
        # a learner's reminders by outcome (/server stats), from the index; status last, so
        # that the partial index below wins for the failed ones. It also serves the foreign
        # key (learner_id first): no index of learner_id alone.
        Index("ix_outbox_learner_due_status", "learner_id", "due_at", "status"),
        # the few that failed because the learner's DMs were closed (NO_ROUTE_FAILED)
        Index(
            "ix_outbox_no_route",
            "learner_id",
            "due_at",
            sqlite_where=text(NO_ROUTE_FAILED),
            postgresql_where=text(NO_ROUTE_FAILED),
        ),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name="status_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # digest | reminder | drill | ...
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nonce: Mapped[str] = mapped_column(String(25))  # Discord accepts at most 25 characters
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class LearnerServer(Base):
    """A server where a learner used the bot (a command or a button there): the servers whose
    dashboards count them. Noted at most about once an hour per learner and server."""

    __tablename__ = "learner_servers"
    __table_args__ = (Index("ix_learner_servers_learner_id", "learner_id"),)

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CourseReload(Base):
    """A course reload announced to the other workers (bot/services/course_sync.py). A worker
    that could not listen meanwhile finds here, when it reconnects, that it missed one."""

    __tablename__ = "course_reloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(32))
    reloaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GuildSettings(Base):
    """What a server's moderators chose: where reminders go when a learner's DMs are closed."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reminder_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    group_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    moderator_role_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class StudyGroup(Base):
    """Learners of one server working through a track together, at a shared weekly pace."""

    __tablename__ = "study_groups"
    __table_args__ = (
        Index(
            "uq_study_groups_guild_name",
            "guild_id",
            "name_key",
            unique=True,
            sqlite_where=text("disbanded_at IS NULL"),
            postgresql_where=text("disbanded_at IS NULL"),
        ),
        CheckConstraint("pace BETWEEN 1 AND 7", name="pace_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))  # casefolded, for uniqueness
    track: Mapped[str] = mapped_column(String(32))
    pace: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    owner_id: Mapped[int] = mapped_column(BigInteger)  # a Discord user id
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    join_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disbanded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("study_groups.id", ondelete="CASCADE"), primary_key=True
    )
    discord_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupQuiz(Base):
    """A live quiz in a group's thread: one question at a time, every member answers once."""

    __tablename__ = "group_quizzes"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'finished', 'cancelled')", name="status_kind"),
        # one running quiz per group, even when two members start one at the same moment
        unique_where("ux_group_quizzes_running", "group_id", "status = 'running'"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("study_groups.id", ondelete="CASCADE"), index=True
    )
    part: Mapped[int] = mapped_column(SmallInteger)
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    current: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default="running", server_default="running")
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    started_by: Mapped[int] = mapped_column(BigInteger)
    question_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GroupQuizAnswer(Base):
    __tablename__ = "group_quiz_answers"

    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("group_quizzes.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    discord_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    letter: Mapped[str] = mapped_column(String(1))
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Drill(Base):
    """A server's daily drill: one Debug This question posted at a local time, revealed later."""

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM in time_zone
    time_zone: Mapped[str] = mapped_column(String(64))
    reveal_after_minutes: Mapped[int] = mapped_column(Integer, default=480, server_default="480")
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    paused_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DrillPost(Base):
    """One day's drill question; exactly one per drill and local day."""

    __tablename__ = "drill_posts"
    __table_args__ = (Index("uq_drill_posts_day", "drill_id", "day", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    question_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reveal_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DrillAnswer(Base):
    __tablename__ = "drill_answers"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("drill_posts.id", ondelete="CASCADE"), primary_key=True
    )
    discord_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    letter: Mapped[str] = mapped_column(String(1))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExerciseCompletion(Base):
    """An exercise a learner finished: for now, a lab the sandbox graded as passed."""

    __tablename__ = "exercise_completions"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(8), default="lab", server_default="lab")
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    build_seconds: Mapped[float | None] = mapped_column(Float)
    image_bytes: Mapped[int | None] = mapped_column(BigInteger)
