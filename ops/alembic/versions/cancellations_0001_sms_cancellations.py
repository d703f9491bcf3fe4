"""SMS cancellations: alerts whose pending sends were stopped (withdrawn recall, found child, CAP Cancel).

Revision ID: wire_0001
Revises: 0001_core

Branch `cancellations` (it was labelled `wire`, after the git branch that added it). The revision id stays
`wire_0001`: databases store revision ids, not labels, so every existing database upgrades unchanged
(tests/unit/test_store_migrations.py shows it).
"""

import sqlalchemy as sa
from alembic import op

revision = 'wire_0001'
down_revision = '0001_core'
branch_labels = ('cancellations',)
depends_on = None


def upgrade() -> None:
    op.create_table('sms_cancellations',
    sa.Column('alert_id', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('source_event_id', sa.String(length=128), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_sms_cancellations'))
    )


def downgrade() -> None:
    op.drop_table('sms_cancellations')
