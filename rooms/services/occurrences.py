"""What one-off bookings and series' occurrences share: the checks a booking must pass, its
busy time and the clashes in it, the occupancy rows the database keeps from overlapping, sweeping
expired holds, and an edit or a cancellation applied to several bookings at once.

The no-overlap guarantee is the database's: occupancy rows for each indivisible room, an exclusion
constraint on PostgreSQL, and a write-locked transaction on SQLite (every changing request's
transaction begins with the write lock, so the clash check and the insert cannot interleave).
Both :mod:`rooms.services.bookings` and :mod:`rooms.services.series` build on this module; it
imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from msgspec import UNSET
from sqlalchemy import ColumnElement, delete, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.models import Organisation, RateBand, Role
from hub.modules import Registry
from hub.money import proportion_pence
from hub.services import audit
from rooms.models import (
    LIVE_STATUSES,
    Booking,
    BookingCategory,
    BookingStatus,
    Room,
    RoomOccupancy,
    Series,
    Visibility,
    hold_expired_at,
    live_at,
)
from rooms.schemas import BookingUpdate, Clash
from rooms.services.calendar import BuildingCalendar
from rooms.services.charges import post_booking_charges
from rooms.services.localtime import combine_local
from rooms.services.pricing import Price, hire_price
from rooms.services.rooms import RoomMap, get_room

MAX_BOOKING = timedelta(hours=24)
MAX_BUFFER = timedelta(minutes=240)
# The longest a booking's busy time can be: a lower bound that lets range queries use an index.
MAX_BUSY = MAX_BOOKING + 2 * MAX_BUFFER
MIN_BOOKING = timedelta(minutes=5)
EXCLUSION_CONSTRAINT = "ex_room_occupancy_no_overlap"
HOLD_EXPIRED = "Provisional hold expired"


# --- clashes and occupancy --------------------------------------------------------------------


def busy_span(
    start: datetime, end: datetime, setup_minutes: int, cleardown_minutes: int
) -> tuple[datetime, datetime]:
    return start - timedelta(minutes=setup_minutes), end + timedelta(minutes=cleardown_minutes)


async def find_clashes(
    db: AsyncSession,
    room_map: RoomMap,
    room_id: int,
    busy_start: datetime,
    busy_end: datetime,
    *,
    exclude_booking_ids: set[int] | None = None,
    now: datetime | None = None,
) -> list[Clash]:
    """Busy times of bookings live at ``now`` that overlap, in this room or any room it combines
    with. A hold past its expiry is not a clash, swept or not."""
    query = (
        select(RoomOccupancy.booking_id, RoomOccupancy.busy_start, RoomOccupancy.busy_end, Booking.room_id)
        .join(Booking, Booking.id == RoomOccupancy.booking_id)
        .where(occupancy_overlaps(room_map, room_id, busy_start, busy_end), live_at(now or utcnow()))
        .order_by(RoomOccupancy.busy_start)
    )
    if exclude_booking_ids:
        query = query.where(RoomOccupancy.booking_id.not_in(exclude_booking_ids))
    clashes: dict[int, Clash] = {}
    for booking_id, start, end, other_room in await db.execute(query):
        room = room_map.rooms.get(other_room)
        clashes.setdefault(
            booking_id,
            Clash(room_id=other_room, room=room.name if room else "", busy_start=start, busy_end=end),
        )
    return list(clashes.values())


def occupancy_overlaps(
    room_map: RoomMap, room_id: int, busy_start: datetime, busy_end: datetime
) -> ColumnElement[bool]:
    """SQL on room_occupancy: a row overlapping this busy time in this room or one it combines with."""
    return (
        RoomOccupancy.room_id.in_(room_map.atoms(room_id))
        & (RoomOccupancy.busy_start < busy_end)
        & (RoomOccupancy.busy_start > busy_start - MAX_BUSY)  # lets the range use an index
        & (RoomOccupancy.busy_end > busy_start)
    )


def clash_problem(clashes: list[Clash], settings: Settings) -> Conflict:
    zone = settings.zone
    times = "; ".join(
        f"{c.room} is busy {c.busy_start.astimezone(zone):%a %d %b %H:%M}–{c.busy_end.astimezone(zone):%H:%M}"
        for c in clashes[:5]
    )
    return Conflict(
        f"That time clashes with another booking: {times}.",
        field="start",
        extra={
            "clashes": [
                {
                    "room_id": c.room_id,
                    "room": c.room,
                    "busy_start": c.busy_start.isoformat(),
                    "busy_end": c.busy_end.isoformat(),
                }
                for c in clashes
            ]
        },
    )


def occupy(db: AsyncSession, booking: Booking, room_map: RoomMap) -> None:
    busy_start, busy_end = busy_span(
        booking.start_at, booking.end_at, booking.setup_minutes, booking.cleardown_minutes
    )
    for atom in sorted(room_map.atoms(booking.room_id)):
        db.add(RoomOccupancy(booking_id=booking.id, room_id=atom, busy_start=busy_start, busy_end=busy_end))


async def touch_series(db: AsyncSession, bookings: list[Booking]) -> None:
    """A change to any occurrence changes its series as calendars see it (an EXDATE, an
    override): its SEQUENCE goes up by one for the whole operation, however many it touched."""
    series_ids = {b.series_id for b in bookings if b.series_id is not None}
    if series_ids:
        await db.execute(
            update(Series)
            .where(Series.id.in_(series_ids))
            .values(sequence=Series.sequence + 1, updated_at=utcnow())
        )


async def release(db: AsyncSession, booking_ids: list[int]) -> None:
    if booking_ids:
        await db.execute(delete(RoomOccupancy).where(RoomOccupancy.booking_id.in_(booking_ids)))


def hold_expired_text(booking: Booking, settings: Settings) -> str:
    zone = settings.zone
    expired = booking.hold_expires_at or booking.start_at
    return (
        f"provisional hold for {booking.start_at.astimezone(zone):%a %d %b %Y %H:%M} expired at "
        f"{expired.astimezone(zone):%H:%M on %a %d %b}"
    )


async def sweep_expired_holds(
    db: AsyncSession, now: datetime | None = None, *, where: ColumnElement[bool] | None = None
) -> int:
    """Provisional holds past their expiry (all, or those matching ``where``) are cancelled, not
    deleted, and their occupancy freed. Reads already treat them as gone (:func:`live_at`); a
    write sweeps the ones in its way before it claims their time, inside its own transaction, so
    that PostgreSQL's exclusion constraint, which sees occupancy rows and not expiry, agrees.

    One UPDATE decides which holds this transaction sweeps: a concurrent sweeper of the same
    hold waits for it and then finds it no longer provisional, so each is swept (and audited)
    once."""
    now = now or utcnow()
    query = (
        update(Booking)
        .where(hold_expired_at(now))
        .values(
            status=BookingStatus.CANCELLED.value,
            cancelled_at=now,
            cancel_reason=HOLD_EXPIRED,
            sequence=Booking.sequence + 1,
            updated_at=now,
        )
        .returning(Booking.id, Booking.title, Booking.series_id)
        .execution_options(synchronize_session="fetch")
    )
    if where is not None:
        query = query.where(where)
    expired = (await db.execute(query)).all()
    if not expired:
        return 0
    system = Identity.system("hold expiry")
    for booking_id, title, _series_id in expired:
        audit.record(
            db,
            system,
            "booking.hold_expired",
            "booking",
            booking_id,
            summary=f"Hold expired: {title}",
            changes={"status": ["provisional", "cancelled"]},
        )
    await release(db, [row[0] for row in expired])
    series_ids = {row[2] for row in expired if row[2] is not None}
    if series_ids:
        await db.execute(
            update(Series)
            .where(Series.id.in_(series_ids))
            .values(sequence=Series.sequence + 1, updated_at=now)
        )
    await db.flush()
    return len(expired)


async def sweep_holds_in_the_way(
    db: AsyncSession, room_map: RoomMap, spans: list[tuple[int, datetime, datetime]], now: datetime
) -> int:
    """Sweep the expired holds whose occupancy overlaps any of these (room, busy start, busy end)."""
    if not spans:
        return 0
    overlapping = or_(false(), *(occupancy_overlaps(room_map, *span) for span in spans))
    in_the_way = select(RoomOccupancy.booking_id).where(overlapping)
    return await sweep_expired_holds(db, now, where=Booking.id.in_(in_the_way))


async def flush_or_conflict(
    db: AsyncSession, settings: Settings, checks: list[tuple[int, datetime, datetime]]
) -> None:
    """Flush; if PostgreSQL's exclusion constraint caught a race the check missed, answer 409."""
    try:
        await db.flush()
    except IntegrityError as exc:
        if EXCLUSION_CONSTRAINT not in str(exc.orig):
            raise
        await db.rollback()
        room_map = await RoomMap.load(db)
        clashes: list[Clash] = []
        for room_id, busy_start, busy_end in checks:
            clashes.extend(await find_clashes(db, room_map, room_id, busy_start, busy_end))
        raise clash_problem(clashes, settings) from exc


