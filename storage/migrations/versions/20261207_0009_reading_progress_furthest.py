"""the furthest chunk a learner reached in a part

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reading_progress", schema=None) as batch_op:
        batch_op.add_column(sa.Column("furthest", sa.Integer(), server_default="0", nullable=False))
    # Before this column, the place was all there was: a finished part's place is its last chunk.
    op.execute("UPDATE reading_progress SET furthest = position")


def downgrade() -> None:
    with op.batch_alter_table("reading_progress", schema=None) as batch_op:
        batch_op.drop_column("furthest")
