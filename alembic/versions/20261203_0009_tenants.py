"""Tenants: lettable units, agreements, documents, charge periods, deposits

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenant_units",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("floor", sa.String(length=50), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=9, scale=2), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("out_of_use", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('office', 'desk', 'storage')", name=op.f("ck_tenant_units_kind_allowed")),
        sa.CheckConstraint("area_m2 >= 0", name=op.f("ck_tenant_units_area_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_units")),
        sa.UniqueConstraint("name", name=op.f("uq_tenant_units_name")),
    )
    op.create_table(
        "tenant_agreements",
        sa.Column("id", ID, nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("notice_months", sa.Integer(), nullable=True),
        sa.Column("rent_pence_per_year", ID, nullable=False),
        sa.Column("service_charge_pence_per_year", ID, nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("rent_free_start", sa.Date(), nullable=True),
        sa.Column("rent_free_end", sa.Date(), nullable=True),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("discount_reason", sa.String(length=200), nullable=True),
        sa.Column("deposit_pence", ID, nullable=False),
        sa.Column("deposit_received_on", sa.Date(), nullable=True),
        sa.Column("deposit_returned_on", sa.Date(), nullable=True),
        sa.Column("deposit_kept_pence", ID, nullable=False),
        sa.Column("deposit_kept_on", sa.Date(), nullable=True),
        sa.Column("deposit_note", sa.Text(), nullable=True),
        sa.Column("permitted_use", sa.Text(), nullable=False),
        sa.Column("insurance_expires_on", sa.Date(), nullable=True),
        sa.Column("included_minutes_per_month", sa.Integer(), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("notice_given_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("renewal_of_id", ID, nullable=True),
        sa.Column("document_stored_name", sa.String(length=100), nullable=True),
        sa.Column("document_filename", sa.String(length=255), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document_uploaded_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('licence', 'lease')", name=op.f("ck_tenant_agreements_kind_allowed")),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'notice_given', 'ended')",
            name=op.f("ck_tenant_agreements_status_allowed"),
        ),
        sa.CheckConstraint(
            "frequency IN ('monthly', 'quarterly')", name=op.f("ck_tenant_agreements_frequency_allowed")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_tenant_agreements_ends_after_start")
        ),
        sa.CheckConstraint(
            "rent_pence_per_year >= 0 AND service_charge_pence_per_year >= 0 AND deposit_pence >= 0 "
            "AND deposit_kept_pence >= 0 AND included_minutes_per_month >= 0",
            name=op.f("ck_tenant_agreements_not_negative"),
        ),
        sa.CheckConstraint(
            "discount_bp >= 0 AND discount_bp <= 10000", name=op.f("ck_tenant_agreements_discount_range")
        ),
        sa.CheckConstraint(
            "notice_months IS NULL OR notice_months >= 0", name=op.f("ck_tenant_agreements_notice_not_negative")
        ),
        sa.CheckConstraint(
            "(rent_free_start IS NULL) = (rent_free_end IS NULL)",
            name=op.f("ck_tenant_agreements_rent_free_both_or_neither"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_tenant_agreements_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["renewal_of_id"],
            ["tenant_agreements.id"],
            name=op.f("fk_tenant_agreements_renewal_of_id_tenant_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_tenant_agreements_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_agreements")),
        sa.UniqueConstraint("reference", name=op.f("uq_tenant_agreements_reference")),
    )
    with op.batch_alter_table("tenant_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_agreements_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_tenant_agreements_status_dates", ["status", "start_date", "end_date"], unique=False
        )

    op.create_table(
        "tenant_agreement_units",
        sa.Column("agreement_id", ID, nullable=False),
        sa.Column("unit_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["tenant_agreements.id"],
            name=op.f("fk_tenant_agreement_units_agreement_id_tenant_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["tenant_units.id"], name=op.f("fk_tenant_agreement_units_unit_id_tenant_units")
        ),
        sa.PrimaryKeyConstraint("agreement_id", "unit_id", name=op.f("pk_tenant_agreement_units")),
    )
    with op.batch_alter_table("tenant_agreement_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenant_agreement_units_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "tenant_agreement_breaks",
        sa.Column("id", ID, nullable=False),
        sa.Column("agreement_id", ID, nullable=False),
        sa.Column("break_date", sa.Date(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("notice_days >= 0", name=op.f("ck_tenant_agreement_breaks_notice_not_negative")),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["tenant_agreements.id"],
            name=op.f("fk_tenant_agreement_breaks_agreement_id_tenant_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_agreement_breaks")),
    )
    with op.batch_alter_table("tenant_agreement_breaks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_agreement_breaks_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "tenant_rent_reviews",
        sa.Column("id", ID, nullable=False),
        sa.Column("agreement_id", ID, nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("uplift_bp", sa.Integer(), nullable=True),
        sa.Column("index_name", sa.String(length=100), nullable=True),
        sa.Column("new_rent_pence_per_year", ID, nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "uplift_bp IS NULL OR uplift_bp >= 0", name=op.f("ck_tenant_rent_reviews_uplift_not_negative")
        ),
        sa.CheckConstraint(
            "new_rent_pence_per_year IS NULL OR new_rent_pence_per_year >= 0",
            name=op.f("ck_tenant_rent_reviews_rent_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["tenant_agreements.id"],
            name=op.f("fk_tenant_rent_reviews_agreement_id_tenant_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_rent_reviews")),
    )
    with op.batch_alter_table("tenant_rent_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tenant_rent_reviews_agreement_id"), ["agreement_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("tenant_rent_reviews")
    op.drop_table("tenant_agreement_breaks")
    op.drop_table("tenant_agreement_units")
    op.drop_table("tenant_agreements")
    op.drop_table("tenant_units")
