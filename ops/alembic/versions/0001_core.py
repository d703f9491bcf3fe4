"""Core organisations: schools, agencies, duty officers.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
    )
    op.create_index("ix_schools_district_code", "schools", ["district_code"])
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("supervisor_id", sa.String(64), sa.ForeignKey("agencies.id", name="fk_agencies_supervisor_id_agencies"),
                  nullable=True),
    )
    op.create_index("ix_agencies_kind", "agencies", ["kind"])
    op.create_index("ix_agencies_district_code", "agencies", ["district_code"])
    op.create_table(
        "duty_officers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("agency_id", sa.String(64), sa.ForeignKey("agencies.id", name="fk_duty_officers_agency_id_agencies"),
                  nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("contact_order", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_duty_officers_agency_id", "duty_officers", ["agency_id"])


def downgrade() -> None:
    op.drop_table("duty_officers")
    op.drop_table("agencies")
    op.drop_table("schools")