# --- validation shared by one-off bookings and series ------------------------------------------


@dataclass
class Checked:
    room: Room
    organisation: Organisation
    category: BookingCategory
    visibility: str
    band: RateBand


async def check_parts(
    db: AsyncSession,
    actor: Identity,
    *,
    room_id: int,
    organisation_id: int,
    category: str,
    visibility: Visibility | None,
    band: RateBand | None,
    expected_attendance: int | None,
) -> Checked:
    room = await get_room(db, room_id, field="room_id")
    if not room.active or not room.bookable:
        raise RuleViolation(f"{room.name} is not available for booking", field="room_id")
    organisation = await db.get(Organisation, organisation_id) if is_valid_id(organisation_id) else None
    if organisation is None or not actor.can_see_organisation(organisation.id):
        raise InvalidInput(f"no organisation has id {organisation_id}", field="organisation_id")
    if not organisation.active:
        raise RuleViolation(f"{organisation.name} is archived", field="organisation_id")
    found = await db.get(BookingCategory, category)
    if found is None or not found.active:
        categories = ", ".join(await db.scalars(select(BookingCategory.slug).where(BookingCategory.active)))
        raise InvalidInput(f"unknown category {category!r}; use one of: {categories}", field="category")
    if expected_attendance is not None and expected_attendance > room.capacity:
        raise RuleViolation(
            f"{expected_attendance} people is more than {room.name} holds ({room.capacity})",
            field="expected_attendance",
        )
    # The session keeps only weak references: hold the organisation so that the answer finds its
    # name without a query (and, on SQLite, a second turn for the write lock) after the commit.
    db.info.setdefault("hub_kept", []).append(organisation)
    return Checked(
        room=room,
        organisation=organisation,
        category=found,
        visibility=(visibility.value if visibility else found.default_visibility),
        band=band or RateBand(organisation.default_rate_band),
    )


