"""The occupancy figure for the trustees' reports (``reports.occupancy``): month by month, the
share of the lettable floor area let on the month's first day, and the yearly rent roll then.

Lettable: every unit not taken out of use. Let: held on the 1st by an agreement in force then
(``units.live_on``). The rent roll counts each such agreement's rent in force that day (the latest
rent review on or before it with its new rent set). One query per figure for the whole period,
grouped by month in the database: the cost does not grow with the number of months' rows read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from tenants.models import Agreement, RentReview, Unit, agreement_units
from tenants.services.units import live_on

CENT = Decimal("0.01")


@dataclass(frozen=True)
class OccupancyMonth:
    month: date
    lettable_area_m2: Decimal
    let_area_m2: Decimal
    share_bp: int
    rent_roll_pence: int


def months_between(first: date, last: date) -> list[date]:
    """The first day of every calendar month overlapping [first, last]."""
    months: list[date] = []
    day = first.replace(day=1)
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _area(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    # SQLite sums in floating point; two places are exact after rounding.
    return (
        Decimal(str(round(float(value), 2))).quantize(CENT)
        if isinstance(value, float)
        else Decimal(value).quantize(CENT)
    )


def share_bp(let: Decimal, lettable: Decimal) -> int:
    """let / lettable in basis points, rounded half-up; 0 when nothing is lettable."""
    let_cents, lettable_cents = int(let * 100), int(lettable * 100)
    if lettable_cents <= 0:
        return 0
    return (let_cents * 10_000 * 2 + lettable_cents) // (2 * lettable_cents)


async def occupancy(db: AsyncSession, settings: Settings, first: date, last: date) -> list[OccupancyMonth]:
    months = months_between(first, last)
    if not months:
        return []
    calendar = union_all(*(select(literal(month, Date).label("day")) for month in months)).cte("months")
    day = calendar.c.day

    lettable = _area(await db.scalar(select(func.sum(Unit.area_m2)).where(Unit.out_of_use.is_(False))))

    # Each unit once a day, however it came to be held (the rules allow one holder; this is sure).
    held = (
        select(day.label("day"), Unit.id.label("unit_id"), Unit.area_m2.label("area"))
        .select_from(calendar)
        .join(Agreement, live_on(day))
        .join(agreement_units, agreement_units.c.agreement_id == Agreement.id)
        .join(Unit, Unit.id == agreement_units.c.unit_id)
        .where(Unit.out_of_use.is_(False))
        .distinct()
        .subquery()
    )
    let_by_day = {
        row_day: _area(area)
        for row_day, area in (
            await db.execute(select(held.c.day, func.sum(held.c.area)).group_by(held.c.day))
        ).all()
    }

    reviewed = (
        select(RentReview.new_rent_pence_per_year)
        .where(
            RentReview.agreement_id == Agreement.id,
            RentReview.review_date <= day,
            RentReview.new_rent_pence_per_year.is_not(None),
        )
        .order_by(RentReview.review_date.desc(), RentReview.id.desc())
        .limit(1)
        .correlate(Agreement, calendar)
        .scalar_subquery()
    )
    rent_query = (
        select(day, func.sum(func.coalesce(reviewed, Agreement.rent_pence_per_year)))
        .select_from(calendar)
        .join(Agreement, live_on(day))
        .group_by(day)
    )
    rent_by_day = {row_day: int(total or 0) for row_day, total in (await db.execute(rent_query)).all()}

    def key(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    let_by_day = {key(k): v for k, v in let_by_day.items()}
    rent_by_day = {key(k): v for k, v in rent_by_day.items()}
    rows = []
    for month in months:
        let = let_by_day.get(month, Decimal("0.00"))
        rows.append(
            OccupancyMonth(
                month=month,
                lettable_area_m2=lettable,
                let_area_m2=let,
                share_bp=share_bp(let, lettable),
                rent_roll_pence=rent_by_day.get(month, 0),
            )
        )
    return rows
