"""The trustees' room figures, provided to ``hub.reports`` by name (``reports.utilisation`` and
``reports.impact``; see ``rooms/plugin.py``): read-only, aggregated in the database.

Time is counted as real elapsed time (a booking from midnight to 04:00 on the night the clocks go
forward is three hours), and a combined room's booking counts in each of its parts, so the
utilisation of the building is that of its indivisible rooms. Open hours are the building's
opening hours less closures and bank holidays, for each indivisible room that is bookable.

- Utilisation counts confirmed bookings (no-shows included: the room was held), clipped to the
  period and split by month; by part of day (morning before 12:00, afternoon 12:00–17:00, evening
  from 17:00, all by the local time of the booking's own start day) and by its start's weekday.
- Impact counts sessions held: confirmed, not a no-show, starting in the period and already begun.
- A late cancellation is one cancelled less than ``HUB_LATE_CANCELLATION_HOURS`` before its start.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import BigInteger, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.db import utcnow
from hub.models import Organisation, RateBand
from hub.money import proportion_pence
from hub.reports import (
    PARTS_OF_DAY,
    BandHours,
    CategoryHours,
    Impact,
    KindCount,
    RoomMonth,
    Utilisation,
    WeekdayPart,
)
from hub.reports import sql as rsql
from hub.reports.periods import month_buckets, utc_bounds
from rooms.models import Booking, BookingCategory, BookingStatus, RoomRate
from rooms.services.calendar import BuildingCalendar
from rooms.services.rooms import RoomMap

# Local seconds of the day where each part starts and ends (the evening runs on past midnight).
PART_WINDOWS = {
    "morning": (0, 12 * 3600),
    "afternoon": (12 * 3600, 17 * 3600),
    "evening": (17 * 3600, 10 * rsql.DAY),
}


def _dialect(db: AsyncSession) -> str:
    return db.get_bind().dialect.name


def _clip(a: int, b: int, lo: int, hi: int) -> int:
    return max(0, min(b, hi) - max(a, lo))


async def utilisation(db: AsyncSession, settings: Settings, first: date, last: date) -> Utilisation:
    """Booked hours ÷ open hours per indivisible room and month, by weekday and part of day,
    with no-shows and late cancellations: four queries, whatever the number of bookings."""
    dialect = _dialect(db)
    lo_at, hi_at = utc_bounds(settings, first, last)
    lo, hi = rsql.seconds(lo_at), rsql.seconds(hi_at)
    room_map = await RoomMap.load(db)
    atoms = sorted(
        (
            room
            for room in room_map.rooms.values()
            if not room_map.parts.get(room.id) and room.active and room.bookable
        ),
        key=lambda room: (room.display_order, room.name_key),
    )
    atom_ids = {room.id for room in atoms}
    calendar = await BuildingCalendar.load(db, settings, first, last)
    zone = settings.zone

    # Open seconds: per day in Python (a year is 366 days, not rows), per month and weekday/part.
    buckets = month_buckets(settings, first, last)
    open_by_month: dict[date, int] = defaultdict(int)
    open_by_part: dict[tuple[int, str], int] = defaultdict(int)
    day = first
    while day <= last:
        hours = calendar.day(day)
        if hours.open and hours.opens is not None and hours.closes is not None:
            opens = datetime.combine(day, hours.opens, tzinfo=zone)
            closes = datetime.combine(day, hours.closes, tzinfo=zone)
            open_by_month[day.replace(day=1)] += int(
                (closes.astimezone(UTC) - opens.astimezone(UTC)).total_seconds()
            )
            o = hours.opens.hour * 3600 + hours.opens.minute * 60
            c = hours.closes.hour * 3600 + hours.closes.minute * 60
            for part, (plo, phi) in PART_WINDOWS.items():
                open_by_part[(day.weekday(), part)] += _clip(o, c, plo, phi)
        day += timedelta(days=1)

    start = rsql.epoch(Booking.start_at, dialect)
    end = rsql.epoch(Booking.end_at, dialect)
    in_period = and_(Booking.start_at < hi_at, Booking.end_at > lo_at)
    confirmed = Booking.status == BookingStatus.CONFIRMED.value

    # Each booking's instants as epoch seconds, worked out once per row (a materialised CTE: the
    # sums below read plain integers instead of converting dates in every CASE).
    spans = (
        select(Booking.room_id.label("room_id"), start.label("s"), end.label("e"))
        .where(confirmed, in_period)
        .cte("spans")
        .prefix_with("MATERIALIZED")
    )

    # 1. Booked seconds per room and month (a column per month).
    month_columns = [
        func.coalesce(
            func.sum(
                rsql.overlap(
                    spans.c.s,
                    spans.c.e,
                    rsql.seconds(utc_bounds(settings, b_first, b_last)[0]),
                    rsql.seconds(utc_bounds(settings, b_first, b_last)[1]),
                )
            ),
            0,
        )
        for _, b_first, b_last in buckets
    ]
    booked: dict[tuple[int, date], int] = defaultdict(int)
    for row in (await db.execute(select(spans.c.room_id, *month_columns).group_by(spans.c.room_id))).all():
        for atom in room_map.atoms(int(row[0])):
            for (month, _, _), value in zip(buckets, row[1:], strict=True):
                booked[(atom, month)] += int(value or 0)

    # 2. By weekday and part of day, in local time, clipped to the period.
    changes = rsql.offset_changes(zone, lo_at - timedelta(days=1), hi_at + timedelta(days=1))
    clipped = (
        select(
            spans.c.room_id.label("room_id"),
            rsql.greatest(spans.c.s, literal(lo, BigInteger)).label("cs"),
            rsql.least(spans.c.e, literal(hi, BigInteger)).label("ce"),
        )
        .cte("clipped")
        .prefix_with("MATERIALIZED")
    )
    locals_ = (
        select(
            clipped.c.room_id.label("room_id"),
            rsql.local_seconds(clipped.c.cs, changes).label("loc"),
            (clipped.c.ce - clipped.c.cs).label("dur"),
        )
        .cte("locals")
        .prefix_with("MATERIALIZED")
    )
    second = rsql.second_of_day(locals_.c.loc)
    weekday = rsql.weekday(locals_.c.loc)
    part_columns = [
        func.coalesce(func.sum(rsql.overlap(second, second + locals_.c.dur, plo, phi)), 0)
        for plo, phi in PART_WINDOWS.values()
    ]
    by_part: dict[tuple[int, str], int] = defaultdict(int)
    for row in (
        await db.execute(
            select(locals_.c.room_id, weekday, *part_columns).group_by(locals_.c.room_id, weekday)
        )
    ).all():
        count = len(room_map.atoms(int(row[0])) & atom_ids)
        for part, value in zip(PARTS_OF_DAY, row[2:], strict=True):
            by_part[(int(row[1]), part)] += count * int(value or 0)

    # 3. No-shows and late cancellations among bookings starting in the period.
    starts_in = and_(Booking.start_at >= lo_at, Booking.start_at < hi_at)
    no_shows, no_show_seconds = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(end - start), 0)).where(
                confirmed, Booking.no_show.is_(True), starts_in
            )
        )
    ).one()
    late_window = settings.late_cancellation_hours * 3600
    late, late_seconds = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(end - start), 0)).where(
                Booking.status == BookingStatus.CANCELLED.value,
                Booking.cancelled_at.is_not(None),
                rsql.epoch(Booking.cancelled_at, dialect) > start - literal(late_window, BigInteger),
                starts_in,
            )
        )
    ).one()

    return Utilisation(
        rooms=[
            RoomMonth(room.id, room.name, month, booked.get((room.id, month), 0), open_by_month.get(month, 0))
            for room in atoms
            for month, _, _ in buckets
        ],
        by_weekday_part=[
            WeekdayPart(wd, part, by_part.get((wd, part), 0), open_by_part.get((wd, part), 0) * len(atoms))
            for wd in range(7)
            for part in PARTS_OF_DAY
        ],
        no_shows=int(no_shows),
        no_show_seconds=int(no_show_seconds or 0),
        late_cancellations=int(late),
        late_cancellation_seconds=int(late_seconds or 0),
        late_cancellation_hours=settings.late_cancellation_hours,
    )


async def impact(
    db: AsyncSession, settings: Settings, first: date, last: date, *, now: datetime | None = None
) -> Impact:
    """Sessions held in the period (confirmed, not a no-show, begun by ``now``): hours by
    category, organisations by kind, attendances at check-in, hours by rate band and free, and
    what the hours not at the commercial rate would have cost at the room's commercial hourly
    rate. Five queries."""
    dialect = _dialect(db)
    lo_at, hi_at = utc_bounds(settings, first, last)
    now = now or utcnow()
    held = and_(
        Booking.status == BookingStatus.CONFIRMED.value,
        Booking.no_show.is_(False),
        Booking.start_at >= lo_at,
        Booking.start_at < hi_at,
        Booking.start_at < now,
    )
    seconds = rsql.epoch(Booking.end_at, dialect) - rsql.epoch(Booking.start_at, dialect)
    attended = case((Booking.checked_in_at.is_not(None), func.coalesce(Booking.attendance, 0)), else_=0)
    categories = [
        CategoryHours(slug, label, int(count), int(secs or 0), int(people or 0))
        for slug, label, count, secs, people in (
            await db.execute(
                select(
                    Booking.category,
                    BookingCategory.label,
                    func.count(),
                    func.sum(seconds),
                    func.sum(attended),
                )
                .join(BookingCategory, BookingCategory.slug == Booking.category)
                .where(held)
                .group_by(Booking.category, BookingCategory.label)
                .order_by(func.sum(seconds).desc(), Booking.category)
            )
        ).all()
    ]
    organisations = [
        KindCount(str(kind), int(count))
        for kind, count in (
            await db.execute(
                select(Organisation.kind, func.count(func.distinct(Booking.organisation_id)))
                .join(Organisation, Organisation.id == Booking.organisation_id)
                .where(held)
                .group_by(Organisation.kind)
                .order_by(Organisation.kind)
            )
        ).all()
    ]
    checked_in, attendances = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(func.coalesce(Booking.attendance, 0)), 0)).where(
                held, Booking.checked_in_at.is_not(None)
            )
        )
    ).one()
    band = case((Booking.price_net_pence == 0, literal("free")), else_=Booking.rate_band)
    bands = [
        BandHours(str(code), int(secs or 0), int(net or 0))
        for code, secs, net in (
            await db.execute(
                select(band, func.sum(seconds), func.sum(Booking.price_net_pence))
                .where(held)
                .group_by(band)
                .order_by(band)
            )
        ).all()
    ]
    value_seconds, charged = (
        await db.execute(
            select(
                func.coalesce(func.sum(RoomRate.hourly_pence * seconds), 0),
                func.coalesce(func.sum(Booking.price_net_pence), 0),
            )
            .join(
                RoomRate,
                and_(RoomRate.room_id == Booking.room_id, RoomRate.band == RateBand.COMMERCIAL.value),
            )
            .where(held, Booking.rate_band != RateBand.COMMERCIAL.value)
        )
    ).one()
    commercial_value = proportion_pence(int(value_seconds or 0), 1, 3600)
    return Impact(
        categories=categories,
        organisations=organisations,
        sessions_held=sum(c.sessions for c in categories),
        hours_seconds=sum(c.seconds for c in categories),
        attendances=int(attendances or 0),
        checked_in_sessions=int(checked_in),
        bands=bands,
        commercial_value_pence=commercial_value,
        charged_pence=int(charged or 0),
        discount_pence=commercial_value - int(charged or 0),
    )


async def provided_impact(db: AsyncSession, settings: Settings, first: date, last: date) -> Impact:
    return await impact(db, settings, first, last)


__all__ = ["impact", "provided_impact", "utilisation"]
