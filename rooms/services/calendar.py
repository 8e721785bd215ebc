"""Opening hours, ad-hoc closures and bank holidays: when a room may be booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from rooms.models import Closure, OpeningHours

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=8)
def _bank_holiday_calendar(spec: str) -> holidays.HolidayBase | None:
    if spec == "none":
        return None
    country, _, subdivision = spec.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


def bank_holiday(settings: Settings, day: date) -> str | None:
    calendar = _bank_holiday_calendar(settings.bank_holidays)
    if calendar is None:
        return None
    name = calendar.get(day)
    return str(name) if name else None


@dataclass(frozen=True, slots=True)
class DayHours:
    day: date
    opens: time | None
    closes: time | None
    closed_reason: str | None

    @property
    def open(self) -> bool:
        return self.opens is not None and self.closed_reason is None


class BuildingCalendar:
    """Opening hours and closures loaded once for a span of days (bounded queries)."""

    def __init__(
        self, settings: Settings, hours: dict[int, tuple[time, time]], closures: dict[date, str]
    ) -> None:
        self.settings = settings
        self.hours = hours
        self.closures = closures

    @classmethod
    async def load(cls, db: AsyncSession, settings: Settings, first: date, last: date) -> BuildingCalendar:
        rows = await db.scalars(select(OpeningHours))
        hours = {row.weekday: (row.opens_local, row.closes_local) for row in rows}
        closures = {
            row.day: row.reason
            for row in await db.scalars(select(Closure).where(Closure.day >= first, Closure.day <= last))
        }
        return cls(settings, hours, closures)

    def day(self, day: date) -> DayHours:
        reason = self.closures.get(day) or bank_holiday(self.settings, day)
        opens_closes = self.hours.get(day.weekday())
        if opens_closes is None:
            return DayHours(day, None, None, reason or f"closed on {WEEKDAYS[day.weekday()]}s")
        return DayHours(day, opens_closes[0], opens_closes[1], reason)

    def problem(self, start_local: datetime, end_local: datetime) -> str | None:
        """Why a booking at these local times is outside opening hours, or None if it is inside."""
        hours = self.day(start_local.date())
        when = start_local.strftime("%a %d %b %Y")
        if not hours.open:
            return f"The building is closed on {when} ({hours.closed_reason})."
        assert hours.opens is not None and hours.closes is not None
        ends_next_day = end_local.date() != start_local.date() and not (
            end_local.date() == start_local.date() + timedelta(days=1) and end_local.time() == time(0)
        )
        end_time = time(23, 59, 59) if end_local.time() == time(0) else end_local.time()
        if ends_next_day or start_local.time() < hours.opens or end_time > hours.closes:
            return (
                f"Outside opening hours: on {when} the building is open "
                f"{hours.opens:%H:%M}–{hours.closes:%H:%M}."
            )
        return None
