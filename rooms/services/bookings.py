"""Bookings: make, change, confirm, cancel, check in. No two live bookings ever overlap in a room.

The guarantee is the database's: occupancy rows for each indivisible room, an exclusion
constraint on PostgreSQL, and a write-locked transaction on SQLite (every changing request's
transaction begins with the write lock, so the clash check and the insert cannot interleave).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from msgspec import UNSET
from sqlalchemy import ColumnElement, delete, false, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState

from hub.auth import STAFF, Identity
from hub.config import Settings
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.models import Organisation, RateBand, Role
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
    live_at,
)
from rooms.schemas import BookingCreate, BookingOut, BookingUpdate, Clash
from rooms.services.calendar import BuildingCalendar
from rooms.services.charges import post_booking_charges
from rooms.services.localtime import format_local, instant
from rooms.services.pricing import Price, price_for
from rooms.services.rooms import RoomMap, get_room

MAX_BOOKING = timedelta(hours=24)
MAX_BUFFER = timedelta(minutes=240)
# The longest a booking's busy time can be: a lower bound that lets range queries use an index.
MAX_BUSY = MAX_BOOKING + 2 * MAX_BUFFER
MIN_BOOKING = timedelta(minutes=5)
PRIVATE_TITLE = "Private booking"
EXCLUSION_CONSTRAINT = "ex_room_occupancy_no_overlap"
HOLD_EXPIRED = "Provisional hold expired"


# --- who sees what ----------------------------------------------------------------------------


def can_see_details(viewer: Identity | None, booking: Booking) -> bool:
    """Staff see everything; an organisation sees its own; others see public bookings' public side."""
    if viewer is None:
        return False
    if viewer.role in STAFF:
        return True
    return viewer.organisation_id is not None and viewer.organisation_id == booking.organisation_id


def booking_out(
    booking: Booking,
    viewer: Identity | None,
    settings: Settings,
    organisation_name: str | None = None,
    room_name: str = "",
) -> BookingOut:
    zone = settings.zone
    full = can_see_details(viewer, booking)
    private = booking.visibility == Visibility.PRIVATE.value and not full
    # A hold past its expiry is shown as what it is, cancelled, before any write has swept it.
    expired = booking.hold_expired(utcnow())
    base: dict[str, Any] = {
        "id": booking.id,
        "room_id": booking.room_id,
        "room": room_name,
        "category": booking.category,
        "visibility": Visibility(booking.visibility),
        "status": BookingStatus.CANCELLED if expired else BookingStatus(booking.status),
        "start": booking.start_at,
        "end": booking.end_at,
        "start_local": format_local(booking.start_at, zone),
        "end_local": format_local(booking.end_at, zone),
        "setup_minutes": booking.setup_minutes,
        "cleardown_minutes": booking.cleardown_minutes,
        "series_id": booking.series_id,
        "is_exception": booking.is_exception,
        "sequence": booking.sequence,
    }
    if private:
        return BookingOut(
            **base,
            organisation_id=None,
            organisation=None,
            title=PRIVATE_TITLE,
            public_title=PRIVATE_TITLE,
            private=True,
        )
    public_title = booking.public_title or booking.title
    if not full:
        # A public booking seen by someone outside the organisation: its public face only.
        return BookingOut(
            **base,
            organisation_id=booking.organisation_id,
            organisation=organisation_name,
            title=public_title,
            public_title=public_title,
            private=False,
        )
    return BookingOut(
        **base,
        organisation_id=booking.organisation_id,
        organisation=organisation_name,
        title=booking.title,
        public_title=public_title,
        private=False,
        contact_name=booking.contact_name,
        contact_email=booking.contact_email,
        contact_phone=booking.contact_phone,
        expected_attendance=booking.expected_attendance,
        notes=booking.notes,
        hold_expires_at=booking.hold_expires_at,
        rate_band=booking.rate_band,
        price_net_pence=booking.price_net_pence,
        vat_rate_bp=booking.vat_rate_bp,
        vat_pence=booking.vat_pence,
        cancel_reason=HOLD_EXPIRED if expired else booking.cancel_reason,
        cancellation_fee_pence=booking.cancellation_fee_pence,
        checked_in_at=booking.checked_in_at,
        attendance=booking.attendance,
        no_show=booking.no_show,
    )


def _names_in_session(
    db: AsyncSession, model: type[Organisation] | type[Room], ids: set[int]
) -> dict[int, str]:
    """Names of objects this session already holds, loaded: a write's answer then needs no new
    transaction after its commit (on SQLite, a second turn for the write lock)."""
    known: dict[int, str] = {}
    for object_id in ids:
        found = db.identity_map.get(db.sync_session.identity_key(model, object_id))
        if isinstance(found, model):
            state: InstanceState[Any] = inspect(found)
            if "name" not in state.unloaded:
                known[object_id] = found.name
    return known


async def organisation_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    names = _names_in_session(db, Organisation, ids)
    missing = ids - names.keys()
    if missing:
        query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(missing))
        names.update(dict((await db.execute(query)).all()))
    return names


