"""SMS alerts: the directory (classes, children, guardians, contacts, opt-outs, product registrations) and the SMS ledger.

Revision ID: sms_0001
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = 'sms_0001'
down_revision = '0001_core'
branch_labels = ('sms',)
depends_on = None


def upgrade() -> None:
    op.create_table('guardians',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardians'))
    )
    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardians_phone'), ['phone'], unique=False)

    op.create_table('product_registrations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('holder_kind', sa.String(length=16), nullable=False),
    sa.Column('holder_id', sa.String(length=64), nullable=False),
    sa.Column('product_kind', sa.String(length=64), nullable=False),
    sa.Column('product_name', sa.String(length=200), nullable=True),
    sa.Column('brand', sa.String(length=100), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('batch', sa.String(length=100), nullable=True),
    sa.Column('barcode', sa.String(length=14), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_registrations'))
    )
    with op.batch_alter_table('product_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_registrations_barcode'), ['barcode'], unique=False)
        batch_op.create_index('ix_product_registrations_brand_model', ['brand', 'model'], unique=False)
        batch_op.create_index('ix_product_registrations_holder', ['holder_kind', 'holder_id'], unique=False)

    op.create_table('sms_acks',
    sa.Column('alert_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_id', sa.String(length=128), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('body', sa.String(length=160), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id', 'recipient_id', name=op.f('pk_sms_acks'))
    )
    op.create_table('sms_alerts',
    sa.Column('alert_id', sa.String(length=128), nullable=False),
    sa.Column('request_json', sa.Text(), nullable=False),
    sa.Column('requires_ack', sa.Boolean(), nullable=False),
    sa.Column('fanout_cursor', sa.String(length=128), nullable=True),
    sa.Column('fanout_done', sa.Boolean(), nullable=False),
    sa.Column('jobs_emitted', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_sms_alerts'))
    )
    op.create_table('sms_callback_tokens',
    sa.Column('token', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_sms_callback_tokens'))
    )
    op.create_table('sms_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dedup_key', sa.String(length=300), nullable=False),
    sa.Column('alert_id', sa.String(length=128), nullable=False),
    sa.Column('recipient_id', sa.String(length=128), nullable=False),
    sa.Column('marker', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('provider_status', sa.String(length=16), nullable=True),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.Float(), nullable=True),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('fallback_pending', sa.Boolean(), nullable=False),
    sa.Column('job_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_ledger')),
    sa.UniqueConstraint('alert_id', 'recipient_id', name='uq_sms_ledger_alert_recipient'),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_sms_ledger_dedup_key')),
    sa.UniqueConstraint('marker', name=op.f('uq_sms_ledger_marker')),
    sa.UniqueConstraint('sid', name=op.f('uq_sms_ledger_sid'))
    )
    with op.batch_alter_table('sms_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_ledger_fallback_pending'), ['fallback_pending'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_ledger_phone'), ['phone'], unique=False)
        batch_op.create_index('ix_sms_ledger_state_due', ['state', 'due_at'], unique=False)

    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sms_opt_outs'))
    )
    op.create_table('classes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_classes_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classes'))
    )
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classes_school_id'), ['school_id'], unique=False)

    op.create_table('school_contacts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('contact_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_contacts_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_contacts'))
    )
    with op.batch_alter_table('school_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_contacts_school_id'), ['school_id'], unique=False)

    op.create_table('children',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_children_class_id_classes')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_children_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_children_school_id'), ['school_id'], unique=False)

    op.create_table('child_guardians',
    sa.Column('child_id', sa.String(length=64), nullable=False),
    sa.Column('contact_order', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_child_guardians_child_id_children')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardians.id'], name=op.f('fk_child_guardians_guardian_id_guardians')),
    sa.PrimaryKeyConstraint('child_id', 'contact_order', name=op.f('pk_child_guardians')),
    sa.UniqueConstraint('child_id', 'guardian_id', name='uq_child_guardians_child_guardian')
    )
    with op.batch_alter_table('child_guardians', schema=None) as batch_op:
        batch_op.create_index('ix_child_guardians_class_guardian', ['class_id', 'guardian_id', 'contact_order'], unique=False)
        batch_op.create_index(batch_op.f('ix_child_guardians_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index('ix_child_guardians_school_guardian', ['school_id', 'guardian_id', 'contact_order'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('child_guardians', schema=None) as batch_op:
        batch_op.drop_index('ix_child_guardians_school_guardian')
        batch_op.drop_index(batch_op.f('ix_child_guardians_guardian_id'))
        batch_op.drop_index('ix_child_guardians_class_guardian')

    op.drop_table('child_guardians')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_school_id'))
        batch_op.drop_index(batch_op.f('ix_children_class_id'))

    op.drop_table('children')
    with op.batch_alter_table('school_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_contacts_school_id'))

    op.drop_table('school_contacts')
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classes_school_id'))

    op.drop_table('classes')
    op.drop_table('sms_opt_outs')
    with op.batch_alter_table('sms_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_ledger_state_due')
        batch_op.drop_index(batch_op.f('ix_sms_ledger_phone'))
        batch_op.drop_index(batch_op.f('ix_sms_ledger_fallback_pending'))

    op.drop_table('sms_ledger')
    op.drop_table('sms_callback_tokens')
    op.drop_table('sms_alerts')
    op.drop_table('sms_acks')
    with op.batch_alter_table('product_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_product_registrations_holder')
        batch_op.drop_index('ix_product_registrations_brand_model')
        batch_op.drop_index(batch_op.f('ix_product_registrations_barcode'))

    op.drop_table('product_registrations')
    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardians_phone'))

    op.drop_table('guardians')
