"""The price and clash check for a proposed booking: one answer for POST /api/v1/quotes and the
booking form's "Check price and clashes". Writes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.config import Settings
from hub.errors import InvalidInput
from hub.modules import Registry
from rooms.schemas import Quote, QuoteRequest
from rooms.services.calendar import BuildingCalendar
from rooms.services.localtime import instant
from rooms.services.occurrences import busy_span, check_parts, check_times, find_clashes
from rooms.services.pricing import hire_price, price_for
from rooms.services.rooms import RoomMap, get_room
from rooms.services.self_booking import check_tenant_request, check_tenant_room, is_tenant


async def quote(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    data: QuoteRequest,
    *,
    registry: Registry | None = None,
) -> Quote:
    """What the booking would cost (at the given band, or the organisation's own), what it would
    clash with (buffers included, leaving out ``exclude_booking_id``: the booking being moved),
    and whether it is inside opening hours. The same checks as booking it, short of writing.

    With the organisation and the app's ``registry``, an allowance covering the hire (a tenant's
    included hours in a ``tenant_bookable`` room) makes it zero, with its note. A tenant quotes
    only for its own organisation (the default), only rooms it may book, at its own band."""
    organisation_id = data.organisation_id
    if is_tenant(actor):
        organisation_id = organisation_id or actor.organisation_id
        check_tenant_request(actor, data, organisation_id=organisation_id)
    zone = settings.zone
    start = instant(data.start, zone, field="start")
    end = instant(data.end, zone, field="end")
    check_times(start, end)
    room = await get_room(db, data.room_id, field="room_id")
    check_tenant_room(actor, room)
    band = data.band
    if band is None:
        if organisation_id is None:
            raise InvalidInput("give an organisation_id or a band", field="band")
        parts = await check_parts(
            db,
            actor,
            room_id=room.id,
            organisation_id=organisation_id,
            category="other",
            visibility=None,
            band=None,
            expected_attendance=None,
        )
        band = parts.band
    if organisation_id is not None:
        price = await hire_price(
            db, registry, room, band, organisation_id, start, end, exclude_booking_id=data.exclude_booking_id
        )
    else:
        price = await price_for(db, room, band, start, end)
    room_map = await RoomMap.load(db)
    busy_start, busy_end = busy_span(start, end, room.setup_minutes, room.cleardown_minutes)
    exclude = {data.exclude_booking_id} if data.exclude_booking_id else None
    clashes = await find_clashes(db, room_map, room.id, busy_start, busy_end, exclude_booking_ids=exclude)
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    calendar = await BuildingCalendar.load(db, settings, start_local.date(), end_local.date())
    problem = calendar.problem(start_local, end_local)
    return Quote(
        room_id=room.id,
        band=price.band,
        description=price.description,
        net_pence=price.net_pence,
        vat_rate_bp=price.vat_rate_bp,
        vat_pence=price.vat_pence,
        gross_pence=price.gross_pence,
        clashes=clashes,
        within_opening_hours=problem is None,
        opening_hours_problem=problem,
        allowance_note=price.allowance_note,
    )
