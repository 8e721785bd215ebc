"""The reception desk: the building's day (rooms across, quarter hours down) and one room's week."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from hub.auth import ADMIN_ONLY, STAFF, roles
from hub.deps import Caller, Db, SettingsDep
from hub.forms import parse_date
from hub.models import Role
from hub.web import read_form, redirect, render
from rooms.models import BookingStatus
from rooms.schemas import RoomUpdate
from rooms.services import bookings as booking_service
from rooms.services import rooms as room_service
from rooms.services import visibility
from rooms.services.calendar import BuildingCalendar
from rooms.services.finder import feature_words
from rooms.services.localtime import combine_local
from rooms.services.rooms import RoomMap, get_room
from rooms.views.common import bookable_rooms, load_choices, money
from rooms.views.grid import (
    Grid,
    GridColumn,
    GridItem,
    assign_lanes,
    free_slots,
    grid_bounds,
    minutes_into_day,
    open_rows,
    place,
    week_start,
)


def _new_link(room_id: int, day: date) -> str:
    return "/desk/bookings/new?" + urlencode({"room_id": room_id, "date": day.isoformat()}) + "&start={clock}"


@get("/desk", opt=roles(STAFF), include_in_schema=False)
async def desk_day(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    date_: Annotated[str, QueryParameter(name="date")] = "",
) -> Template:
    return await _day_page(request, db, settings, identity, date_, read_only=False)


@get("/calendar", opt=roles(STAFF, Role.TRUSTEE, Role.TENANT), include_in_schema=False)
async def calendar_day(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    date_: Annotated[str, QueryParameter(name="date")] = "",
) -> Template | Redirect:
    """The building's day, read-only: other organisations' private bookings say only that.
    Staff, who may book, are taken to the same day at the desk."""
    if identity.role in STAFF:
        return Redirect("/desk" + (f"?date={quote(date_)}" if date_ else ""))
    return await _day_page(request, db, settings, identity, date_, read_only=True)


async def _day_page(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    date_: str,
    *,
    read_only: bool,
) -> Template:
    errors: dict[str, str] = {}
    today = settings.today()
    raw = date_
    day = parse_date(raw) if raw else today
    if day is None:
        errors["date"] = "Enter a date as YYYY-MM-DD, e.g. 2026-03-31."
        day = today
    zone = settings.zone
    start = combine_local(day, time(0), zone)
    end = combine_local(day + timedelta(days=1), time(0), zone)
    room_map = await RoomMap.load(db)
    rooms = bookable_rooms(room_map)
    calendar = await BuildingCalendar.load(db, settings, day, day)
    hours = calendar.day(day)
    found = await booking_service.list_bookings(db, identity, start=start, end=end)
    shown = await visibility.bookings_out(db, found, identity, settings)
    choices = await load_choices(db, identity, room_map)
    spans = [
        (minutes_into_day(b.start, day, settings), minutes_into_day(b.end, day, settings)) for b in shown
    ]
    first, last = grid_bounds(calendar, [day], spans)
    rows = (last - first) // 15
    columns = []
    for room in rooms:
        competing = room_map.overlapping_rooms(room.id)
        items: list[GridItem] = [
            place(b, day, first, settings, blocked=b.room_id != room.id)
            for b in shown
            if b.room_id in competing
        ]
        assign_lanes(items)
        columns.append(
            GridColumn(
                key=f"room-{room.id}",
                heading=room.name,
                subheading=f"up to {room.capacity}",
                closed_reason=None,
                items=items,
                slots=free_slots(
                    items, first, rows, _new_link(room.id, day), f"Book {room.name} at {{clock}}"
                ),
                link=f"/desk/rooms/{room.id}?week={week_start(day).isoformat()}",
                open_rows=open_rows(hours, first),
            )
        )
    arrivals = [b for b in shown if b.status != BookingStatus.CANCELLED]
    return render(
        request,
        "rooms/desk.html",
        title=f"{'Bookings' if read_only else 'Desk'} · {day:%a %d %b %Y}",
        read_only=read_only,
        base_path="/calendar" if read_only else "/desk",
        errors=errors,
        day=day,
        today=today,
        is_today=day == today,
        hours=hours,
        grid=Grid(first, rows, columns),
        arrivals=arrivals,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        category_label=choices.category_label,
        money=money,
        zone=zone,
        raw_date=raw if errors else day.isoformat(),
    )


@get("/desk/rooms/{room_id:int}", opt=roles(STAFF), include_in_schema=False)
async def desk_week(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    room_id: FromPath[int],
    week: FromQuery[str] = "",
) -> Template:
    errors: dict[str, str] = {}
    today = settings.today()
    chosen = parse_date(week) if week else today
    if chosen is None:
        errors["week"] = "Enter a date as YYYY-MM-DD, e.g. 2026-03-30."
        chosen = today
    monday = week_start(chosen)
    days = [monday + timedelta(days=i) for i in range(7)]
    room = await get_room(db, room_id)
    room_map = await RoomMap.load(db)
    zone = settings.zone
    competing = room_map.overlapping_rooms(room.id)
    found = await booking_service.list_bookings(
        db,
        identity,
        start=combine_local(days[0], time(0), zone),
        end=combine_local(days[-1] + timedelta(days=1), time(0), zone),
        room_ids=competing,
    )
    shown = await visibility.bookings_out(db, found, identity, settings)
    calendar = await BuildingCalendar.load(db, settings, days[0], days[-1])
    choices = await load_choices(db, identity, room_map)
    spans = []
    for b in shown:
        for day in days:
            start = minutes_into_day(b.start, day, settings)
            end = minutes_into_day(b.end, day, settings)
            if end > start:
                spans.append((start, end))
    first, last = grid_bounds(calendar, days, spans)
    rows = (last - first) // 15
    columns = []
    for day in days:
        items = [
            place(b, day, first, settings, blocked=b.room_id != room.id)
            for b in shown
            if minutes_into_day(b.end, day, settings) > minutes_into_day(b.start, day, settings)
        ]
        assign_lanes(items)
        hours = calendar.day(day)
        columns.append(
            GridColumn(
                key=f"day-{day.isoformat()}",
                heading=f"{day:%a %d %b}",
                subheading="Today" if day == today else "",
                closed_reason=None if hours.open else hours.closed_reason,
                items=items,
                slots=free_slots(
                    items,
                    first,
                    rows,
                    _new_link(room.id, day),
                    f"Book {room.name} on {day:%A %d %B} at {{clock}}",
                ),
                link=f"/desk?date={day.isoformat()}",
                open_rows=open_rows(hours, first),
            )
        )
    return render(
        request,
        "rooms/week.html",
        title=f"{room.name} · week of {monday:%d %b %Y}",
        errors=errors,
        room=room,
        room_features=feature_words(room.features),
        monday=monday,
        grid=Grid(first, rows, columns),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        this_week=week_start(today),
        category_label=choices.category_label,
        money=money,
        other_rooms=[r for r in bookable_rooms(room_map) if r.id != room.id],
        can_set_up=identity.role in ADMIN_ONLY,
        raw_week=week if errors else monday.isoformat(),
    )


@post("/desk/rooms/{room_id:int}/tenant-bookable", opt=roles(ADMIN_ONLY), include_in_schema=False)
async def room_tenant_bookable(
    request: Request[Any, Any, Any], db: Db, identity: Caller, room_id: FromPath[int]
) -> Redirect:
    """The room page's checkbox: whether tenants may book this room themselves (audited)."""
    form = await read_form(request)
    allowed = form.get("tenant_bookable") == "yes"
    room = await room_service.update_room(db, identity, room_id, RoomUpdate(tenant_bookable=allowed))
    told = "Tenants can now book" if allowed else "Tenants can no longer book"
    return redirect(request, f"/desk/rooms/{room.id}", flash=f"{told} {room.name} themselves.")
