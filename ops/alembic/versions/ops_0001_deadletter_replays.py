"""Operations: dead letters already replayed (`childsafe deadletter replay` skips them).

Revision ID: ops_0001
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "ops_0001"
down_revision = "0001_core"
branch_labels = ("ops",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadletter_replays",
        sa.Column("source_topic", sa.String(255), nullable=False),
        sa.Column("source_partition", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("source_offset", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("replayed_partition", sa.Integer, nullable=False),
        sa.Column("replayed_offset", sa.BigInteger, nullable=False),
        sa.Column("replayed_by", sa.String(100), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_topic", "source_partition", "source_offset", name="pk_deadletter_replays"),
    )


def downgrade() -> None:
    op.drop_table("deadletter_replays")