async def bookings_out(
    db: AsyncSession, bookings: list[Booking], viewer: Identity | None, settings: Settings
) -> list[BookingOut]:
    names = await organisation_names(db, {b.organisation_id for b in bookings})
    room_ids = {b.room_id for b in bookings}
    rooms = _names_in_session(db, Room, room_ids)
    missing = room_ids - rooms.keys()
    if missing:
        query = select(Room.id, Room.name).where(Room.id.in_(missing))
        rooms.update(dict((await db.execute(query)).all()))
    return [
        booking_out(b, viewer, settings, names.get(b.organisation_id), rooms.get(b.room_id, ""))
        for b in bookings
    ]


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
        .where(Booking.status == BookingStatus.PROVISIONAL.value, Booking.hold_expires_at <= now)
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


# --- one-off bookings ---------------------------------------------------------------------------


async def get_booking(
    db: AsyncSession, viewer: Identity, booking_id: int, *, for_change: bool = False
) -> Booking:
    """A booking the viewer may see; another organisation's private booking is not disclosed."""
    booking = await db.get(Booking, booking_id) if is_valid_id(booking_id) else None
    if booking is None:
        raise NotFound("That booking was not found.")
    if for_change and viewer.role not in STAFF:
        raise NotFound("That booking was not found.")
    if (
        booking.visibility == Visibility.PRIVATE.value
        and not can_see_details(viewer, booking)
        and viewer.role == Role.TENANT
    ):
        raise NotFound("That booking was not found.")
    return booking


async def create_booking(
    db: AsyncSession, settings: Settings, actor: Identity, data: BookingCreate
) -> Booking:
    """Refused (409, with the clashing times) if it overlaps a live booking, buffers included."""
    zone = settings.zone
    start = instant(data.start, zone, field="start")
    end = instant(data.end, zone, field="end")
    check_times(start, end)
    parts = await check_parts(
        db,
        actor,
        room_id=data.room_id,
        organisation_id=data.organisation_id,
        category=data.category,
        visibility=data.visibility,
        band=data.band,
        expected_attendance=data.expected_attendance,
    )
    room = parts.room
    setup = room.setup_minutes if data.setup_minutes is None else data.setup_minutes
    cleardown = room.cleardown_minutes if data.cleardown_minutes is None else data.cleardown_minutes
    override_problem = await check_opening_hours(
        db, settings, actor, start, end, override=data.override_opening_hours, reason=data.override_reason
    )
    price = await price_for(db, room, parts.band, start, end)
    room_map = await RoomMap.load(db)
    busy_start, busy_end = busy_span(start, end, setup, cleardown)
    now = utcnow()
    await sweep_holds_in_the_way(db, room_map, [(room.id, busy_start, busy_end)], now)
    clashes = await find_clashes(db, room_map, room.id, busy_start, busy_end, now=now)
    if clashes:
        raise clash_problem(clashes, settings)
    booking = Booking(
        room_id=room.id,
        organisation_id=parts.organisation.id,
        contact_name=data.contact_name.strip(),
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        title=data.title.strip(),
        public_title=data.public_title.strip(),
        category=parts.category.slug,
        expected_attendance=data.expected_attendance,
        visibility=parts.visibility,
        notes=data.notes,
        status=data.status,
        hold_expires_at=now + timedelta(hours=settings.hold_hours) if data.status == "provisional" else None,
        start_at=start,
        end_at=end,
        setup_minutes=setup,
        cleardown_minutes=cleardown,
        outside_hours_override=override_problem is not None,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        sequence=0,
        is_exception=False,
        no_show=False,
        cancellation_fee_pence=0,
        cancel_reason="",
    )
    apply_price(booking, price)
    db.add(booking)
    await db.flush()
    occupy(db, booking, room_map)
    await flush_or_conflict(db, settings, [(room.id, busy_start, busy_end)])
    audit.record(
        db,
        actor,
        "booking.created",
        "booking",
        booking.id,
        summary=f"{booking.title} in {room.name}, {start.astimezone(zone):%a %d %b %Y %H:%M}",
        changes={
            "status": [None, booking.status],
            "start": [None, start],
            "end": [None, end],
            "room_id": [None, room.id],
            "price_net_pence": [None, price.net_pence],
        },
        reason=f"Outside opening hours: {data.override_reason}" if override_problem else "",
    )
    await post_booking_charges(db, settings, actor, [booking], "Booking made")
    await db.refresh(booking, ["room"])  # callers read booking.room: loaded before the commit
    await db.commit()
    return booking


# Fields an edit may set as given; the rest (times, room, price, status) have rules of their own.
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
            from rooms.services.localtime import combine_local

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
            apply_price(booking, await price_for(db, booking.room, RateBand(booking.rate_band), start, end))
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


