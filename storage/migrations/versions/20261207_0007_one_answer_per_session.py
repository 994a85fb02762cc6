"""one answer per item per quiz or review session

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("choice", sa.String(length=8), nullable=True))
        batch_op.create_index(
            "ux_answers_session_item", ["learner_id", "session", "item_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ux_answers_session_item")
        batch_op.drop_column("choice")
        batch_op.drop_column("session")
