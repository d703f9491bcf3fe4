"""Case workflow store: cases, routing, events, referrals, deadlines, reporter vault, tokens, audit, tracking.

Revision ID: cases_0001
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

UtcDateTime = sa.DateTime(timezone=True)  # consumers.cases.columns.UtcDateTime stores this

revision = "cases_0001"
down_revision = "0001_core"
branch_labels = ("cases",)
depends_on = None


def _case_fk() -> sa.ForeignKey:
    return sa.ForeignKey("cases.case_id")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("report_id", sa.String(128), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("risk", sa.String(8), nullable=False),
        sa.Column("situations", sa.JSON, nullable=False),
        sa.Column("triggers", sa.JSON, nullable=False),
        sa.Column("children", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(100), nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.Column("reported_at", UtcDateTime, nullable=False),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("report_id", name="uq_cases_report_id"),
    )
    op.create_index("ix_cases_school_id", "cases", ["school_id"])
    op.create_index("ix_cases_district_code", "cases", ["district_code"])
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_table(
        "case_agencies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), _case_fk(), nullable=False),
        sa.Column("agency_id", sa.String(64), sa.ForeignKey("agencies.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("forwarded_at", UtcDateTime, nullable=True),
        sa.Column("acknowledged_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("case_id", "agency_id", name="uq_case_agencies_case_agency"),
    )
    op.create_index("ix_case_agencies_case_id", "case_agencies", ["case_id"])
    op.create_index("ix_case_agencies_agency_id", "case_agencies", ["agency_id"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), _case_fk(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "case_referrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), _case_fk(), nullable=False),
        sa.Column("to_agency_id", sa.String(64), sa.ForeignKey("agencies.id"), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answer_reason", sa.Text, nullable=True),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("answered_at", UtcDateTime, nullable=True),
        sa.Column("completed_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_case_referrals_case_id", "case_referrals", ["case_id"])
    op.create_index("ix_case_referrals_to_agency_id", "case_referrals", ["to_agency_id"])
    op.create_table(
        "case_deadlines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), _case_fk(), nullable=False),
        sa.Column("duty", sa.String(16), nullable=False),
        sa.Column("agency_id", sa.String(64), sa.ForeignKey("agencies.id"), nullable=True),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("met_at", UtcDateTime, nullable=True),
        sa.Column("breached_at", UtcDateTime, nullable=True),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("next_escalation_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_case_deadlines_case_id", "case_deadlines", ["case_id"])
    op.create_index("ix_case_deadlines_next_escalation_at", "case_deadlines", ["next_escalation_at"])
    op.create_table(
        "case_reporters",
        sa.Column("case_id", sa.String(64), _case_fk(), primary_key=True),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("unit_id", sa.String(128), nullable=False),
        sa.Column("unit_name", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("confidential", sa.Boolean, nullable=False),
        sa.Column("stored_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "case_access_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_case_access_tokens_token_hash"),
    )
    op.create_table(
        "case_audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_case_audit_log_subject", "case_audit_log", ["subject"])
    op.create_table(
        "case_audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "case_processed_messages",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("processed_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "case_outbox",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_case_outbox_published_at", "case_outbox", ["published_at"])


def downgrade() -> None:
    for table in ("case_outbox", "case_processed_messages", "case_audit_head", "case_audit_log", "case_access_tokens",
                  "case_reporters", "case_deadlines", "case_referrals", "case_events", "case_agencies", "cases"):
        op.drop_table(table)
