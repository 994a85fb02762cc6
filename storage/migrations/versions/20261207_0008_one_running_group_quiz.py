"""one running quiz per study group

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("group_quizzes", schema=None) as batch_op:
        batch_op.create_index(
            "ux_group_quizzes_running",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("group_quizzes", schema=None) as batch_op:
        batch_op.drop_index("ux_group_quizzes_running")
