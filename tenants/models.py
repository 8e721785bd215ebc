"""Tenants' tables: lettable units, agreements with their units, break dates and rent reviews.

Statuses and kinds are plain strings with CHECK constraints (as in the core). A unit's status is
never stored: it is derived from the live agreements covering it (``tenants.services.units``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from hub.db import Base, BigIntPK, UTCDateTime, utcnow
from hub.models import one_of


class UnitKind(enum.StrEnum):
    OFFICE = "office"
    DESK = "desk"
    STORAGE = "storage"


class UnitStatus(enum.StrEnum):
    AVAILABLE = "available"
    LET = "let"
    UNAVAILABLE = "unavailable"


class AgreementKind(enum.StrEnum):
    LICENCE = "licence"
    LEASE = "lease"


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    NOTICE_GIVEN = "notice_given"
    ENDED = "ended"


# Agreements that hold their units (and bill): a draft holds nothing yet, an ended one no longer.
LIVE_AGREEMENT_STATUSES = (AgreementStatus.ACTIVE.value, AgreementStatus.NOTICE_GIVEN.value)
# Agreements that may not overlap another on the same unit: a draft is a promise being written.
HOLDING_STATUSES = (
    AgreementStatus.DRAFT.value,
    AgreementStatus.ACTIVE.value,
    AgreementStatus.NOTICE_GIVEN.value,
)


class Frequency(enum.StrEnum):
    MONTHLY = "monthly"  # on the 1st of each month
    QUARTERLY = "quarterly"  # on the English quarter days: 25 Mar, 24 Jun, 29 Sep, 25 Dec


class Area(TypeDecorator[Decimal]):
    """Square metres to two places, answered as a Decimal on both databases.

    SQLite has no decimal type; reading through floats (``asdecimal=False``) and rounding back to
    two places is exact at this precision, and avoids SQLAlchemy's warning."""

    impl = Numeric(9, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01")) if dialect.name != "sqlite" else float(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.01"))


class Unit(Base):
    """A lettable unit: an office, a desk or a storage space."""

    __tablename__ = "tenant_units"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    floor: Mapped[str] = mapped_column(String(50), default="")
    area_m2: Mapped[Decimal] = mapped_column(Area)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Taken out of use by hand (repairs, the hub's own use): "unavailable" whatever the agreements.
    out_of_use: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        one_of("kind", UnitKind),
        CheckConstraint("area_m2 >= 0", name="area_not_negative"),
    )


agreement_units = Table(
    "tenant_agreement_units",
    Base.metadata,
    Column("agreement_id", BigIntPK, ForeignKey("tenant_agreements.id"), primary_key=True),
    Column("unit_id", BigIntPK, ForeignKey("tenant_units.id"), primary_key=True, index=True),
)


