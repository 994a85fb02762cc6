"""drop ix_outbox_learner_id: ix_outbox_learner_due_status starts with the same column

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A learner's rows (and the cascade when a learner is deleted) are found through the
    # composite index as well; one index less to keep up on every outbox write.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_learner_id")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_learner_id", ["learner_id"], unique=False)