def check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput("must be after the start", field="end")
    if end - start < MIN_BOOKING:
        raise InvalidInput("a booking lasts at least 5 minutes", field="end")
    if end - start > MAX_BOOKING:
        raise InvalidInput("a booking lasts at most 24 hours; use a series for repeats", field="end")


async def check_opening_hours(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    start: datetime,
    end: datetime,
    *,
    override: bool,
    reason: str,
    calendar: BuildingCalendar | None = None,
) -> str | None:
    """None when inside opening hours; the problem text when outside but overridden by staff."""
    zone = settings.zone
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    calendar = calendar or await BuildingCalendar.load(db, settings, start_local.date(), end_local.date())
    problem = calendar.problem(start_local, end_local)
    if problem is None:
        return None
    if not override:
        raise RuleViolation(problem + " Reception or an admin can override this.", field="start")
    if actor.role not in (Role.ADMIN, Role.RECEPTIONIST):
        raise RuleViolation(
            "only reception or an admin can book outside opening hours", field="override_opening_hours"
        )
    if not reason.strip():
        raise InvalidInput("say why the booking is outside opening hours", field="override_reason")
    return problem


def apply_price(booking: Booking, price: Price) -> None:
    booking.rate_band = price.band.value
    booking.price_description = price.description
    booking.price_net_pence = price.net_pence
    booking.vat_rate_bp = price.vat_rate_bp
    booking.vat_pence = price.vat_pence


