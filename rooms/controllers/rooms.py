"""/api/v1/rooms, /api/v1/rates, /api/v1/quotes, /api/v1/availability, opening hours and closures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from hub.auth import ADMIN_ONLY, STAFF, roles
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.models import Role
from hub.schemas import within_calendar
from rooms.models import BookingCategory, OpeningHours, Visibility
from rooms.schemas import (
    CLOCK_PATTERN,
    CategoryIn,
    CategoryOut,
    ClosureIn,
    ClosureOut,
    FreeRoom,
    OpeningDayOut,
    OpeningHoursIn,
    Quote,
    QuoteRequest,
    RateIn,
    RateOut,
    RoomCreate,
    RoomDay,
    RoomOut,
    RoomUpdate,
    clock,
)
from rooms.services import availability, pricing, quotes
from rooms.services import rooms as service
from rooms.services import settings as building_settings

# Everyone who works with the building's bookings reads them; café staff have the till only
# (DESIGN §6), so they are not among them.
READ = roles(STAFF, Role.TRUSTEE, Role.TENANT)
LOOKUP = roles(STAFF, Role.TRUSTEE, Role.TENANT)


class RoomController(Controller):
    path = "/api/v1/rooms"
    tags = ["rooms"]

    @get("/", opt=READ, summary="Rooms and how they combine")
    async def list_rooms(self, db: Db) -> list[RoomOut]:
        room_map = await service.RoomMap.load(db)
        return [room_map.out(room) for room in room_map.rooms.values()]

    @post("/", opt=roles(ADMIN_ONLY), summary="Add a room")
    async def create_room(self, db: Db, identity: Caller, data: JSONBody[RoomCreate]) -> RoomOut:
        room = await service.create_room(db, identity, data)
        return (await service.RoomMap.load(db)).out(room)

    @get("/{room_id:int}", opt=READ, summary="One room")
    async def get_room(self, db: Db, room_id: FromPath[int]) -> RoomOut:
        room = await service.get_room(db, room_id)
        return (await service.RoomMap.load(db)).out(room)

    @patch("/{room_id:int}", opt=roles(ADMIN_ONLY), summary="Change a room (bookable=false to retire it)")
    async def update_room(
        self, db: Db, identity: Caller, room_id: FromPath[int], data: JSONBody[RoomUpdate]
    ) -> RoomOut:
        room = await service.update_room(db, identity, room_id, data)
        return (await service.RoomMap.load(db)).out(room)

    @get("/{room_id:int}/free-slots", opt=LOOKUP, summary="A room's free time over a day or a week")
    async def free_slots(
        self,
        db: Db,
        settings: SettingsDep,
        room_id: FromPath[int],
        date_: Annotated[date, QueryParameter(name="date", description="first local date")],
        days: Annotated[int, QueryParameter(ge=1, le=7)] = 1,
    ) -> list[RoomDay]:
        within_calendar(date_, "date")
        room = await service.get_room(db, room_id)
        return await availability.free_slots(db, settings, room, date_, days)


@get("/api/v1/rates", opt=roles(STAFF, Role.TRUSTEE), tags=["rates"], summary="Room hire rates")
async def list_rates(
    db: Db, room_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None
) -> list[RateOut]:
    return [pricing.rate_out(r) for r in await pricing.list_rates(db, room_id)]


@put("/api/v1/rates", opt=roles(ADMIN_ONLY), tags=["rates"], summary="Set a room's rate for a band")
async def set_rate(db: Db, identity: Caller, data: JSONBody[RateIn]) -> RateOut:
    return pricing.rate_out(await pricing.set_rate(db, identity, data))


@post(
    "/api/v1/quotes",
    opt=roles(STAFF, Role.TENANT),
    tags=["bookings"],
    status_code=200,
    summary="Price and clash check for a proposed booking (writes nothing); tenants: their own",
)
async def quote(
    db: Db, settings: SettingsDep, identity: Caller, registry: RegistryDep, data: JSONBody[QuoteRequest]
) -> Quote:
    return await quotes.quote(db, settings, identity, data, registry=registry)


@get(
    "/api/v1/availability", opt=LOOKUP, tags=["bookings"], summary="Rooms free for a local date and time span"
)
async def rooms_free(
    db: Db,
    settings: SettingsDep,
    date_: Annotated[date, QueryParameter(name="date")],
    start: Annotated[str, QueryParameter(pattern=CLOCK_PATTERN, description="local time, e.g. 14:00")],
    end: Annotated[str, QueryParameter(pattern=CLOCK_PATTERN, description="local time, e.g. 16:00")],
    capacity: Annotated[int, QueryParameter(ge=0, le=10_000)] = 0,
    features: Annotated[str | None, QueryParameter(max_length=300, description="comma-separated")] = None,
) -> list[FreeRoom]:
    within_calendar(date_, "date")
    return await availability.free_rooms(
        db,
        settings,
        day=date_,
        start_time=clock(start),
        end_time=clock(end),
        capacity=capacity,
        features=[f.strip() for f in (features or "").split(",") if f.strip()],
    )


def _category_out(c: BookingCategory) -> CategoryOut:
    return CategoryOut(
        slug=c.slug, label=c.label, default_visibility=Visibility(c.default_visibility), active=c.active
    )


def _day_out(row: OpeningHours) -> OpeningDayOut:
    return OpeningDayOut(
        weekday=row.weekday,
        opens=row.opens_local.strftime("%H:%M"),
        closes=row.closes_local.strftime("%H:%M"),
    )


@get("/api/v1/opening-hours", opt=READ, tags=["building"], summary="When the building is open, by weekday")
async def get_opening_hours(db: Db) -> list[OpeningDayOut]:
    return [_day_out(row) for row in await building_settings.opening_hours(db)]


@put(
    "/api/v1/opening-hours",
    opt=roles(ADMIN_ONLY),
    tags=["building"],
    summary="Replace the week's opening hours",
)
async def put_opening_hours(db: Db, identity: Caller, data: JSONBody[OpeningHoursIn]) -> list[OpeningDayOut]:
    return [_day_out(row) for row in await building_settings.set_opening_hours(db, identity, data)]


@get(
    "/api/v1/closures",
    opt=READ,
    tags=["building"],
    summary="Days the building is closed (besides bank holidays)",
)
async def list_closures(db: Db) -> list[ClosureOut]:
    return [ClosureOut(id=c.id, day=c.day, reason=c.reason) for c in await building_settings.closures(db)]


@post("/api/v1/closures", opt=roles(ADMIN_ONLY), tags=["building"], summary="Close the building on a day")
async def add_closure(db: Db, identity: Caller, data: JSONBody[ClosureIn]) -> ClosureOut:
    closure = await building_settings.add_closure(db, identity, data)
    return ClosureOut(id=closure.id, day=closure.day, reason=closure.reason)


@get("/api/v1/categories", opt=READ, tags=["building"], summary="Booking categories")
async def list_categories(db: Db) -> list[CategoryOut]:
    return [_category_out(c) for c in await building_settings.categories(db)]


@put("/api/v1/categories", opt=roles(ADMIN_ONLY), tags=["building"], summary="Add or change a category")
async def put_category(db: Db, identity: Caller, data: JSONBody[CategoryIn]) -> CategoryOut:
    return _category_out(await building_settings.set_category(db, identity, data))
