"""Console: CAP threads emergency managers started from the console (console/emergency_threads.py).

Revision ID: console_alerts_0001
Revises: console_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "console_alerts_0001"
down_revision = "console_0001"
branch_labels = ("console_alerts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_alert_threads",
        sa.Column("root", sa.String(300), nullable=False),
        sa.Column("sender", sa.String(100), nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exercise", sa.Boolean, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("area_json", sa.Text, nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("last_identifier", sa.String(200), nullable=False),
        sa.Column("last_sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("root", name="pk_console_alert_threads"),
        sa.ForeignKeyConstraint(["created_by"], ["console_users.id"],
                                name="fk_console_alert_threads_created_by_console_users"),
    )
    op.create_index("ix_console_alert_threads_state", "console_alert_threads", ["state"])


def downgrade() -> None:
    op.drop_table("console_alert_threads")