class Agreement(Base):
    """A licence or lease between the hub and a tenant organisation for one or more units."""

    __tablename__ = "tenant_agreements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AgreementStatus.DRAFT.value)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # None: rolling, ended by notice
    notice_months: Mapped[int | None] = mapped_column(Integer)
    rent_pence_per_year: Mapped[int] = mapped_column(BigIntPK)
    service_charge_pence_per_year: Mapped[int] = mapped_column(BigIntPK, default=0)
    frequency: Mapped[str] = mapped_column(String(16))
    rent_free_start: Mapped[date | None] = mapped_column(Date)
    rent_free_end: Mapped[date | None] = mapped_column(Date)  # inclusive
    discount_bp: Mapped[int] = mapped_column(Integer, default=0)
    discount_reason: Mapped[str | None] = mapped_column(String(200))
    deposit_pence: Mapped[int] = mapped_column(BigIntPK, default=0)
    deposit_received_on: Mapped[date | None] = mapped_column(Date)
    deposit_returned_on: Mapped[date | None] = mapped_column(Date)
    deposit_kept_pence: Mapped[int] = mapped_column(BigIntPK, default=0)
    deposit_kept_on: Mapped[date | None] = mapped_column(Date)
    deposit_note: Mapped[str | None] = mapped_column(Text)
    permitted_use: Mapped[str] = mapped_column(Text, default="")
    insurance_expires_on: Mapped[date | None] = mapped_column(Date)
    included_minutes_per_month: Mapped[int] = mapped_column(Integer, default=0)
    # The day it was activated (None: never in force, e.g. a draft ended before signing). With the
    # dates, it says which agreements held their units on a day, past ones included.
    activated_on: Mapped[date | None] = mapped_column(Date)
    notice_given_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("tenant_agreements.id"))
    document_stored_name: Mapped[str | None] = mapped_column(String(100))
    document_filename: Mapped[str | None] = mapped_column(String(255))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary=agreement_units, lazy="selectin", order_by=Unit.name)
    breaks: Mapped[list[AgreementBreak]] = relationship(
        lazy="selectin", order_by="AgreementBreak.break_date", viewonly=True
    )
    reviews: Mapped[list[RentReview]] = relationship(
        lazy="selectin", order_by="RentReview.review_date", viewonly=True
    )

    __table_args__ = (
        one_of("kind", AgreementKind),
        one_of("status", AgreementStatus),
        one_of("frequency", Frequency),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint(
            "rent_pence_per_year >= 0 AND service_charge_pence_per_year >= 0 AND deposit_pence >= 0 "
            "AND deposit_kept_pence >= 0 AND included_minutes_per_month >= 0",
            name="not_negative",
        ),
        CheckConstraint("discount_bp >= 0 AND discount_bp <= 10000", name="discount_range"),
        CheckConstraint("notice_months IS NULL OR notice_months >= 0", name="notice_not_negative"),
        CheckConstraint(
            "(rent_free_start IS NULL) = (rent_free_end IS NULL)", name="rent_free_both_or_neither"
        ),
        Index("ix_tenant_agreements_status_dates", "status", "start_date", "end_date"),
    )


class AgreementBreak(Base):
    """A date either side may end the agreement early, given ``notice_days``' notice."""

    __tablename__ = "tenant_agreement_breaks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("tenant_agreements.id"), index=True)
    break_date: Mapped[date] = mapped_column(Date)
    notice_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("notice_days >= 0", name="notice_not_negative"),)


class RentReview(Base):
    """A rent review: a fixed uplift (computed when recorded) or an index applied by hand."""

    __tablename__ = "tenant_rent_reviews"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("tenant_agreements.id"), index=True)
    review_date: Mapped[date] = mapped_column(Date)
    uplift_bp: Mapped[int | None] = mapped_column(Integer)
    index_name: Mapped[str | None] = mapped_column(String(100))
    new_rent_pence_per_year: Mapped[int | None] = mapped_column(BigIntPK)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("uplift_bp IS NULL OR uplift_bp >= 0", name="uplift_not_negative"),
        CheckConstraint(
            "new_rent_pence_per_year IS NULL OR new_rent_pence_per_year >= 0", name="rent_not_negative"
        ),
    )


class TenantChargePeriod(Base):
    """One period of one kind charged for an agreement (rent, service charge, or the meeting-room
    hours beyond its allowance for a month). The unique key is what makes a period charged once,
    however many billing runs meet it at once: the run inserts this row first, in the same
    transaction as the charge, and a second insert for the same period fails and is rolled back."""

    __tablename__ = "tenant_charge_periods"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("tenant_agreements.id"))
    kind: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # None: nothing to charge for the period (wholly rent-free, or no hours beyond the allowance).
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charges.id"))
    amount_pence: Mapped[int] = mapped_column(BigIntPK, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("uq_tenant_charge_periods_once", "agreement_id", "kind", "period_start", unique=True),
        CheckConstraint("kind IN ('rent', 'service_charge', 'allowance')", name="kind_allowed"),
        CheckConstraint("period_end >= period_start", name="ends_after_start"),
    )
