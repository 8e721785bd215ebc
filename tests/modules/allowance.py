"""A module known only to the tests that answers rooms' :data:`rooms.HIRE_ALLOWANCE` question, so
rooms' tests of allowance pricing stand without the tenants module.

``allowance_module({organisation_id: minutes})`` gives each organisation named that many included
minutes per calendar month (building time). A booking is covered when the organisation's other
confirmed bookings of tenant-bookable rooms that month, plus this one, fit in them; otherwise the
answer is None and rooms prices the booking as usual. It reads rooms' tables directly, which a
real module would not (tenants asks rooms' services): it is a test double, nothing more.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.modules import Module
from rooms import HIRE_ALLOWANCE, AllowanceAnswer, HireAllowance
from rooms.models import Booking, BookingStatus, Room

ZONE = ZoneInfo("Europe/London")


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}m" if rest else f"{hours}h"


def allowance_module(minutes_by_organisation: dict[int, int]) -> Module:
    """The module; the dict may be changed by the test after the app is made."""

    async def hire_allowance(
        db: AsyncSession,
        organisation_id: int,
        room_id: int,
        start: datetime,
        end: datetime,
        exclude_booking_id: int | None,
    ) -> AllowanceAnswer | None:
        included = minutes_by_organisation.get(organisation_id)
        if included is None:
            return None
        local = start.astimezone(ZONE)
        first = datetime.combine(local.date().replace(day=1), time(0), tzinfo=ZONE)
        after = datetime.combine((first.date() + timedelta(days=32)).replace(day=1), time(0), tzinfo=ZONE)
        query = (
            select(Booking.start_at, Booking.end_at)
            .join(Room, Room.id == Booking.room_id)
            .where(
                Booking.organisation_id == organisation_id,
                Booking.status == BookingStatus.CONFIRMED.value,
                Room.tenant_bookable.is_(True),
                Booking.start_at >= first,
                Booking.start_at < after,
            )
        )
        if exclude_booking_id is not None:
            query = query.where(Booking.id != exclude_booking_id)
        used = sum(int((e - s).total_seconds() // 60) for s, e in (await db.execute(query)).all())
        wanted = int((end - start).total_seconds() // 60)
        if used + wanted > included:
            return None
        return AllowanceAnswer(
            f"within the included hours: {_hours(included - used - wanted)} left this month"
        )

    provider: HireAllowance = hire_allowance
    return Module(name="test_allowance", provides={HIRE_ALLOWANCE: provider})
