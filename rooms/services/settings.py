"""The building's week (opening hours), its closures and the booking categories: admin settings."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput
from hub.services import audit
from rooms.models import BookingCategory, Closure, OpeningHours
from rooms.schemas import CategoryIn, ClosureIn, OpeningHoursIn, clock


async def opening_hours(db: AsyncSession) -> list[OpeningHours]:
    return list(await db.scalars(select(OpeningHours).order_by(OpeningHours.weekday)))


async def set_opening_hours(db: AsyncSession, actor: Identity, data: OpeningHoursIn) -> list[OpeningHours]:
    """Replace the week. Bookings already made are not moved; new ones must fit the new hours."""
    seen: set[int] = set()
    for index, day in enumerate(data.days):
        if day.weekday in seen:
            raise InvalidInput("each weekday may appear once", field=f"days[{index}].weekday")
        seen.add(day.weekday)
        if clock(day.closes) <= clock(day.opens):
            raise InvalidInput("must be after opening time", field=f"days[{index}].closes")
    before = {
        row.weekday: [row.opens_local.isoformat(), row.closes_local.isoformat()]
        for row in await opening_hours(db)
    }
    await db.execute(delete(OpeningHours))
    for day in data.days:
        db.add(
            OpeningHours(weekday=day.weekday, opens_local=clock(day.opens), closes_local=clock(day.closes))
        )
    after = {day.weekday: [clock(day.opens).isoformat(), clock(day.closes).isoformat()] for day in data.days}
    audit.record(
        db,
        actor,
        "opening_hours.set",
        "opening_hours",
        "week",
        summary="Opening hours changed",
        changes=audit.diff({str(k): v for k, v in before.items()}, {str(k): v for k, v in after.items()}),
    )
    await db.commit()
    return await opening_hours(db)


async def closures(db: AsyncSession) -> list[Closure]:
    return list(await db.scalars(select(Closure).order_by(Closure.day)))


async def add_closure(db: AsyncSession, actor: Identity, data: ClosureIn) -> Closure:
    if await db.scalar(select(Closure.id).where(Closure.day == data.day)) is not None:
        raise Conflict("that day is already marked closed", field="day")
    closure = Closure(day=data.day, reason=data.reason.strip(), created_at=utcnow())
    db.add(closure)
    await db.flush()
    audit.record(
        db,
        actor,
        "closure.added",
        "closure",
        closure.id,
        summary=f"Closed {data.day}: {closure.reason}",
        changes={"day": [None, data.day]},
        reason=closure.reason,
    )
    await db.commit()
    return closure


async def categories(db: AsyncSession) -> list[BookingCategory]:
    return list(
        await db.scalars(select(BookingCategory).order_by(BookingCategory.position, BookingCategory.slug))
    )


async def set_category(db: AsyncSession, actor: Identity, data: CategoryIn) -> BookingCategory:
    """Add or change a category. Never deleted (bookings refer to it): retire one with active=false."""
    category = await db.get(BookingCategory, data.slug)
    before = None if category is None else [category.label, category.default_visibility, category.active]
    if category is None:
        position = len(await categories(db))
        category = BookingCategory(slug=data.slug, position=position)
        db.add(category)
    category.label = data.label.strip()
    category.default_visibility = data.default_visibility.value
    category.active = data.active
    audit.record(
        db,
        actor,
        "category.set",
        "booking_category",
        data.slug,
        summary=f"Category {data.slug}",
        changes={"category": [before, [category.label, category.default_visibility, category.active]]},
    )
    await db.commit()
    return category
