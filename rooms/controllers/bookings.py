"""/api/v1/bookings and /api/v1/series. Staff book for anyone; everyone signed in may read the
building's bookings, with other organisations' private ones shown only as "Private booking"."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from hub.auth import STAFF, roles
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.errors import InvalidInput
from hub.models import Role
from hub.schemas import within_calendar
from rooms.models import Series
from rooms.schemas import (
    BookingCancel,
    BookingCreate,
    BookingOut,
    BookingPage,
    BookingUpdate,
    CheckIn,
    SeriesCancelRest,
    SeriesCreate,
    SeriesEnd,
    SeriesOut,
    SeriesPreview,
    clock,
)
from rooms.services import bookings as service
from rooms.services import series as series_service
from rooms.services import visibility
from rooms.services.localtime import combine_local

WRITE = roles(STAFF)
# A tenant books a tenant-bookable room for itself and cancels its own organisation's bookings
# (DESIGN §6 "book within its allowance"); the service holds it to that (rooms.services.self_booking).
SELF_SERVICE = roles(STAFF, Role.TENANT)
# Everyone who works with the building's bookings reads them; café staff have the till only
# (DESIGN §6), so they are not among them.
READ = roles(STAFF, Role.TRUSTEE, Role.TENANT)
MAX_RANGE = timedelta(days=62)


class BookingController(Controller):
    path = "/api/v1/bookings"
    tags = ["bookings"]

    @get("/", opt=READ, summary="Bookings between two local dates (at most 62 days)")
    async def list_bookings(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        from_: Annotated[date, QueryParameter(name="from")],
        to: Annotated[date | None, QueryParameter(description="inclusive; default: the same day")] = None,
        room_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        organisation_id: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1)] = None,
        include_cancelled: FromQuery[bool] = False,
    ) -> BookingPage:
        within_calendar(from_, "from")
        last = within_calendar(to or from_, "to")
        if last < from_:
            raise InvalidInput("must not be before from", field="to")
        if last - from_ > MAX_RANGE:
            raise InvalidInput("ask for at most 62 days at a time", field="to")
        zone = settings.zone
        start = combine_local(from_, time(0), zone)
        end = combine_local(last + timedelta(days=1), time(0), zone)
        found = await service.list_bookings(
            db,
            identity,
            start=start,
            end=end,
            room_ids={room_id} if room_id else None,
            organisation_id=organisation_id,
            include_cancelled=include_cancelled,
        )
        items = await visibility.bookings_out(db, found, identity, settings)
        return BookingPage(items=items, total=len(items))

    @post(
        "/",
        opt=SELF_SERVICE,
        summary="Book a room (409 with the clashing times if taken); tenants: their own, in a tenant room",
    )
    async def create_booking(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        registry: RegistryDep,
        data: JSONBody[BookingCreate],
    ) -> BookingOut:
        booking = await service.create_booking(db, settings, identity, data, registry=registry)
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @get("/{booking_id:int}", opt=READ, summary="One booking")
    async def get_booking(
        self, db: Db, settings: SettingsDep, identity: Caller, booking_id: FromPath[int]
    ) -> BookingOut:
        booking = await service.get_booking(db, identity, booking_id)
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @patch("/{booking_id:int}", opt=WRITE, summary="Change a booking (scope: this, following or all)")
    async def update_booking(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        registry: RegistryDep,
        booking_id: FromPath[int],
        data: JSONBody[BookingUpdate],
    ) -> BookingOut:
        booking = await service.update_booking(db, settings, identity, booking_id, data, registry=registry)
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @post(
        "/{booking_id:int}/cancel",
        opt=SELF_SERVICE,
        status_code=200,
        summary="Cancel (never delete), with a reason; tenants: their own organisation's",
    )
    async def cancel_booking(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        booking_id: FromPath[int],
        data: JSONBody[BookingCancel],
    ) -> BookingOut:
        booking = await service.cancel_booking(
            db, settings, identity, booking_id, reason=data.reason, scope=data.scope, waive_fee=data.waive_fee
        )
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @post("/{booking_id:int}/confirm", opt=WRITE, status_code=200, summary="Confirm a provisional hold")
    async def confirm_booking(
        self, db: Db, settings: SettingsDep, identity: Caller, booking_id: FromPath[int]
    ) -> BookingOut:
        booking = await service.confirm_booking(db, settings, identity, booking_id)
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @post("/{booking_id:int}/check-in", opt=WRITE, status_code=200, summary="Check in with the head-count")
    async def check_in(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        booking_id: FromPath[int],
        data: JSONBody[CheckIn],
    ) -> BookingOut:
        booking = await service.check_in(
            db, settings, identity, booking_id, attendance=data.attendance, no_show=False
        )
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]

    @post("/{booking_id:int}/no-show", opt=WRITE, status_code=200, summary="Nobody came")
    async def no_show(
        self, db: Db, settings: SettingsDep, identity: Caller, booking_id: FromPath[int]
    ) -> BookingOut:
        booking = await service.check_in(db, settings, identity, booking_id, attendance=None, no_show=True)
        return (await visibility.bookings_out(db, [booking], identity, settings))[0]


class SeriesController(Controller):
    path = "/api/v1/series"
    tags = ["bookings"]

    @post("/", opt=WRITE, summary="Book a recurring series (409 listing clashes unless skip_clashes)")
    async def create_series(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        registry: RegistryDep,
        data: JSONBody[SeriesCreate],
    ) -> SeriesOut:
        series, booked, skipped = await series_service.create_series(
            db, settings, identity, data, registry=registry
        )
        return SeriesOut(
            id=series.id,
            room_id=series.room_id,
            organisation_id=series.organisation_id,
            title=data.title,
            rule=series.rule,
            first_date=series.first_date_local,
            start_time=clock(data.start_time),
            end_time=clock(data.end_time),
            booked=await visibility.bookings_out(db, booked, identity, settings),
            skipped=skipped,
        )

    @post("/preview", opt=WRITE, status_code=200, summary="Every occurrence and its problems; writes nothing")
    async def preview_series(
        self, db: Db, settings: SettingsDep, identity: Caller, data: JSONBody[SeriesCreate]
    ) -> SeriesPreview:
        return await series_service.preview(db, settings, identity, data)

    @get("/{series_id:int}", opt=READ, summary="A series and its occurrences")
    async def get_series(
        self, db: Db, settings: SettingsDep, identity: Caller, series_id: FromPath[int]
    ) -> SeriesOut:
        series = await series_service.get_series(db, series_id)
        identity.require_organisation(series.organisation_id, "That series")
        return await _series_out(db, settings, identity, series)

    @post(
        "/{series_id:int}/end",
        opt=WRITE,
        status_code=200,
        summary="End the series after a date: later occurrences cancelled (late fees as for bookings)",
    )
    async def end_series(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        series_id: FromPath[int],
        data: JSONBody[SeriesEnd],
    ) -> SeriesOut:
        ended = await series_service.end_series(
            db, settings, identity, series_id, after=data.after, reason=data.reason, waive_fee=data.waive_fee
        )
        return await _series_out(db, settings, identity, ended.series)

    @post(
        "/{series_id:int}/cancel-rest",
        opt=WRITE,
        status_code=200,
        summary="Cancel every occurrence not yet begun (late fees as for bookings)",
    )
    async def cancel_rest(
        self,
        db: Db,
        settings: SettingsDep,
        identity: Caller,
        series_id: FromPath[int],
        data: JSONBody[SeriesCancelRest],
    ) -> SeriesOut:
        ended = await series_service.end_series(
            db, settings, identity, series_id, after=None, reason=data.reason, waive_fee=data.waive_fee
        )
        return await _series_out(db, settings, identity, ended.series)


async def _series_out(db: Db, settings: SettingsDep, identity: Caller, series: Series) -> SeriesOut:
    occurrences = await series_service.series_bookings(db, series.id)
    end_time = time.fromisoformat(series.template["end_time"])
    visible = await visibility.bookings_out(db, occurrences, identity, settings)
    title = visible[0].title if visible else series.template["title"]
    return SeriesOut(
        id=series.id,
        room_id=series.room_id,
        organisation_id=series.organisation_id,
        title=title,
        rule=series.rule,
        first_date=series.first_date_local,
        start_time=series.start_time_local,
        end_time=end_time,
        booked=visible,
        skipped=[],
    )
