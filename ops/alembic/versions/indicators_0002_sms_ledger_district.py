"""Indicators: the SMS ledger records its recipient's district (consumers/directory/districts.py), so a month's
messages are counted by district from the ledger alone.

Rows written before this revision are filled in from the directory as it is now (a guardian: their children's
first school's district; a school contact: their school's; a duty officer: their agency's); a recipient no longer
in the directory stays NULL, which the indicators show as "district unknown".

Revision ID: indicators_0002
Revises: indicators_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "indicators_0002"
down_revision = "indicators_0001"
branch_labels = None
depends_on = ("sms_0001",)  # the ledger and the directory it reads

# one statement per kind of recipient, each the same rule as consumers.directory.districts (plain SQL: a migration
# does not import the application's models, which move on)
BACKFILL = {
    "g:": "SELECT s.district_code FROM schools s WHERE s.id = (SELECT min(cg.school_id) FROM child_guardians cg "
          "WHERE cg.guardian_id = substr(sms_ledger.recipient_id, 3))",
    "sc:": "SELECT s.district_code FROM school_contacts c JOIN schools s ON s.id = c.school_id "
           "WHERE c.id = substr(sms_ledger.recipient_id, 4)",
    "do:": "SELECT a.district_code FROM duty_officers o JOIN agencies a ON a.id = o.agency_id "
           "WHERE o.id = substr(sms_ledger.recipient_id, 4)",
}


def upgrade() -> None:
    op.add_column("sms_ledger", sa.Column("district_code", sa.String(6), nullable=True))
    for prefix, lookup in BACKFILL.items():
        op.execute(sa.text(f"UPDATE sms_ledger SET district_code = ({lookup}) "
                           "WHERE substr(recipient_id, 1, :n) = :prefix").bindparams(n=len(prefix), prefix=prefix))
    op.create_index("ix_sms_ledger_district_created", "sms_ledger", ["district_code", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_ledger_district_created", table_name="sms_ledger")
    with op.batch_alter_table("sms_ledger") as batch:
        batch.drop_column("district_code")
