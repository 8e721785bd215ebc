"""Availability: which rooms are free for a time, and a room's free slots across days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import Settings
from hub.db import utcnow
from hub.errors import InvalidInput
from rooms.models import FEATURES, Booking, Room, RoomOccupancy, live_at
from rooms.schemas import FreeRoom, FreeSlot, RoomDay
from rooms.services.calendar import BuildingCalendar
from rooms.services.localtime import combine_local, format_local
from rooms.services.occurrences import MAX_BUSY, busy_span
from rooms.services.rooms import RoomMap

MIN_SLOT = timedelta(minutes=15)


async def _busy_by_atom(
    db: AsyncSession, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Occupancy of bookings live now overlapping a span, by indivisible room: one query for the
    whole building. An expired hold's occupancy, not yet swept, is free time."""
    rows = await db.execute(
        select(RoomOccupancy.room_id, RoomOccupancy.busy_start, RoomOccupancy.busy_end)
        .join(Booking, Booking.id == RoomOccupancy.booking_id)
        .where(
            RoomOccupancy.busy_start < end,
            RoomOccupancy.busy_start > start - MAX_BUSY,
            RoomOccupancy.busy_end > start,
            live_at(utcnow()),
        )
    )
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for room_id, busy_start, busy_end in rows:
        busy.setdefault(room_id, []).append((busy_start, busy_end))
    return busy


async def free_rooms(
    db: AsyncSession,
    settings: Settings,
    *,
    day: date,
    start_time: time,
    end_time: time,
    capacity: int = 0,
    features: list[str] | None = None,
) -> list[FreeRoom]:
    """Rooms with room for ``capacity`` people and every feature asked for, free for the whole span
    (their own setup and cleardown included), inside opening hours."""
    unknown = [f for f in features or [] if f not in FEATURES]
    if unknown:
        raise InvalidInput(f"unknown feature(s): {', '.join(unknown)}", field="features")
    zone = settings.zone
    if end_time <= start_time:
        raise InvalidInput("must be after the start", field="end")
    start = combine_local(day, start_time, zone, field="start")
    end = combine_local(day, end_time, zone, field="end")
    calendar = await BuildingCalendar.load(db, settings, day, day)
    if calendar.problem(start.astimezone(zone), end.astimezone(zone)) is not None:
        return []
    room_map = await RoomMap.load(db)
    busy = await _busy_by_atom(db, start - timedelta(hours=4), end + timedelta(hours=4))
    wanted = set(features or [])
    free = []
    for room in room_map.rooms.values():
        if (
            not room.active
            or not room.bookable
            or room.capacity < capacity
            or not wanted <= set(room.features)
        ):
            continue
        busy_start, busy_end = busy_span(start, end, room.setup_minutes, room.cleardown_minutes)
        if any(
            s < busy_end and busy_start < e for atom in room_map.atoms(room.id) for s, e in busy.get(atom, [])
        ):
            continue
        free.append(
            FreeRoom(
                id=room.id,
                name=room.name,
                capacity=room.capacity,
                features=list(room.features),
                location=room.location,
            )
        )
    return sorted(free, key=lambda r: (r.capacity, r.name))


def _gaps(
    opens: datetime, closes: datetime, busy: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    gaps = []
    cursor = opens
    for busy_start, busy_end in sorted(busy):
        if busy_end <= cursor:
            continue
        if busy_start >= closes:
            break
        if busy_start - cursor >= MIN_SLOT:
            gaps.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
    if closes - cursor >= MIN_SLOT:
        gaps.append((cursor, closes))
    return gaps


async def free_slots(
    db: AsyncSession, settings: Settings, room: Room, first: date, days: int
) -> list[RoomDay]:
    """A room's free time each day (within opening hours, at least 15 minutes long).

    A booking in it needs its setup and cleardown too, so the room's own buffers are taken off."""
    zone = settings.zone
    last = first + timedelta(days=days - 1)
    calendar = await BuildingCalendar.load(db, settings, first, last)
    room_map = await RoomMap.load(db)
    span_start = combine_local(first, time(0), zone)
    span_end = combine_local(last + timedelta(days=1), time(0), zone)
    busy = await _busy_by_atom(db, span_start, span_end)
    mine = [interval for atom in room_map.atoms(room.id) for interval in busy.get(atom, [])]
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        hours = calendar.day(day)
        if not hours.open:
            result.append(
                RoomDay(room_id=room.id, date=day, open=False, closed_reason=hours.closed_reason, free=[])
            )
            continue
        assert hours.opens is not None and hours.closes is not None
        opens = combine_local(day, hours.opens, zone)
        closes = combine_local(day, hours.closes, zone)
        padded = [
            (s - timedelta(minutes=room.cleardown_minutes), e + timedelta(minutes=room.setup_minutes))
            for s, e in mine
        ]
        slots = [
            FreeSlot(start=s, end=e, start_local=format_local(s, zone), end_local=format_local(e, zone))
            for s, e in _gaps(opens, closes, padded)
        ]
        result.append(RoomDay(room_id=room.id, date=day, open=True, closed_reason=None, free=slots))
    return result
