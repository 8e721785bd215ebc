"""Tenants: charge periods — each rent, service-charge or allowance period charged once

The unique index on (agreement_id, kind, period_start) is what guarantees a period is charged
once, however many billing runs meet it, even at the same moment.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenant_charge_periods",
        sa.Column("id", ID, nullable=False),
        sa.Column("agreement_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("charge_id", ID, nullable=True),
        sa.Column("amount_pence", ID, nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('rent', 'service_charge', 'allowance')",
            name=op.f("ck_tenant_charge_periods_kind_allowed"),
        ),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_tenant_charge_periods_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["tenant_agreements.id"],
            name=op.f("fk_tenant_charge_periods_agreement_id_tenant_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charges.id"], name=op.f("fk_tenant_charge_periods_charge_id_charges")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_charge_periods")),
    )
    op.create_index(
        "uq_tenant_charge_periods_once",
        "tenant_charge_periods",
        ["agreement_id", "kind", "period_start"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_tenant_charge_periods_once", table_name="tenant_charge_periods")
    op.drop_table("tenant_charge_periods")
