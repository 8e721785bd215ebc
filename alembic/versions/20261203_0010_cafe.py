"""Café: menu, till sessions, sales, refunds, pay-it-forward

The menu (categories, products with allergens, pictures or pictograms, modifiers, discounts), tills
and their sessions (one open per till: a partial unique index on both databases), sales with their
lines (VAT snapshotted), tenders, the pay-it-forward pool's movements and refunds. Quantities are
positive and money never negative, checked by the database.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cafe_categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_categories")),
    )
    op.create_table(
        "cafe_discounts",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "percent_bp >= 0 AND percent_bp <= 10000", name=op.f("ck_cafe_discounts_percent_in_range")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_cafe_discounts")),
    )
    op.create_table(
        "cafe_tills",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_tills")),
        sa.UniqueConstraint("name", name=op.f("uq_cafe_tills_name")),
    )
    op.create_table(
        "cafe_products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("vat_kind", sa.String(length=16), nullable=False),
        sa.Column("allergens", sa.JSON(), nullable=False),
        sa.Column("picture_stored_name", sa.String(length=100), nullable=True),
        sa.Column("pictogram", sa.String(length=100), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("stock_count", sa.Integer(), nullable=True),
        sa.Column("low_stock_at", sa.Integer(), nullable=True),
        sa.Column("pay_it_forward_kind", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "pay_it_forward_kind IS NULL OR pay_it_forward_kind IN ('coffee', 'meal')",
            name=op.f("ck_cafe_products_pay_it_forward_kind_allowed"),
        ),
        sa.CheckConstraint(
            "vat_kind IN ('hot', 'cold_food', 'standard', 'zero')",
            name=op.f("ck_cafe_products_vat_kind_allowed"),
        ),
        sa.CheckConstraint(
            "low_stock_at IS NULL OR low_stock_at >= 0", name=op.f("ck_cafe_products_low_stock_not_negative")
        ),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_cafe_products_price_not_negative")),
        sa.CheckConstraint(
            "stock_count IS NULL OR stock_count >= 0", name=op.f("ck_cafe_products_stock_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["cafe_categories.id"], name=op.f("fk_cafe_products_category_id_cafe_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_products")),
    )
    with op.batch_alter_table("cafe_products", schema=None) as batch_op:
        batch_op.create_index("ix_cafe_products_category", ["category_id", "sort_order"], unique=False)

    op.create_table(
        "cafe_modifiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_cafe_modifiers_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["cafe_products.id"], name=op.f("fk_cafe_modifiers_product_id_cafe_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_modifiers")),
    )
    with op.batch_alter_table("cafe_modifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cafe_modifiers_product_id"), ["product_id"], unique=False)

    op.create_table(
        "cafe_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("till_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("opened_by_label", sa.String(length=254), nullable=False),
        sa.Column("float_pence", sa.Integer(), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("closed_by_label", sa.String(length=254), nullable=False),
        sa.Column("counted", sa.JSON(), nullable=True),
        sa.Column("counted_cash_pence", sa.Integer(), nullable=True),
        sa.Column("expected_cash_pence", sa.Integer(), nullable=True),
        sa.Column("variance_pence", sa.Integer(), nullable=True),
        sa.Column("variance_reason", sa.Text(), nullable=False),
        sa.Column("amended_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cafe_sessions_status_allowed")),
        sa.CheckConstraint(
            "counted_cash_pence IS NULL OR counted_cash_pence >= 0",
            name=op.f("ck_cafe_sessions_counted_not_negative"),
        ),
        sa.CheckConstraint("float_pence >= 0", name=op.f("ck_cafe_sessions_float_not_negative")),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_cafe_sessions_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_cafe_sessions_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["till_id"], ["cafe_tills.id"], name=op.f("fk_cafe_sessions_till_id_cafe_tills")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_sessions")),
    )
    with op.batch_alter_table("cafe_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_cafe_sessions_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_cafe_sessions_till_opened", ["till_id", "opened_at"], unique=False)
        batch_op.create_index(
            "uq_cafe_sessions_open_per_till",
            ["till_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "cafe_sales",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("till_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rung_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("total_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("discount_code", sa.String(length=32), nullable=True),
        sa.Column("discount_label", sa.String(length=100), nullable=False),
        sa.Column("discount_pence", sa.Integer(), nullable=False),
        sa.Column("gift_pence", sa.Integer(), nullable=False),
        sa.Column("change_pence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("by_label", sa.String(length=254), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("voided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('completed', 'voided')", name=op.f("ck_cafe_sales_status_allowed")),
        sa.CheckConstraint("change_pence >= 0", name=op.f("ck_cafe_sales_change_not_negative")),
        sa.CheckConstraint("discount_pence >= 0", name=op.f("ck_cafe_sales_discount_not_negative")),
        sa.CheckConstraint("gift_pence >= 0", name=op.f("ck_cafe_sales_gift_not_negative")),
        sa.CheckConstraint("total_pence >= 0", name=op.f("ck_cafe_sales_total_not_negative")),
        sa.CheckConstraint("vat_pence >= 0", name=op.f("ck_cafe_sales_vat_not_negative")),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_cafe_sales_by_id_users")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["cafe_sessions.id"], name=op.f("fk_cafe_sales_session_id_cafe_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["till_id"], ["cafe_tills.id"], name=op.f("fk_cafe_sales_till_id_cafe_tills")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["users.id"], name=op.f("fk_cafe_sales_voided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_sales")),
        sa.UniqueConstraint("uuid", name=op.f("uq_cafe_sales_uuid")),
    )
    with op.batch_alter_table("cafe_sales", schema=None) as batch_op:
        batch_op.create_index("ix_cafe_sales_rung_at", ["rung_at"], unique=False)
        batch_op.create_index("ix_cafe_sales_session", ["session_id", "status"], unique=False)

    op.create_table(
        "cafe_pif_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("value_pence", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('coffee', 'meal')", name=op.f("ck_cafe_pif_movements_kind_allowed")),
        sa.CheckConstraint(
            "(units > 0 AND value_pence >= 0) OR (units < 0 AND value_pence <= 0)",
            name=op.f("ck_cafe_pif_movements_same_sign"),
        ),
        sa.CheckConstraint("units <> 0", name=op.f("ck_cafe_pif_movements_units_not_zero")),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["cafe_sales.id"], name=op.f("fk_cafe_pif_movements_sale_id_cafe_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_pif_movements")),
    )
    with op.batch_alter_table("cafe_pif_movements", schema=None) as batch_op:
        batch_op.create_index("ix_cafe_pif_movements_sale", ["sale_id"], unique=False)

    op.create_table(
        "cafe_refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("by_label", sa.String(length=254), nullable=False),
        sa.CheckConstraint("method IN ('cash', 'card')", name=op.f("ck_cafe_refunds_method_allowed")),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_cafe_refunds_amount_positive")),
        sa.CheckConstraint("vat_pence >= 0", name=op.f("ck_cafe_refunds_vat_not_negative")),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_cafe_refunds_by_id_users")),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["cafe_sales.id"], name=op.f("fk_cafe_refunds_sale_id_cafe_sales")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["cafe_sessions.id"], name=op.f("fk_cafe_refunds_session_id_cafe_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_refunds")),
    )
    with op.batch_alter_table("cafe_refunds", schema=None) as batch_op:
        batch_op.create_index("ix_cafe_refunds_sale", ["sale_id"], unique=False)
        batch_op.create_index("ix_cafe_refunds_session", ["session_id"], unique=False)

    op.create_table(
        "cafe_sale_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("eat_in", sa.Boolean(), nullable=False),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        sa.Column("unit_price_pence", sa.Integer(), nullable=False),
        sa.Column("discount_pence", sa.Integer(), nullable=False),
        sa.Column("line_total_pence", sa.Integer(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("pay_it_forward_kind", sa.String(length=16), nullable=True),
        sa.CheckConstraint("discount_pence >= 0", name=op.f("ck_cafe_sale_lines_discount_not_negative")),
        sa.CheckConstraint(
            "line_total_pence = net_pence + vat_pence", name=op.f("ck_cafe_sale_lines_total_is_net_plus_vat")
        ),
        sa.CheckConstraint("line_total_pence >= 0", name=op.f("ck_cafe_sale_lines_total_not_negative")),
        sa.CheckConstraint("net_pence >= 0", name=op.f("ck_cafe_sale_lines_net_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cafe_sale_lines_quantity_positive")),
        sa.CheckConstraint("unit_price_pence >= 0", name=op.f("ck_cafe_sale_lines_unit_price_not_negative")),
        sa.CheckConstraint("vat_pence >= 0", name=op.f("ck_cafe_sale_lines_vat_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["cafe_products.id"], name=op.f("fk_cafe_sale_lines_product_id_cafe_products")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["cafe_sales.id"], name=op.f("fk_cafe_sale_lines_sale_id_cafe_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_sale_lines")),
    )
    with op.batch_alter_table("cafe_sale_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cafe_sale_lines_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "cafe_tenders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("tendered_pence", sa.Integer(), nullable=True),
        sa.Column("change_pence", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "method IN ('cash', 'card', 'pay_it_forward')", name=op.f("ck_cafe_tenders_method_allowed")
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_cafe_tenders_amount_positive")),
        sa.CheckConstraint("change_pence >= 0", name=op.f("ck_cafe_tenders_change_not_negative")),
        sa.CheckConstraint(
            "tendered_pence IS NULL OR tendered_pence >= 0",
            name=op.f("ck_cafe_tenders_tendered_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["cafe_sales.id"], name=op.f("fk_cafe_tenders_sale_id_cafe_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_tenders")),
    )
    with op.batch_alter_table("cafe_tenders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cafe_tenders_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "cafe_refund_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "amount_pence = net_pence + vat_pence", name=op.f("ck_cafe_refund_lines_amount_is_net_plus_vat")
        ),
        sa.CheckConstraint("amount_pence >= 0", name=op.f("ck_cafe_refund_lines_amount_not_negative")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cafe_refund_lines_quantity_positive")),
        sa.CheckConstraint("vat_pence >= 0", name=op.f("ck_cafe_refund_lines_vat_not_negative")),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["cafe_refunds.id"], name=op.f("fk_cafe_refund_lines_refund_id_cafe_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["sale_line_id"],
            ["cafe_sale_lines.id"],
            name=op.f("fk_cafe_refund_lines_sale_line_id_cafe_sale_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cafe_refund_lines")),
    )
    with op.batch_alter_table("cafe_refund_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cafe_refund_lines_refund_id"), ["refund_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cafe_refund_lines_sale_line_id"), ["sale_line_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cafe_refund_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cafe_refund_lines_sale_line_id"))
        batch_op.drop_index(batch_op.f("ix_cafe_refund_lines_refund_id"))

    op.drop_table("cafe_refund_lines")
    with op.batch_alter_table("cafe_tenders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cafe_tenders_sale_id"))

    op.drop_table("cafe_tenders")
    with op.batch_alter_table("cafe_sale_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cafe_sale_lines_sale_id"))

    op.drop_table("cafe_sale_lines")
    with op.batch_alter_table("cafe_refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_cafe_refunds_session")
        batch_op.drop_index("ix_cafe_refunds_sale")

    op.drop_table("cafe_refunds")
    with op.batch_alter_table("cafe_pif_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_cafe_pif_movements_sale")

    op.drop_table("cafe_pif_movements")
    with op.batch_alter_table("cafe_sales", schema=None) as batch_op:
        batch_op.drop_index("ix_cafe_sales_session")
        batch_op.drop_index("ix_cafe_sales_rung_at")

    op.drop_table("cafe_sales")
    with op.batch_alter_table("cafe_sessions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_cafe_sessions_open_per_till",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_cafe_sessions_till_opened")
        batch_op.drop_index("ix_cafe_sessions_closed_at")

    op.drop_table("cafe_sessions")
    with op.batch_alter_table("cafe_modifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cafe_modifiers_product_id"))

    op.drop_table("cafe_modifiers")
    with op.batch_alter_table("cafe_products", schema=None) as batch_op:
        batch_op.drop_index("ix_cafe_products_category")

    op.drop_table("cafe_products")
    op.drop_table("cafe_tills")
    op.drop_table("cafe_discounts")
    op.drop_table("cafe_categories")
