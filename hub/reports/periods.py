"""The period a report covers: a month, a quarter or a financial year, or custom dates.

Periods are building-local days, first and last inclusive. The database is asked with UTC
instants: local midnight at the start of ``first`` to local midnight after ``last``, worked out
here in the building's zone (so a month with a clock change has its 743 or 745 hours), because
SQLite and PostgreSQL do dates differently and neither knows the building's zone alike.

A period's key is what the picker sends: ``2026-10`` (a month), ``FY2026`` (the financial year
that starts in 2026), ``FY2026-Q3`` (its third quarter), or ``custom`` with ``from`` and ``to``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hub.config import Settings
from hub.errors import InvalidInput
from hub.forms import parse_day

MAX_CUSTOM_DAYS = 3 * 366 + 1
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FY = re.compile(r"^FY(\d{4})(?:-Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year | custom
    key: str
    first: date
    last: date
    label: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def fy_start_year(settings: Settings, day: date) -> int:
    """The calendar year in which the financial year holding ``day`` starts."""
    month, dom = settings.financial_year_start
    return day.year if (day.month, day.day) >= (month, dom) else day.year - 1


def fy_label(settings: Settings, start_year: int) -> str:
    month, dom = settings.financial_year_start
    if (month, dom) == (1, 1):
        return str(start_year)
    return f"{start_year}–{(start_year + 1) % 100:02d}"


def financial_year(settings: Settings, start_year: int) -> Period:
    month, dom = settings.financial_year_start
    first = date(start_year, month, dom)
    last = add_months(first, 12) - timedelta(days=1)
    return Period("year", f"FY{start_year}", first, last, f"Financial year {fy_label(settings, start_year)}")


def quarter(settings: Settings, start_year: int, number: int) -> Period:
    year = financial_year(settings, start_year)
    first = add_months(year.first, 3 * (number - 1))
    last = add_months(year.first, 3 * number) - timedelta(days=1)
    return Period(
        "quarter",
        f"FY{start_year}-Q{number}",
        first,
        last,
        f"Q{number} of {fy_label(settings, start_year)} ({_span(first, last)})",
    )


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    last = add_months(first, 1) - timedelta(days=1)
    return Period("month", f"{year}-{number:02d}", first, last, first.strftime("%B %Y"))


def custom(first: date, last: date) -> Period:
    return Period("custom", "custom", first, last, _span(first, last))


def _span(first: date, last: date) -> str:
    return f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}"


def parse(
    settings: Settings, key: str | None, from_text: str | None = None, to_text: str | None = None
) -> Period:
    """The period the picker (or an API caller) asked for; none: the financial year to date's
    whole year. Bad input is an :class:`InvalidInput` naming the field."""
    raw = (key or "").strip()[:40]
    if not raw:
        if from_text or to_text:
            raw = "custom"
        else:
            return financial_year(settings, fy_start_year(settings, settings.today()))
    if raw == "custom":
        first = parse_day((from_text or "")[:40], "from")
        last = parse_day((to_text or "")[:40], "to")
        assert first is not None and last is not None
        if not date(2000, 1, 1) <= first <= date(2100, 12, 31):
            raise InvalidInput("Choose a date between 2000 and 2100.", field="from")
        if last < first:
            raise InvalidInput("The last day must not be before the first.", field="to")
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise InvalidInput("Choose at most three years.", field="to")
        return custom(first, last)
    found = _MONTH.match(raw)
    if found:
        year, number = int(found.group(1)), int(found.group(2))
        if not 1 <= number <= 12 or not 2000 <= year <= 2100:
            raise InvalidInput("Choose a month such as 2026-10.", field="period")
        return month(year, number)
    found = _FY.match(raw)
    if found:
        year = int(found.group(1))
        if not 2000 <= year <= 2100:
            raise InvalidInput("Choose a financial year between 2000 and 2100.", field="period")
        if found.group(2):
            return quarter(settings, year, int(found.group(2)))
        return financial_year(settings, year)
    raise InvalidInput(
        "Choose a month (2026-10), a quarter (FY2026-Q3), a financial year (FY2026) or custom dates.",
        field="period",
    )


def year_before(period: Period) -> tuple[date, date]:
    """The same days a year earlier (29 February becomes the 28th)."""

    def back(day: date) -> date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)

    first, last = back(period.first), back(period.last)
    if period.kind in ("month", "quarter", "year"):  # whole months stay whole (February's end)
        last = add_months(first, _months_in(period)) - timedelta(days=1)
    return first, last


def _months_in(period: Period) -> int:
    return {"month": 1, "quarter": 3, "year": 12}[period.kind]


def months(first: date, last: date) -> list[date]:
    """The first day of every calendar month overlapping ``first``..``last``."""
    out = []
    current = first.replace(day=1)
    while current <= last:
        out.append(current)
        current = add_months(current, 1)
    return out


def local_midnight_utc(settings: Settings, day: date) -> datetime:
    """Local midnight at the start of ``day``, as a UTC instant (midnight always exists in the
    UK: the clocks change at 01:00 and 02:00)."""
    return datetime.combine(day, time(0), tzinfo=settings.zone).astimezone(UTC)


def utc_bounds(settings: Settings, first: date, last: date) -> tuple[datetime, datetime]:
    return local_midnight_utc(settings, first), local_midnight_utc(settings, last + timedelta(days=1))


def month_buckets(settings: Settings, first: date, last: date) -> list[tuple[date, date, date]]:
    """(month, first day, last day) for each month overlapping the period, clipped to it."""
    out = []
    for start in months(first, last):
        end = add_months(start, 1) - timedelta(days=1)
        out.append((start, max(start, first), min(end, last)))
    return out


def choices(settings: Settings, today: date) -> list[tuple[str, str]]:
    """What the picker offers: recent financial years, their quarters and the last 24 months."""
    fy = fy_start_year(settings, today)
    out: list[tuple[str, str]] = []
    for year in range(fy, fy - 4, -1):
        out.append((f"FY{year}", financial_year(settings, year).label))
    for year in range(fy, fy - 2, -1):
        for number in range(4, 0, -1):
            q = quarter(settings, year, number)
            if q.first <= today:
                out.append((q.key, q.label))
    current = today.replace(day=1)
    for back in range(24):
        m = add_months(current, -back)
        out.append((f"{m.year}-{m.month:02d}", m.strftime("%B %Y")))
    return out
