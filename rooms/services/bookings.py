"""Bookings: make, change, confirm, cancel, check in, and the bookings in a time span. No two
live bookings ever overlap in a room (:mod:`rooms.services.occurrences` keeps that guarantee);
what a viewer sees of each is :mod:`rooms.services.visibility`'s business.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity
from hub.config import Settings
from hub.db import utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.modules import Registry
from hub.queries import get_or_404
from hub.services import audit
from rooms import mail as rooms_mail
from rooms.models import Booking, BookingStatus, live_at
from rooms.schemas import BookingCreate, BookingUpdate
from rooms.services import series as series_service
from rooms.services.charges import post_booking_charges
from rooms.services.localtime import instant
from rooms.services.occurrences import (
    MAX_BOOKING,
    apply_changes,
    apply_price,
    busy_span,
    cancel_bookings,
    check_opening_hours,
    check_parts,
    check_times,
    clash_problem,
    find_clashes,
    flush_or_conflict,
    hold_expired_text,
    occupy,
    sweep_holds_in_the_way,
)
from rooms.services.pricing import hire_price
from rooms.services.rooms import RoomMap
from rooms.services.self_booking import check_tenant_request, check_tenant_room, is_tenant
from rooms.services.visibility import may_open

# --- one-off bookings ---------------------------------------------------------------------------


async def get_booking(
    db: AsyncSession, viewer: Identity, booking_id: int, *, for_change: bool = False
) -> Booking:
    """A booking the viewer may see; another organisation's private booking is not disclosed.
    ``for_change``: staff may change any booking; nobody else any (404)."""
    booking = await get_or_404(db, Booking, booking_id, "That booking")
    if (for_change and viewer.role not in STAFF) or not may_open(viewer, booking):
        raise NotFound("That booking was not found.")
    return booking


async def get_own_booking(db: AsyncSession, viewer: Identity, booking_id: int) -> Booking:
    """A booking of the viewer's own organisation (a tenant's), any other answering 404 as if it
    did not exist; staff get any booking."""
    booking = await get_or_404(db, Booking, booking_id, "That booking")
    if viewer.role not in STAFF and (
        viewer.organisation_id is None or booking.organisation_id != viewer.organisation_id
    ):
        raise NotFound("That booking was not found.")
    return booking


async def create_booking(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    data: BookingCreate,
    *,
    registry: Registry | None = None,
) -> Booking:
    """Refused (409, with the clashing times) if it overlaps a live booking, buffers included.

    ``registry`` (the app's) lets an allowance price the hire (:func:`hire_price`). A tenant books
    for its own organisation only, a ``tenant_bookable`` room, confirmed, inside opening hours,
    with no staff override (:mod:`rooms.services.self_booking`)."""
    check_tenant_request(actor, data, organisation_id=data.organisation_id)
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
    check_tenant_room(actor, room)
    setup = room.setup_minutes if data.setup_minutes is None else data.setup_minutes
    cleardown = room.cleardown_minutes if data.cleardown_minutes is None else data.cleardown_minutes
    override_problem = await check_opening_hours(
        db, settings, actor, start, end, override=data.override_opening_hours, reason=data.override_reason
    )
    price = await hire_price(db, registry, room, parts.band, parts.organisation.id, start, end)
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
    # Written with the booking (a hold gets its invitation when it is confirmed).
    await rooms_mail.booking_message(db, settings, actor, booking, "booking_confirmed")
    await db.commit()
    return booking


# Fields an edit may set as given; the rest (times, room, price, status) have rules of their own.
async def update_booking(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    booking_id: int,
    data: BookingUpdate,
    *,
    registry: Registry | None = None,
) -> Booking:
    booking = await get_booking(db, actor, booking_id, for_change=True)
    if booking.status == BookingStatus.CANCELLED.value:
        raise RuleViolation("a cancelled booking cannot be changed; make a new one", field="status")
    zone = settings.zone
    new_start = instant(data.start, zone, field="start") if data.start is not UNSET else None
    new_end = instant(data.end, zone, field="end") if data.end is not UNSET else None
    if (new_start is None) != (new_end is None):
        new_start = new_start or booking.start_at
        new_end = new_end or booking.end_at
    before = (booking.start_at, booking.end_at, booking.room_id)
    whole_series = booking.series_id is not None and data.scope != "this"
    if whole_series:
        await series_service.update_scope(
            db, settings, actor, booking, data, new_start, new_end, registry=registry
        )
    else:
        await apply_changes(
            db,
            settings,
            actor,
            [booking],
            data,
            new_start=new_start,
            new_end=new_end,
            mark_exceptions=True,
            registry=registry,
        )
    if (booking.start_at, booking.end_at, booking.room_id) != before:
        # Moved (a new time or room): the contact's calendar is told, in the same transaction.
        if whole_series and booking.series_id is not None:
            series = await series_service.get_series(db, booking.series_id)
            occurrences = await series_service.series_bookings(db, series.id)
            await rooms_mail.series_message(db, settings, actor, series, "series_changed", occurrences)
        else:
            await rooms_mail.booking_message(db, settings, actor, booking, "booking_moved", before=before)
    await db.commit()
    await db.refresh(booking)
    return booking


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
    # A tenant cancels its own organisation's bookings; another's answers 404 (staff: any).
    booking = (
        await get_own_booking(db, actor, booking_id)
        if is_tenant(actor)
        else await get_booking(db, actor, booking_id, for_change=True)
    )
    if not reason.strip():
        raise InvalidInput("say why it is cancelled", field="reason")
    if booking.status == BookingStatus.CANCELLED.value and scope == "this":
        raise Conflict("this booking is already cancelled", field="status")
    if waive_fee and actor.role not in STAFF:
        raise RuleViolation("only staff can waive a cancellation fee", field="waive_fee")
    targets = [booking]
    if booking.series_id is not None and scope != "this":
        targets = await series_service.occurrences_in_scope(db, booking, scope)
    invited = [b for b in targets if b.status == BookingStatus.CONFIRMED.value]
    await cancel_bookings(db, settings, actor, targets, reason.strip(), waive_fee=waive_fee)
    await rooms_mail.cancelled_message(db, settings, actor, invited, reason.strip())
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
    await rooms_mail.booking_message(db, settings, actor, booking, "booking_confirmed")
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
