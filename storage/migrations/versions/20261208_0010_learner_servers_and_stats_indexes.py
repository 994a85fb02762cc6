"""the servers each learner uses the bot in, and the indexes /server stats reads

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What already says a learner used the bot in a server: /start there (their reminder server),
# a study group there, an answer to its drill. The bot notes the rest from now on.
BACKFILL = """
INSERT INTO learner_servers (guild_id, learner_id, first_seen, last_seen)
SELECT used.guild_id, learners.id, learners.created_at, learners.created_at
FROM (
    SELECT reminder_guild_id AS guild_id, discord_id
    FROM learners WHERE reminder_guild_id IS NOT NULL
    UNION
    SELECT study_groups.guild_id, group_members.discord_id
    FROM group_members JOIN study_groups ON study_groups.id = group_members.group_id
    UNION
    SELECT drills.guild_id, drill_answers.discord_id
    FROM drill_answers
    JOIN drill_posts ON drill_posts.id = drill_answers.post_id
    JOIN drills ON drills.id = drill_posts.drill_id
) AS used
JOIN learners ON learners.discord_id = used.discord_id
"""
# storage.models.NO_ROUTE_FAILED when this was written (a migration never imports models)
NO_ROUTE_FAILED = "status = 'failed' AND last_error LIKE 'no route%'"


def upgrade() -> None:
    op.create_table(
        "learner_servers",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_learner_servers_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "learner_id", name=op.f("pk_learner_servers")),
    )
    with op.batch_alter_table("learner_servers", schema=None) as batch_op:
        batch_op.create_index("ix_learner_servers_learner_id", ["learner_id"], unique=False)
    op.execute(BACKFILL)

    # What /server stats reads, so that it reads indexes only (bench/bench_server_stats.py).
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answers_item", ["item_id", "correct", "choice", "learner_id"], unique=False
        )
    with op.batch_alter_table("review_cards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_cards_learner_kind",
            ["learner_id", "kind", "item_id", "reviews", "lapses"],
            unique=False,
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_learner_due_status", ["learner_id", "due_at", "status"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_no_route",
            ["learner_id", "due_at"],
            unique=False,
            sqlite_where=sa.text(NO_ROUTE_FAILED),
            postgresql_where=sa.text(NO_ROUTE_FAILED),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_no_route")
        batch_op.drop_index("ix_outbox_learner_due_status")
    with op.batch_alter_table("review_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_review_cards_learner_kind")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ix_answers_item")
    with op.batch_alter_table("learner_servers", schema=None) as batch_op:
        batch_op.drop_index("ix_learner_servers_learner_id")
    op.drop_table("learner_servers")
