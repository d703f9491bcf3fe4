"""Indicators: areas with their child population, and the incident, drill and recall facts (consumers/indicators).

Also indexes the SMS ledger by creation time (the indicators count one month's messages) and the directory's
child-guardian links by guardian and school (a message's district is its guardian's first school, index-only).

Revision ID: indicators_0001
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "indicators_0001"
down_revision = "0001_core"
branch_labels = ("indicators",)
depends_on = ("sms_0001",)  # the ledger it indexes


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("parent_code", sa.String(6), nullable=True),
        sa.Column("children", sa.Integer, nullable=True),
        sa.Column("children_year", sa.Integer, nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_regions"),
    )
    op.create_index("ix_regions_parent_code", "regions", ["parent_code"])
    op.create_table(
        "indicator_incidents",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("children", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_indicator_incidents"),
    )
    op.create_index("ix_indicator_incidents_month_district", "indicator_incidents", ["month", "district_code"])
    op.create_table(
        "indicator_drills",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("drill_kind", sa.String(32), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_indicator_drills"),
    )
    op.create_index("ix_indicator_drills_month_district", "indicator_drills", ["month", "district_code"])
    op.create_index("ix_indicator_drills_school_kind_held", "indicator_drills", ["school_id", "drill_kind", "held_on"])
    op.create_table(
        "indicator_recalls",
        sa.Column("recall_number", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("published_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("recall_number", "region_code", name="pk_indicator_recalls"),
    )
    op.create_index("ix_indicator_recalls_month", "indicator_recalls", ["month"])
    op.create_index("ix_sms_ledger_created_at", "sms_ledger", ["created_at"])
    op.create_index("ix_child_guardians_guardian_school", "child_guardians", ["guardian_id", "school_id"])


def downgrade() -> None:
    op.drop_index("ix_sms_ledger_created_at", table_name="sms_ledger")
    op.drop_index("ix_child_guardians_guardian_school", table_name="child_guardians")
    for table in ("indicator_recalls", "indicator_drills", "indicator_incidents", "regions"):
        op.drop_table(table)
