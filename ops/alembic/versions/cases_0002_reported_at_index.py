"""Cases: an index on the report time (branch `indicators2`): the province's indicators count one month's
mandatory cases, which read every case ever opened without it (~110 ms at 38,000 cases, growing with the years).

Revision ID: cases_0002_reported_at
Revises: cases_0001
"""

from alembic import op

revision = "cases_0002_reported_at"
down_revision = "cases_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_reported_at", table_name="cases")