SIMPLE_FIELDS = (
    "title",
    "public_title",
    "category",
    "contact_name",
    "contact_email",
    "contact_phone",
    "expected_attendance",
    "visibility",
    "notes",
    "setup_minutes",
    "cleardown_minutes",
)
AUDITED_FIELDS = (*SIMPLE_FIELDS, "room_id", "start_at", "end_at", "price_net_pence", "status")


def _snapshot(booking: Booking) -> dict[str, Any]:
    return {f: getattr(booking, f) for f in AUDITED_FIELDS}


async def apply_changes(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    bookings: list[Booking],
    data: BookingUpdate,
    *,
    new_start: datetime | None,
    new_end: datetime | None,
    mark_exceptions: bool,
    anchor: Booking | None = None,
    registry: Registry | None = None,
) -> None:
    """Apply one edit to several bookings at once: all fit or none change (409 lists the clashes).

    ``new_start``/``new_end`` are the anchor booking's new times (the one the receptionist edited;
    by default the first). Each booking moves by the same number of days and takes the same local
    wall-clock times, so a weekly class moved to 11:00 is at 11:00 every week, across clock changes.
    """
    zone = settings.zone
    now = utcnow()
    for booking in bookings:
        if booking.hold_expired(now):
            problem = f"the {hold_expired_text(booking, settings)}; make a new booking"
            raise RuleViolation(problem, field="status")
    anchor = anchor or bookings[0]
    shift_days = timedelta(0)
    if new_start is not None:
        shift_days = new_start.astimezone(zone).date() - anchor.start_at.astimezone(zone).date()
        if shift_days and len(bookings) > 1:
            raise RuleViolation(
                "a series can change its times but not its day; cancel the following occurrences and book "
                "a new series on the new day",
                field="start",
            )
    room_map = await RoomMap.load(db)
    room_id = data.room_id if data.room_id is not UNSET else None
    if room_id is not None:
        room = await get_room(db, room_id, field="room_id")
        if not room.bookable or not room.active:
            raise RuleViolation(f"{room.name} is not available for booking", field="room_id")
    if data.category is not UNSET:
        found = await db.get(BookingCategory, data.category)
        if found is None or not found.active:
            raise InvalidInput(f"unknown category {data.category!r}", field="category")
    planned: list[tuple[Booking, datetime, datetime, int, int, int]] = []
    for booking in bookings:
        start, end = booking.start_at, booking.end_at
        if new_start is not None and new_end is not None:
            day = start.astimezone(zone).date() + shift_days
            start = combine_local(day, new_start.astimezone(zone).time(), zone, field="start")
            end_day = day + (new_end.astimezone(zone).date() - new_start.astimezone(zone).date())
            end = combine_local(end_day, new_end.astimezone(zone).time(), zone, field="end")
        check_times(start, end)
        target_room = room_id or booking.room_id
        setup = booking.setup_minutes if data.setup_minutes is UNSET else data.setup_minutes
        cleardown = booking.cleardown_minutes if data.cleardown_minutes is UNSET else data.cleardown_minutes
        attendance = (
            booking.expected_attendance if data.expected_attendance is UNSET else data.expected_attendance
        )
        capacity = room_map.rooms[target_room].capacity
        if attendance is not None and attendance > capacity:
            raise RuleViolation(
                f"{attendance} people is more than {room_map.rooms[target_room].name} holds ({capacity})",
                field="expected_attendance",
            )
        planned.append((booking, start, end, target_room, setup, cleardown))
    ids = {b.id for b in bookings}
    clashes: list[Clash] = []
    checks = []
    for booking, start, end, target_room, setup, cleardown in planned:
        if (start, end, target_room, setup, cleardown) != (
            booking.start_at,
            booking.end_at,
            booking.room_id,
            booking.setup_minutes,
            booking.cleardown_minutes,
        ):
            await check_opening_hours(
                db,
                settings,
                actor,
                start,
                end,
                override=data.override_opening_hours,
                reason=data.override_reason,
            )
        busy_start, busy_end = busy_span(start, end, setup, cleardown)
        checks.append((target_room, busy_start, busy_end))
    # Expired holds in the new times are gone: free their occupancy before claiming it.
    await sweep_holds_in_the_way(db, room_map, checks, now)
    for target_room, busy_start, busy_end in checks:
        clashes.extend(
            await find_clashes(
                db, room_map, target_room, busy_start, busy_end, exclude_booking_ids=ids, now=now
            )
        )
    if clashes:
        raise clash_problem(clashes, settings)
    await release(db, sorted(ids))
    for booking, start, end, target_room, setup, cleardown in planned:
        before = _snapshot(booking)
        for field in SIMPLE_FIELDS:
            value = getattr(data, field)
            if value is not UNSET:
                setattr(booking, field, value.value if isinstance(value, Visibility) else value)
        booking.start_at, booking.end_at, booking.room_id = start, end, target_room
        booking.setup_minutes, booking.cleardown_minutes = setup, cleardown
        await db.flush()
        await db.refresh(booking, ["room"])
        if (start, end, target_room) != (before["start_at"], before["end_at"], before["room_id"]):
            price = await hire_price(
                db,
                registry,
                booking.room,
                RateBand(booking.rate_band),
                booking.organisation_id,
                start,
                end,
                exclude_booking_id=booking.id,
            )
            apply_price(booking, price)
        changes = audit.diff(before, _snapshot(booking))
        if changes:
            booking.sequence += 1
            booking.updated_at = now
            if mark_exceptions and booking.series_id is not None:
                booking.is_exception = True
            audit.record(
                db,
                actor,
                "booking.updated",
                "booking",
                booking.id,
                summary=f"Changed {booking.title}",
                changes=changes,
            )
        if booking.status in LIVE_STATUSES:
            occupy(db, booking, room_map)
    await flush_or_conflict(db, settings, checks)
    await touch_series(db, [b for b in bookings if b.sequence > 0 and b.updated_at == now])
    await post_booking_charges(db, settings, actor, bookings, "Booking changed: re-priced")


