"""Product registrations: the identifiers as recall matching compares them, indexed (the recall preview's reach
is an index look-up by GTIN, model and name instead of a scan); existing rows back-filled.

Revision ID: sms_0003
Revises: sms_0002
"""

import sqlalchemy as sa
from alembic import op

from consumers.store.directory import registration_keys

revision = "sms_0003"
down_revision = "sms_0002"
branch_labels = None
depends_on = None

KEYS = (("name_key", 200, True), ("brand_key", 100, False), ("model_key", 100, True), ("batch_key", 100, False),
        ("barcode_key", 14, True))
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("product_registrations", schema=None) as batch_op:
        for name, length, _ in KEYS:
            batch_op.add_column(sa.Column(name, sa.String(length), nullable=True))
    table = sa.table("product_registrations", sa.column("id"), sa.column("product_name"), sa.column("product_kind"),
                     sa.column("brand"), sa.column("model"), sa.column("batch"), sa.column("barcode"),
                     *(sa.column(name) for name, _, _ in KEYS))
    conn = op.get_bind()
    last = ""
    while True:  # back-fill in id order, a batch at a time
        rows = conn.execute(sa.select(table.c.id, table.c.product_name, table.c.product_kind, table.c.brand,
                                      table.c.model, table.c.batch, table.c.barcode)
                            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        conn.execute(sa.update(table).where(table.c.id == sa.bindparam("rid")).values(
            {name: sa.bindparam(f"v_{name}") for name, _, _ in KEYS}),
            [{"rid": r["id"], **{f"v_{k}": v for k, v in registration_keys(dict(r)).items()}} for r in rows])
        last = rows[-1]["id"]
    with op.batch_alter_table("product_registrations", schema=None) as batch_op:
        for name, _, indexed in KEYS:
            if indexed:
                batch_op.create_index(batch_op.f(f"ix_product_registrations_{name}"), [name], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_registrations", schema=None) as batch_op:
        for name, _, indexed in reversed(KEYS):
            if indexed:
                batch_op.drop_index(batch_op.f(f"ix_product_registrations_{name}"))
            batch_op.drop_column(name)
