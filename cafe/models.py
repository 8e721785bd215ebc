"""The café's tables: the menu (categories, products, modifiers, discounts), tills and their
sessions, sales with their lines and tenders, the pay-it-forward pool's movements, and refunds.

A sale line copies what must never change (the product's name, its price with modifiers, its VAT
rate and the VAT taken), so later menu edits never rewrite history (CONVENTIONS §6).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, BigIntPK, UTCDateTime, utcnow
from hub.models import one_of


class VatKind(enum.StrEnum):
    HOT = "hot"  # hot food and hot drinks: standard-rated, eaten in or taken away
    COLD_FOOD = "cold_food"  # zero-rated to take away, standard-rated eaten in
    STANDARD = "standard"  # always standard-rated (soft drinks, confectionery)
    ZERO = "zero"  # always zero-rated


class PifKind(enum.StrEnum):
    COFFEE = "coffee"
    MEAL = "meal"


class SessionStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SaleStatus(enum.StrEnum):
    COMPLETED = "completed"
    VOIDED = "voided"


class TenderMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    PAY_IT_FORWARD = "pay_it_forward"


class RefundMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"


# The 14 allergens UK food law requires a café to declare, in words.
ALLERGENS: dict[str, str] = {
    "celery": "Celery",
    "cereals_gluten": "Cereals containing gluten",
    "crustaceans": "Crustaceans",
    "eggs": "Eggs",
    "fish": "Fish",
    "lupin": "Lupin",
    "milk": "Milk",
    "molluscs": "Molluscs",
    "mustard": "Mustard",
    "tree_nuts": "Tree nuts",
    "peanuts": "Peanuts",
    "sesame": "Sesame",
    "soya": "Soya",
    "sulphites": "Sulphur dioxide and sulphites",
}

# Notes and coins a cash-up counts, in pence (as the keys of ``counted``).
DENOMINATIONS = (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)


class CafeCategory(Base):
    __tablename__ = "cafe_categories"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CafeProduct(Base):
    __tablename__ = "cafe_products"
    __table_args__ = (
        one_of("vat_kind", VatKind),
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("stock_count IS NULL OR stock_count >= 0", name="stock_not_negative"),
        CheckConstraint("low_stock_at IS NULL OR low_stock_at >= 0", name="low_stock_not_negative"),
        CheckConstraint(
            "pay_it_forward_kind IS NULL OR pay_it_forward_kind IN ('coffee', 'meal')",
            name="pay_it_forward_kind_allowed",
        ),
        Index("ix_cafe_products_category", "category_id", "sort_order"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("cafe_categories.id"))
    short_name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int] = mapped_column(Integer)  # including VAT
    vat_kind: Mapped[str] = mapped_column(String(16))
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    picture_stored_name: Mapped[str | None] = mapped_column(String(100))
    pictogram: Mapped[str | None] = mapped_column(String(100))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    stock_count: Mapped[int | None] = mapped_column(Integer)
    low_stock_at: Mapped[int | None] = mapped_column(Integer)
    pay_it_forward_kind: Mapped[str | None] = mapped_column(String(16))


class CafeModifier(Base):
    __tablename__ = "cafe_modifiers"
    __table_args__ = (CheckConstraint("price_pence >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cafe_products.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    price_pence: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CafeDiscount(Base):
    __tablename__ = "cafe_discounts"
    __table_args__ = (CheckConstraint("percent_bp >= 0 AND percent_bp <= 10000", name="percent_in_range"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    percent_bp: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CafeTill(Base):
    __tablename__ = "cafe_tills"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class TillSession(Base):
    """A till's trading period from the float counted in to the cash counted out. The database
    keeps one open session per till (a partial unique index), whatever two supervisors do."""

    __tablename__ = "cafe_sessions"
    __table_args__ = (
        one_of("status", SessionStatus),
        CheckConstraint("float_pence >= 0", name="float_not_negative"),
        CheckConstraint("counted_cash_pence IS NULL OR counted_cash_pence >= 0", name="counted_not_negative"),
        Index(
            "uq_cafe_sessions_open_per_till",
            "till_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_cafe_sessions_till_opened", "till_id", "opened_at"),
        Index("ix_cafe_sessions_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    till_id: Mapped[int] = mapped_column(ForeignKey("cafe_tills.id"))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_by_label: Mapped[str] = mapped_column(String(254), default="")
    float_pence: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_by_label: Mapped[str] = mapped_column(String(254), default="")
    counted: Mapped[dict[str, int] | None] = mapped_column(JSON)
    counted_cash_pence: Mapped[int | None] = mapped_column(Integer)
    expected_cash_pence: Mapped[int | None] = mapped_column(Integer)
    variance_pence: Mapped[int | None] = mapped_column(Integer)
    variance_reason: Mapped[str] = mapped_column(Text, default="")
    # Set when a sale rung before the close arrived after it (a till that was offline).
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Sale(Base):
    """One basket paid at a till. ``uuid`` is made by the till, so a sale sent twice (a retry after
    a dropped connection) is recorded once; ``content_hash`` tells a resend from a different sale."""

    __tablename__ = "cafe_sales"
    __table_args__ = (
        one_of("status", SaleStatus),
        CheckConstraint("total_pence >= 0", name="total_not_negative"),
        CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
        CheckConstraint("discount_pence >= 0", name="discount_not_negative"),
        CheckConstraint("gift_pence >= 0", name="gift_not_negative"),
        CheckConstraint("change_pence >= 0", name="change_not_negative"),
        Index("ix_cafe_sales_session", "session_id", "status"),
        Index("ix_cafe_sales_rung_at", "rung_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cafe_sessions.id"))
    till_id: Mapped[int] = mapped_column(ForeignKey("cafe_tills.id"))
    rung_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The whole sale: lines (after discount) and gifts into the pay-it-forward pool.
    total_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    discount_code: Mapped[str | None] = mapped_column(String(32))
    discount_label: Mapped[str] = mapped_column(String(100), default="")
    discount_pence: Mapped[int] = mapped_column(Integer, default=0)
    gift_pence: Mapped[int] = mapped_column(Integer, default=0)
    change_pence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=SaleStatus.COMPLETED.value)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_label: Mapped[str] = mapped_column(String(254), default="")
    # Recorded into a session already closed (rung before its close, sent after it).
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(Text, default="")


class SaleLine(Base):
    __tablename__ = "cafe_sale_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_pence >= 0", name="unit_price_not_negative"),
        CheckConstraint("discount_pence >= 0", name="discount_not_negative"),
        CheckConstraint("line_total_pence >= 0", name="total_not_negative"),
        CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
        CheckConstraint("net_pence >= 0", name="net_not_negative"),
        CheckConstraint("line_total_pence = net_pence + vat_pence", name="total_is_net_plus_vat"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("cafe_sales.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("cafe_products.id"))
    short_name: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer)
    eat_in: Mapped[bool] = mapped_column(Boolean, default=False)
    modifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    unit_price_pence: Mapped[int] = mapped_column(Integer)
    discount_pence: Mapped[int] = mapped_column(Integer, default=0)
    line_total_pence: Mapped[int] = mapped_column(Integer)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    pay_it_forward_kind: Mapped[str | None] = mapped_column(String(16))


class Tender(Base):
    __tablename__ = "cafe_tenders"
    __table_args__ = (
        one_of("method", TenderMethod),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("tendered_pence IS NULL OR tendered_pence >= 0", name="tendered_not_negative"),
        CheckConstraint("change_pence >= 0", name="change_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("cafe_sales.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    amount_pence: Mapped[int] = mapped_column(Integer)  # what it pays of the sale (after change)
    tendered_pence: Mapped[int | None] = mapped_column(Integer)
    change_pence: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(64), default="")


class PifMovement(Base):
    """The pay-it-forward pool, in and out: a gift adds units (and the money, held until
    redeemed); a redemption takes them. No name is ever recorded, only the sale."""

    __tablename__ = "cafe_pif_movements"
    __table_args__ = (
        CheckConstraint("kind IN ('coffee', 'meal')", name="kind_allowed"),
        CheckConstraint("units <> 0", name="units_not_zero"),
        CheckConstraint(
            "(units > 0 AND value_pence >= 0) OR (units < 0 AND value_pence <= 0)", name="same_sign"
        ),
        Index("ix_cafe_pif_movements_sale", "sale_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("cafe_sales.id"))
    kind: Mapped[str] = mapped_column(String(16))
    units: Mapped[int] = mapped_column(Integer)  # positive: given; negative: redeemed
    value_pence: Mapped[int] = mapped_column(Integer)


class Refund(Base):
    """Money given back for (part of) a sale, by a supervisor with a reason, in the open session of
    the sale's till (its cash leaves that drawer)."""

    __tablename__ = "cafe_refunds"
    __table_args__ = (
        one_of("method", RefundMethod),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
        Index("ix_cafe_refunds_session", "session_id"),
        Index("ix_cafe_refunds_sale", "sale_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("cafe_sales.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("cafe_sessions.id"))
    method: Mapped[str] = mapped_column(String(16))
    amount_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_label: Mapped[str] = mapped_column(String(254), default="")


class RefundLine(Base):
    __tablename__ = "cafe_refund_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint("vat_pence >= 0", name="vat_not_negative"),
        CheckConstraint("amount_pence = net_pence + vat_pence", name="amount_is_net_plus_vat"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("cafe_refunds.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("cafe_sale_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