def cancellation_fee(settings: Settings, booking: Booking, now: datetime) -> int:
    """A confirmed booking cancelled within the notice period owes part of its price."""
    if booking.status != BookingStatus.CONFIRMED.value or booking.start_at <= now:
        return 0
    if booking.start_at - now >= timedelta(hours=settings.late_cancellation_hours):
        return 0
    return proportion_pence(booking.price_net_pence, settings.late_cancellation_fee_percent, 100)


async def cancel_bookings(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    bookings: list[Booking],
    reason: str,
    *,
    waive_fee: bool,
) -> None:
    now = utcnow()
    live = [b for b in bookings if b.status in LIVE_STATUSES]
    for booking in live:
        fee = 0 if waive_fee else cancellation_fee(settings, booking, now)
        previous = booking.status
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = now
        booking.cancelled_by_id = actor.user_id
        booking.cancel_reason = reason
        booking.cancellation_fee_pence = fee
        booking.hold_expires_at = None
        booking.sequence += 1
        booking.updated_at = now
        audit.record(
            db,
            actor,
            "booking.cancelled",
            "booking",
            booking.id,
            summary=f"Cancelled {booking.title}",
            changes={"status": [previous, "cancelled"], "cancellation_fee_pence": [0, fee]},
            reason=reason,
        )
    await release(db, [b.id for b in live])
    await touch_series(db, live)
    await post_booking_charges(db, settings, actor, live, f"Booking cancelled: {reason}")
