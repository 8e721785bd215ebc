"""Rooms, their rates and opening hours, bookings, series, and the occupancy that never overlaps."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    and_,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, BigIntPK, UTCDateTime, utcnow


class BookingStatus(enum.StrEnum):
    PROVISIONAL = "provisional"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


LIVE_STATUSES = (BookingStatus.PROVISIONAL.value, BookingStatus.CONFIRMED.value)


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class VatTreatment(enum.StrEnum):
    EXEMPT = "exempt"
    STANDARD = "standard"
    ZERO = "zero"


FEATURES = {
    "step_free": "Step-free access",
    "hearing_loop": "Hearing loop",
    "sink": "Sink",
    "clinical_couch": "Clinical couch",
    "kitchen": "Kitchen",
    "projector": "Projector",
    "computers": "Computers",
    "sprung_floor": "Sprung floor",
    "private": "Soundproofed / confidential",
}


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    location: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tenants may book it themselves, within opening hours, against their agreement's hours.
    tenant_bookable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cleardown_minutes: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("setup_minutes >= 0 AND cleardown_minutes >= 0", name="buffers_not_negative"),
    )


class RoomPart(Base):
    """A combined room is made of parts: booking the whole blocks each part, and the reverse."""

    __tablename__ = "room_parts"

    whole_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)

    __table_args__ = (CheckConstraint("whole_id <> part_id", name="not_itself"),)


class RoomRate(Base):
    """What a room costs for one rate band. VAT treatment belongs to the rate, never the code."""

    __tablename__ = "room_rates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    band: Mapped[str] = mapped_column(String(32))
    hourly_pence: Mapped[int] = mapped_column(Integer)
    half_day_pence: Mapped[int | None] = mapped_column(Integer)
    day_pence: Mapped[int | None] = mapped_column(Integer)
    minimum_pence: Mapped[int] = mapped_column(Integer, default=0)
    vat_treatment: Mapped[str] = mapped_column(String(16), default=VatTreatment.EXEMPT.value)
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("room_id", "band", name="uq_room_rates_room_band"),
        CheckConstraint("hourly_pence >= 0 AND minimum_pence >= 0", name="not_negative"),
        CheckConstraint("vat_rate_bp >= 0 AND vat_rate_bp <= 10000", name="vat_rate_range"),
    )


class OpeningHours(Base):
    """When the building is open on each weekday (0 = Monday), in the building's local time."""

    __tablename__ = "opening_hours"

    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens_local: Mapped[time] = mapped_column(Time)
    closes_local: Mapped[time] = mapped_column(Time)

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("opens_local < closes_local", name="opens_before_closes"),
    )


class Closure(Base):
    """A day the building is shut besides bank holidays (which come from the holidays package)."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BookingCategory(Base):
    __tablename__ = "booking_categories"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    default_visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Series(Base):
    """A recurring booking: the rule in local wall-clock time, and the template for occurrences."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Rule: freq weekly|monthly; interval; weekdays (0=Mon); monthly by day of month or nth weekday.
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_date_local: Mapped[date] = mapped_column(Date)
    start_time_local: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    until_local: Mapped[date | None] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Original occurrence starts (UTC ISO) that were skipped or cancelled: the series' EXDATEs.
    skipped: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequence: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """One occurrence in one room. Its price is a snapshot taken when it was made or changed."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    # For an occurrence of a series: where the rule put it (its RECURRENCE-ID), even if moved.
    series_original_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_exception: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    public_title: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(ForeignKey("booking_categories.slug"))
    expected_attendance: Mapped[int | None] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cleardown_minutes: Mapped[int] = mapped_column(Integer, default=0)
    outside_hours_override: Mapped[bool] = mapped_column(Boolean, default=False)
    rate_band: Mapped[str] = mapped_column(String(32))
    price_description: Mapped[str] = mapped_column(String(200), default="")
    price_net_pence: Mapped[int] = mapped_column(Integer, default=0)
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    vat_pence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancellation_fee_pence: Mapped[int] = mapped_column(Integer, default=0)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance: Mapped[int | None] = mapped_column(Integer)
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped on every change: calendar clients use it to replace their copy.
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    room: Mapped[Room] = relationship(lazy="joined", innerjoin=True)

    def hold_expired(self, now: datetime) -> bool:
        """A provisional hold past its expiry: gone, whether or not a write has swept it yet."""
        return (
            self.status == BookingStatus.PROVISIONAL.value
            and self.hold_expires_at is not None
            and self.hold_expires_at <= now
        )

    def is_live(self, now: datetime) -> bool:
        """Holds its slot at ``now`` (the Python twin of :func:`live_at`)."""
        return self.status in LIVE_STATUSES and not self.hold_expired(now)

    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint("status IN ('provisional', 'confirmed', 'cancelled')", name="status_allowed"),
        CheckConstraint("visibility IN ('public', 'private')", name="visibility_allowed"),
        CheckConstraint("expected_attendance IS NULL OR expected_attendance >= 0", name="attendance_range"),
        Index("ix_bookings_room_id_start_at", "room_id", "start_at"),
        Index("ix_bookings_start_at", "start_at"),
        # Only holds need sweeping: a partial index keeps the planner off it for date-range reads.
        Index(
            "ix_bookings_provisional_hold_expires_at",
            "hold_expires_at",
            sqlite_where=text("status = 'provisional'"),
            postgresql_where=text("status = 'provisional'"),
        ),
    )


def live_at(now: datetime) -> ColumnElement[bool]:
    """SQL: the booking holds its slot at ``now``: confirmed, or provisional with its hold not yet
    expired. An expired hold is gone from the moment it expires, everywhere bookings are read as
    live; writes sweep it (cancel it and free its occupancy) before they claim its time."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED.value,
        and_(
            Booking.status == BookingStatus.PROVISIONAL.value,
            or_(Booking.hold_expires_at.is_(None), Booking.hold_expires_at > now),
        ),
    )


def hold_expired_at(now: datetime) -> ColumnElement[bool]:
    """SQL: a provisional hold whose expiry has come by ``now`` (the SQL twin of
    :meth:`Booking.hold_expired`): gone from that moment, swept or not. Exactly the provisional
    rows :func:`live_at` does not count as live."""
    return and_(Booking.status == BookingStatus.PROVISIONAL.value, Booking.hold_expires_at <= now)


class RoomOccupancy(Base):
    """The busy time (buffers included) a live booking holds in each indivisible room.

    A combined room's booking holds each of its parts. Rows exist while the booking is live, and
    for an expired hold until a write sweeps it: readers join the booking and ask
    :func:`live_at`. On PostgreSQL an exclusion constraint (migration 0002) forbids two rows for one room
    whose ranges overlap; on SQLite the check and insert run in one write-locked transaction.
    """

    __tablename__ = "room_occupancy"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    busy_start: Mapped[datetime] = mapped_column(UTCDateTime)
    busy_end: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("busy_end > busy_start", name="ends_after_start"),
        Index("ix_room_occupancy_room_id_busy_start", "room_id", "busy_start"),
        Index("ix_room_occupancy_busy_start", "busy_start"),
    )


class FeedToken(Base):
    """A secret calendar address for an organisation's or a person's own bookings.

    Calendar apps cannot sign in, so the URL is the key. The token is derived from a random nonce
    and the server's secret key (so it can be shown again on the owner's page) and looked up by
    its keyed hash; a database copy alone reveals neither.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("kind IN ('organisation', 'user')", name="kind_allowed"),)
