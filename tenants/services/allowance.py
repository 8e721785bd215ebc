"""Meeting-room allowances: a tenant's included hours a month, what its bookings use of them.

- **What counts.** The organisation's *confirmed* bookings of rooms marked ``tenant_bookable``
  (a cancelled booking gives its hours back; a provisional hold counts only once confirmed).
- **The month** is the calendar month in the building's time zone: from local midnight on the
  1st to local midnight on the next 1st. A booking across that boundary counts in each month
  only the part inside it.
- **Minutes are real elapsed minutes** (the difference of the UTC instants), so a booking over
  the night the clocks go back counts the hour that repeats, and one over the spring-forward
  night does not count the hour that never happens.
- **Included** minutes are the agreement's ``included_minutes_per_month``: the organisation's
  agreement in force in that month (active, notice given, or ended within it), the latest
  starting if there were two.
- **Beyond the allowance.** A tenant with an allowance books its tenant-bookable rooms with no
  hire charge on the booking (rooms asks :func:`hire_allowance`); the minutes beyond the
  allowance are charged by the monthly billing run, once, for the *previous* (complete) month,
  at each room's ``tenant`` rate pro rata by the minute (:func:`overage_lines`), taking the
  month's bookings in time order (the allowance is used up by the earliest).

Rooms' tables are read here with plain SQL on their columns (tenants stands on rooms' public
API and never imports its models)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Integer, String, and_, column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hub.config import Settings
from hub.db import UTCDateTime
from hub.money import proportion_pence
from rooms import AllowanceAnswer
from tenants.models import Agreement, AgreementStatus

# Rooms' tables, as far as the allowance reads them.
_bookings = table(
    "bookings",
    column("id", Integer),
    column("room_id", Integer),
    column("organisation_id", Integer),
    column("status", String),
    column("start_at", UTCDateTime),
    column("end_at", UTCDateTime),
)
_rooms = table("rooms", column("id", Integer), column("name", String), column("tenant_bookable", Boolean))
_rates = table(
    "room_rates",
    column("room_id", Integer),
    column("band", String),
    column("hourly_pence", Integer),
    column("vat_rate_bp", Integer),
)
CONFIRMED = "confirmed"
TENANT_BAND = "tenant"  # hub.models.RateBand.TENANT
BILLED_STATUSES = (
    AgreementStatus.ACTIVE.value,
    AgreementStatus.NOTICE_GIVEN.value,
    AgreementStatus.ENDED.value,
)


@dataclass(frozen=True)
class AllowanceUsage:
    month: date
    agreement_id: int | None
    included_minutes: int
    used_minutes: int
    left_minutes: int
    over_minutes: int


@dataclass(frozen=True)
class UsedBooking:
    booking_id: int
    room_id: int
    start_at: datetime
    end_at: datetime
    minutes: int  # inside the month


def month_last(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_instants(first: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar month starting ``first`` as UTC instants: local midnight on the 1st to local
    midnight on the next 1st (midnight always exists in Europe/London)."""
    after = month_last(first) + timedelta(days=1)
    return (
        datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC),
        datetime.combine(after, time(0), tzinfo=zone).astimezone(UTC),
    )


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(max(minutes, 0), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


def _zone(settings: Settings | None) -> ZoneInfo:
    return settings.zone if settings is not None else ZoneInfo(Settings.timezone)


async def agreement_for_month(db: AsyncSession, organisation_id: int, first: date) -> Agreement | None:
    """The organisation's agreement in force in the month starting ``first`` (see the module)."""
    last = month_last(first)
    return await db.scalar(
        select(Agreement)
        .where(
            Agreement.organisation_id == organisation_id,
            Agreement.status.in_(BILLED_STATUSES),
            was_in_force(),
            Agreement.start_date <= last,
            _ends_on_or_after(first),
        )
        .order_by(Agreement.start_date.desc(), Agreement.id.desc())
        .limit(1)
    )


def was_in_force() -> ColumnElement[bool]:
    """SQL: not an agreement ended while still a draft (never activated, so never in force)."""
    return or_(Agreement.status != AgreementStatus.ENDED.value, Agreement.activated_on.is_not(None))


def _ends_on_or_after(first: date) -> ColumnElement[bool]:
    """SQL: the agreement's last day (the day it ended, else its end date; none: rolling) is on or
    after ``first``."""
    return or_(
        and_(Agreement.ended_on.is_(None), or_(Agreement.end_date.is_(None), Agreement.end_date >= first)),
        Agreement.ended_on >= first,
    )


async def used_bookings(
    db: AsyncSession,
    organisation_id: int,
    first: date,
    zone: ZoneInfo,
    *,
    exclude_booking_id: int | None = None,
) -> list[UsedBooking]:
    """The organisation's confirmed bookings of tenant-bookable rooms in the month, in time order,
    each with its real minutes inside the month."""
    start, end = month_instants(first, zone)
    query = (
        select(_bookings.c.id, _bookings.c.room_id, _bookings.c.start_at, _bookings.c.end_at)
        .join(_rooms, _rooms.c.id == _bookings.c.room_id)
        .where(
            _bookings.c.organisation_id == organisation_id,
            _bookings.c.status == CONFIRMED,
            _rooms.c.tenant_bookable.is_(True),
            _bookings.c.start_at < end,
            _bookings.c.end_at > start,
        )
        .order_by(_bookings.c.start_at, _bookings.c.id)
    )
    if exclude_booking_id is not None:
        query = query.where(_bookings.c.id != exclude_booking_id)
    found = []
    for booking_id, room_id, start_at, end_at in (await db.execute(query)).all():
        minutes = _minutes_inside(start_at, end_at, start, end)
        found.append(UsedBooking(booking_id, room_id, start_at, end_at, minutes))
    return found


def _covers_month(agreement: Agreement, first: date) -> bool:
    last_day = agreement.ended_on or agreement.end_date
    return (
        agreement.status in BILLED_STATUSES
        and (agreement.status != AgreementStatus.ENDED.value or agreement.activated_on is not None)
        and agreement.start_date <= month_last(first)
        and (last_day is None or last_day >= first)
    )


def _minutes_inside(start_at: datetime, end_at: datetime, start: datetime, end: datetime) -> int:
    seconds = (min(end_at, end) - max(start_at, start)).total_seconds()
    return max(0, int(seconds) // 60)


async def usage(
    db: AsyncSession,
    settings: Settings,
    organisation_id: int,
    month_first: date,
    *,
    agreement: Agreement | None = None,
) -> AllowanceUsage:
    """The month's included, used, left and over minutes for the organisation (see the module):
    included by its agreement in force that month, or by ``agreement`` if given (none if that
    agreement does not cover the month)."""
    first = month_first.replace(day=1)
    if agreement is None:
        agreement = await agreement_for_month(db, organisation_id, first)
    elif not _covers_month(agreement, first):
        agreement = None
    included = agreement.included_minutes_per_month if agreement is not None else 0
    used = sum(b.minutes for b in await used_bookings(db, organisation_id, first, settings.zone))
    return AllowanceUsage(
        month=first,
        agreement_id=agreement.id if agreement is not None else None,
        included_minutes=included,
        used_minutes=used,
        left_minutes=max(0, included - used),
        over_minutes=max(0, used - included),
    )


@dataclass(frozen=True)
class OverageLine:
    vat_rate_bp: int
    minutes: int
    net_pence: int


async def overage_lines(
    db: AsyncSession, settings: Settings, organisation_id: int, first: date, included: int
) -> tuple[list[OverageLine], list[str]]:
    """The minutes of the month beyond ``included``, priced at each room's tenant rate pro rata by
    the minute, one line per VAT rate; and notes on what could not be priced (no tenant rate)."""
    bookings = await used_bookings(db, organisation_id, first, settings.zone)
    room_ids = {b.room_id for b in bookings}
    rates: dict[int, tuple[int, int]] = {}
    names: dict[int, str] = {}
    if room_ids:
        rates = {
            room_id: (int(hourly), int(vat or 0))
            for room_id, hourly, vat in (
                await db.execute(
                    select(_rates.c.room_id, _rates.c.hourly_pence, _rates.c.vat_rate_bp).where(
                        _rates.c.room_id.in_(room_ids), _rates.c.band == TENANT_BAND
                    )
                )
            ).all()
        }
        names = dict(
            (await db.execute(select(_rooms.c.id, _rooms.c.name).where(_rooms.c.id.in_(room_ids)))).all()
        )
    left = included
    by_rate: dict[int, list[int]] = {}
    notes: list[str] = []
    for booking in bookings:
        over = booking.minutes - max(left, 0)
        left -= booking.minutes
        if over <= 0:
            continue
        rate = rates.get(booking.room_id)
        if rate is None:
            notes.append(
                f"{names.get(booking.room_id, 'a room')} has no tenant rate: {over} minutes not charged"
            )
            continue
        hourly, vat = rate
        minutes_and_pence = by_rate.setdefault(vat, [0, 0])
        minutes_and_pence[0] += over
        minutes_and_pence[1] += proportion_pence(hourly, over, 60)
    return [OverageLine(vat, m, p) for vat, (m, p) in sorted(by_rate.items())], notes


def _answer_note(left_after: int, over: int) -> str:
    if over <= 0:
        left = format_minutes(left_after)
        return f"Included in your meeting-room hours: {left} left this month after this booking"
    return (
        f"Included in your meeting-room hours except {format_minutes(over)} beyond them this month, "
        "billed with the monthly billing run at the tenant rate"
    )


async def hire_allowance(
    db: AsyncSession,
    organisation_id: int,
    room_id: int,
    start: datetime,
    end: datetime,
    exclude_booking_id: int | None,
    *,
    settings: Settings | None = None,
) -> AllowanceAnswer | None:
    """Rooms' :data:`rooms.HIRE_ALLOWANCE` question: an organisation whose agreement includes
    meeting-room hours hires tenant-bookable rooms with no charge on the booking; the note says
    what is left this month after it, or how much goes beyond the allowance (charged by the
    monthly run). None: no agreement with hours (rooms prices the booking as usual).
    (Rooms only asks about tenant-bookable rooms; ``room_id`` is not needed to answer.)"""
    zone = _zone(settings)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    first = start_utc.astimezone(zone).date().replace(day=1)
    agreement = await agreement_for_month(db, organisation_id, first)
    if agreement is None or agreement.included_minutes_per_month <= 0:
        return None
    month_start, month_end = month_instants(first, zone)
    used = sum(
        b.minutes
        for b in await used_bookings(db, organisation_id, first, zone, exclude_booking_id=exclude_booking_id)
    )
    this = _minutes_inside(start_utc, end_utc, month_start, month_end)
    included = agreement.included_minutes_per_month
    left_after = included - used - this
    over = min(this, -left_after) if left_after < 0 else 0
    return AllowanceAnswer(note=_answer_note(max(left_after, 0), over))
