"""SMS: one send schedule per sending number, shared by every dispatcher (the provider's rate limit).

Revision ID: sms_0002
Revises: sms_0001
"""

import sqlalchemy as sa
from alembic import op

revision = 'sms_0002'
down_revision = 'sms_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_rate_slots',
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sender', name=op.f('pk_sms_rate_slots'))
    )


def downgrade() -> None:
    op.drop_table('sms_rate_slots')