async def update_booking(
    db: AsyncSession, settings: Settings, actor: Identity, booking_id: int, data: BookingUpdate
) -> Booking:
    from rooms.services import series as series_service

    booking = await get_booking(db, actor, booking_id, for_change=True)
    if booking.status == BookingStatus.CANCELLED.value:
        raise RuleViolation("a cancelled booking cannot be changed; make a new one", field="status")
    zone = settings.zone
    new_start = instant(data.start, zone, field="start") if data.start is not UNSET else None
    new_end = instant(data.end, zone, field="end") if data.end is not UNSET else None
    if (new_start is None) != (new_end is None):
        new_start = new_start or booking.start_at
        new_end = new_end or booking.end_at
    if booking.series_id is not None and data.scope != "this":
        await series_service.update_scope(db, settings, actor, booking, data, new_start, new_end)
    else:
        await apply_changes(
            db, settings, actor, [booking], data, new_start=new_start, new_end=new_end, mark_exceptions=True
        )
    await db.commit()
    await db.refresh(booking)
    return booking


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


async def cancel_booking(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    booking_id: int,
    *,
    reason: str,
    scope: str,
    waive_fee: bool,
) -> Booking:
    from rooms.services import series as series_service

    booking = await get_booking(db, actor, booking_id, for_change=True)
    if not reason.strip():
        raise InvalidInput("say why it is cancelled", field="reason")
    if booking.status == BookingStatus.CANCELLED.value and scope == "this":
        raise Conflict("this booking is already cancelled", field="status")
    if waive_fee and actor.role not in STAFF:
        raise RuleViolation("only staff can waive a cancellation fee", field="waive_fee")
    targets = [booking]
    if booking.series_id is not None and scope != "this":
        targets = await series_service.occurrences_in_scope(db, booking, scope)
    await cancel_bookings(db, settings, actor, targets, reason.strip(), waive_fee=waive_fee)
    await db.commit()
    await db.refresh(booking)
    return booking


async def confirm_booking(db: AsyncSession, settings: Settings, actor: Identity, booking_id: int) -> Booking:
    """A hold can be confirmed until it expires; after that its slot is free for anyone."""
    booking = await get_booking(db, actor, booking_id, for_change=True)
    if booking.hold_expired(utcnow()):
        raise Conflict(f"this {hold_expired_text(booking, settings)}; make a new booking", field="status")
    if booking.status != BookingStatus.PROVISIONAL.value:
        raise Conflict(
            f"only a provisional booking can be confirmed; this one is {booking.status}", field="status"
        )
    booking.status = BookingStatus.CONFIRMED.value
    booking.hold_expires_at = None
    booking.sequence += 1
    booking.updated_at = utcnow()
    audit.record(
        db,
        actor,
        "booking.confirmed",
        "booking",
        booking.id,
        summary=f"Confirmed {booking.title}",
        changes={"status": ["provisional", "confirmed"]},
    )
    await post_booking_charges(db, settings, actor, [booking], "Booking confirmed")
    await db.commit()
    return booking


async def check_in(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    booking_id: int,
    *,
    attendance: int | None,
    no_show: bool,
) -> Booking:
    """Record the head-count (for funders' figures), or that nobody came."""
    booking = await get_booking(db, actor, booking_id, for_change=True)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise RuleViolation("only a confirmed booking can be checked in", field="status")
    now = utcnow()
    local_today = now.astimezone(settings.zone).date()
    if booking.start_at.astimezone(settings.zone).date() > local_today:
        raise RuleViolation("a booking can be checked in on its day, not before", field="start")
    if attendance is not None and attendance > booking.room.capacity * 2:
        raise InvalidInput(
            f"{attendance} is not a believable head-count for {booking.room.name}", field="attendance"
        )
    before = {"attendance": booking.attendance, "no_show": booking.no_show}
    booking.checked_in_at = None if no_show else now
    booking.attendance = None if no_show else attendance
    booking.no_show = no_show
    booking.updated_at = now
    audit.record(
        db,
        actor,
        "booking.no_show" if no_show else "booking.checked_in",
        "booking",
        booking.id,
        summary=f"{'No-show' if no_show else f'Checked in {attendance} people'}: {booking.title}",
        changes=audit.diff(before, {"attendance": booking.attendance, "no_show": booking.no_show}),
    )
    await db.commit()
    return booking


async def list_bookings(
    db: AsyncSession,
    viewer: Identity | None,
    *,
    start: datetime,
    end: datetime,
    room_ids: set[int] | None = None,
    organisation_id: int | None = None,
    category: str | None = None,
    include_cancelled: bool = False,
    limit: int = 5000,
) -> list[Booking]:
    """Bookings overlapping [start, end), in one query. Who sees what is booking_out's business
    (other organisations' private bookings become "Private booking"), so ``viewer`` may be None.
    ``limit`` bounds a page's work; callers ask for at most a couple of months at a time."""
    query = select(Booking).where(
        Booking.start_at < end, Booking.start_at > start - MAX_BOOKING, Booking.end_at > start
    )
    if room_ids is not None:
        query = query.where(Booking.room_id.in_(room_ids))
    if organisation_id is not None:
        query = query.where(Booking.organisation_id == organisation_id)
    if category is not None:
        query = query.where(Booking.category == category)
    if not include_cancelled:
        # An expired hold is gone from the moment it expires, swept or not (with the cancelled
        # ones, booking_out shows it as cancelled).
        query = query.where(live_at(utcnow()))
    query = query.order_by(Booking.start_at, Booking.room_id, Booking.id).limit(limit)
    return list(await db.scalars(query))


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
