"""Console: regulators' recalls and their weak-match reviews (console/recalls.py); guardians' confirmation
codes and sessions (console/guardians.py).

Revision ID: console_0002
Revises: console_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "console_0002"
down_revision = "console_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_recalls",
        sa.Column("recall_number", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("notice_json", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("exact", sa.Integer, nullable=False),
        sa.Column("strong", sa.Integer, nullable=False),
        sa.Column("weak", sa.Integer, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recall_number", name="pk_console_recalls"),
        sa.ForeignKeyConstraint(["user_id"], ["console_users.id"], name="fk_console_recalls_user_id_console_users"),
    )
    op.create_index("ix_console_recalls_unit_id", "console_recalls", ["unit_id"])
    op.create_table(
        "console_recall_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recall_number", sa.String(64), nullable=False),
        sa.Column("holder_kind", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("registrations", sa.String(300), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_console_recall_reviews"),
        sa.ForeignKeyConstraint(["recall_number"], ["console_recalls.recall_number"],
                                name="fk_console_recall_reviews_recall_number_console_recalls"),
    )
    op.create_index("ix_console_recall_reviews_recall_number", "console_recall_reviews", ["recall_number"])
    op.create_table(
        "console_guardian_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone_digest", sa.String(64), nullable=False),
        sa.Column("client_digest", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_console_guardian_codes"),
    )
    for column in ("phone_digest", "client_digest", "created_at"):
        op.create_index(f"ix_console_guardian_codes_{column}", "console_guardian_codes", [column])
    op.create_table(
        "console_guardian_sessions",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("guardian_id", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name="pk_console_guardian_sessions"),
    )
    op.create_index("ix_console_guardian_sessions_guardian_id", "console_guardian_sessions", ["guardian_id"])


def downgrade() -> None:
    op.drop_table("console_guardian_sessions")
    op.drop_table("console_guardian_codes")
    op.drop_table("console_recall_reviews")
    op.drop_table("console_recalls")
