"""Booking pages at the desk: the booking form with its price and clash check, a booking's page,
and its changes (edit by scope, cancel, confirm, check in, no-show). Thin: services do the work."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from hub import billing
from hub.auth import STAFF, Identity, roles
from hub.config import Settings
from hub.db import utcnow
from hub.deps import Caller, Db, SettingsDep
from hub.errors import Conflict, DomainError, InvalidInput
from hub.forms import Problems, parse_clock, parse_date
from hub.services import audit
from hub.web import form_errors, read_form, redirect, render, safe_next
from rooms.models import Booking, BookingStatus
from rooms.schemas import BookingCreate, BookingUpdate, QuoteRequest
from rooms.services import bookings as service
from rooms.services import series as series_service
from rooms.services import visibility
from rooms.services.finder import feature_words
from rooms.services.occurrences import cancellation_fee
from rooms.services.rooms import get_room
from rooms.views.common import (
    QuoteView,
    app_registry,
    clash_texts_from_extra,
    load_choices,
    money,
    quote_for,
)

OPTIONAL_TEXT = ("public_title", "contact_name", "notes", "override_reason")
OPTIONAL_NONE = ("contact_email", "contact_phone", "expected_attendance", "visibility")
SCOPES = {
    "this": "This occurrence only",
    "following": "This and following occurrences",
    "all": "The whole series",
}


# --- reading the form ---------------------------------------------------------------------------


def local_span(
    form: dict[str, str], problems: Problems
) -> tuple[datetime | None, datetime | None, date | None]:
    """The form's date and HH:MM times as naive building-local date-times (the service refuses
    times a clock change makes impossible or ambiguous, naming the field)."""
    day = parse_date(form.get("date"))
    start = parse_clock(form.get("start"))
    end = parse_clock(form.get("end"))
    if day is None:
        problems.add("date", "enter the date, e.g. 2026-03-31")
    if start is None:
        problems.add("start", "enter a time of day such as 09:30")
    if end is None:
        problems.add("end", "enter a time of day such as 11:00")
    if day is None or start is None or end is None:
        return None, None, day
    end_day = day + timedelta(days=1) if end == time(0) and start != time(0) else day
    return datetime.combine(day, start), datetime.combine(end_day, end), day


def _common_fields(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": form.get("title", ""),
        "category": form.get("category", "") or "other",
    }
    for name in OPTIONAL_TEXT:
        data[name] = form.get(name, "")
    for name in OPTIONAL_NONE:
        data[name] = form.get(name) or None
    data["override_opening_hours"] = form.get("override_opening_hours") == "yes"
    return data


def parse_create(form: dict[str, str]) -> BookingCreate:
    """A BookingCreate from the form, or InvalidInput naming every field that is wrong."""
    problems = Problems()
    start, end, _day = local_span(form, problems)
    placeholder = datetime.combine(date(2000, 1, 3), time(10, 0))
    ids = {}
    for name, what in (("room_id", "choose a room"), ("organisation_id", "choose an organisation")):
        raw = form.get(name, "")
        if not raw.isdigit() or len(raw) > 19:
            problems.add(name, what)
            raw = "1"  # a placeholder so the other fields are checked too
        ids[name] = raw
    data = {
        **ids,
        **_common_fields(form),
        "status": form.get("status") or "confirmed",
        # Placeholders let every other field be checked too; the errors above are reported.
        "start": start or placeholder,
        "end": end or placeholder + timedelta(hours=1),
    }
    if not data["title"]:
        problems.add("title", "enter a title")
        data["title"] = "placeholder"
    return problems.convert(data, BookingCreate)


def errors_for_page(exc: DomainError) -> tuple[dict[str, str], str, list[str]]:
    """Errors by input name, the summary, and clashing times when the slot was taken."""
    errors, summary = form_errors(exc)
    named: dict[str, str] = {}
    for field, reason in errors.items():
        named[field or "form"] = reason
    return named, summary, []


# --- the new-booking form -----------------------------------------------------------------------


def _default_values(request: Request[Any, Any, Any], settings: Settings) -> dict[str, str]:
    query = request.query_params
    values = {"status": "confirmed", "date": settings.today().isoformat()}
    for name in ("room_id", "organisation_id", "category"):
        if query.get(name):
            values[name] = str(query.get(name))[:40]
    day = parse_date(query.get("date"))
    if day is not None:
        values["date"] = day.isoformat()
    start = parse_clock(query.get("start"))
    if start is not None:
        values["start"] = f"{start:%H:%M}"
        end = (datetime.combine(date(2000, 1, 1), start) + timedelta(hours=1)).time()
        values["end"] = f"{end:%H:%M}" if end > start else "23:59"
        asked_end = parse_clock(query.get("end"))
        if asked_end is not None and asked_end > start:
            values["end"] = f"{asked_end:%H:%M}"
    attendance = str(query.get("expected_attendance") or "")
    if attendance.isdigit() and len(attendance) < 6:
        values["expected_attendance"] = attendance
    return values


async def _form_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    values: dict[str, str],
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    clashes: list[str] | None = None,
    quote: QuoteView | None = None,
) -> Template:
    choices = await load_choices(db, identity)
    return render(
        request,
        "rooms/booking_form.html",
        status_code=status_code,
        title="New booking",
        values=values,
        errors=errors,
        error_summary=summary,
        clashes=clashes or [],
        quote=quote,
        choices=choices,
        can_override=identity.role in STAFF,
        feature_words=feature_words,
    )


async def _quote_from_form(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    form: dict[str, str],
    booking_id: int | None = None,
) -> QuoteView:
    problems = Problems()
    start, end, _day = local_span(form, problems)
    room = form.get("room_id", "")
    org = form.get("organisation_id", "")
    if start is None or end is None or not room.isdigit() or not (org.isdigit() or booking_id):
        return QuoteView(problem="Choose a room, an organisation, the date and the times to see the price.")
    booking = await service.get_booking(db, identity, booking_id) if booking_id else None
    proposed = QuoteRequest(
        room_id=int(room),
        start=start,
        end=end,
        organisation_id=booking.organisation_id if booking else int(org),
        exclude_booking_id=booking_id,
    )
    return await quote_for(db, settings, identity, proposed, app_registry(request))


@get("/desk/bookings/new", opt=roles(STAFF), include_in_schema=False)
async def booking_new(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    return await _form_page(request, db, settings, identity, _default_values(request, settings))


@post("/desk/bookings/new", opt=roles(STAFF), include_in_schema=False)
async def booking_create(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    if form.get("action") == "quote":
        quote = await _quote_from_form(request, db, settings, identity, form)
        await db.rollback()
        return await _form_page(request, db, settings, identity, form, quote=quote)
    try:
        data = parse_create(form)
        booking = await service.create_booking(db, settings, identity, data, registry=app_registry(request))
    except DomainError as exc:
        await db.rollback()
        errors, summary, _ = errors_for_page(exc)
        clashes = clash_texts_from_extra(exc.extra, settings) if isinstance(exc, Conflict) else []
        if clashes:
            summary = "That time is taken. Choose another time or room."
        return await _form_page(
            request,
            db,
            settings,
            identity,
            form,
            status_code=exc.status_code,
            errors=errors,
            summary=summary,
            clashes=clashes,
        )
    when = booking.start_at.astimezone(settings.zone)
    room = await get_room(db, booking.room_id)
    return redirect(
        request,
        f"/desk/bookings/{booking.id}",
        flash=f"Booked {booking.title} in {room.name}, {when:%a %d %b %H:%M}.",
    )


# --- a booking's page ---------------------------------------------------------------------------


def _values_from(booking: Booking, settings: Settings) -> dict[str, str]:
    zone = settings.zone
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    values = {
        "room_id": str(booking.room_id),
        "title": booking.title,
        "public_title": booking.public_title,
        "category": booking.category,
        "date": start.date().isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "expected_attendance": ""
        if booking.expected_attendance is None
        else str(booking.expected_attendance),
        "visibility": booking.visibility,
        "contact_name": booking.contact_name,
        "contact_email": booking.contact_email or "",
        "contact_phone": booking.contact_phone or "",
        "notes": booking.notes,
    }
    return values


async def _detail_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    booking_id: int,
    *,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    clashes: list[str] | None = None,
    open_panel: str = "",
    quote: QuoteView | None = None,
) -> Template:
    booking = await service.get_booking(db, identity, booking_id)
    shown = (await visibility.bookings_out(db, [booking], identity, settings))[0]
    choices = await load_choices(db, identity)
    series_info: dict[str, Any] | None = None
    if booking.series_id is not None:
        series = await series_service.get_series(db, booking.series_id)
        siblings = await series_service.series_bookings(db, series.id)
        position = next((i for i, b in enumerate(siblings, 1) if b.id == booking.id), 0)
        series_info = {"id": series.id, "position": position, "total": len(siblings), "rule": series.rule}
    history = (
        await audit.list_entries(db, object_type="booking", object_id=str(booking.id), per_page=50)
    ).items
    now = utcnow()
    live = booking.is_live(now)  # an expired hold is gone, swept or not
    # What the booking has been charged, and on which invoice: staff only (it is the hub's books).
    booking_charges = (
        await billing.charges_for_source(db, identity, "booking", str(booking.id))
        if identity.role in STAFF
        else []
    )
    return render(
        request,
        "rooms/booking.html",
        booking_charges=booking_charges,
        status_code=status_code,
        title=shown.title,
        b=shown,
        booking=booking,
        values=values or _values_from(booking, settings),
        errors=errors,
        error_summary=summary,
        clashes=clashes or [],
        choices=choices,
        series=series_info,
        scopes=SCOPES,
        history=history,
        fee=cancellation_fee(settings, booking, now) if live else 0,
        money=money,
        live=live,
        can_check_in=booking.status == BookingStatus.CONFIRMED.value
        and booking.start_at.astimezone(settings.zone).date() <= settings.today(),
        open_panel=open_panel,
        can_override=identity.role in STAFF,
        quote=quote,
        late_hours=settings.late_cancellation_hours,
        fee_percent=settings.late_cancellation_fee_percent,
    )


@get("/desk/bookings/{booking_id:int}", opt=roles(STAFF), include_in_schema=False)
async def booking_detail(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template:
    return await _detail_page(request, db, settings, identity, booking_id)


def parse_update(form: dict[str, str], booking: Booking, settings: Settings) -> BookingUpdate:
    """Only what changed goes to the service, so an edit to one field of a series occurrence
    does not rewrite the others."""
    problems = Problems()
    current = _values_from(booking, settings)
    data: dict[str, Any] = {}
    for name in ("title", "category", *OPTIONAL_TEXT, *OPTIONAL_NONE):
        if name in ("override_reason",) or form.get(name, "") == current.get(name, ""):
            continue
        value: Any = form.get(name, "")
        data[name] = (value or None) if name in OPTIONAL_NONE else value
    if data.get("visibility") is None:
        data.pop("visibility", None)  # "category default" keeps the booking's own setting
    if form.get("room_id", "") != current["room_id"]:
        data["room_id"] = form.get("room_id", "")
    if any(form.get(n, "") != current[n] for n in ("date", "start", "end")):
        start, end, _day = local_span(form, problems)
        if start is not None and end is not None:
            data["start"], data["end"] = start, end
    if booking.series_id is not None:
        if form.get("scope") not in SCOPES:
            problems.add("scope", "choose which occurrences to change")
        else:
            data["scope"] = form["scope"]
    if form.get("override_opening_hours") == "yes":
        data["override_opening_hours"] = True
        data["override_reason"] = form.get("override_reason", "")
    return problems.convert(data, BookingUpdate)


@post("/desk/bookings/{booking_id:int}", opt=roles(STAFF), include_in_schema=False)
async def booking_update(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    booking = await service.get_booking(db, identity, booking_id)
    if form.get("action") == "quote":
        quote = await _quote_from_form(request, db, settings, identity, form, booking_id=booking.id)
        await db.rollback()
        return await _detail_page(
            request, db, settings, identity, booking_id, values=form, open_panel="edit", quote=quote
        )
    try:
        data = parse_update(form, booking, settings)
        await service.update_booking(db, settings, identity, booking_id, data, registry=app_registry(request))
    except DomainError as exc:
        await db.rollback()
        errors, summary, _ = errors_for_page(exc)
        clashes = clash_texts_from_extra(exc.extra, settings) if isinstance(exc, Conflict) else []
        return await _detail_page(
            request,
            db,
            settings,
            identity,
            booking_id,
            values=form,
            status_code=exc.status_code,
            errors=errors,
            summary=summary,
            clashes=clashes,
            open_panel="edit",
        )
    return redirect(request, f"/desk/bookings/{booking_id}", flash="Changes saved.")


async def _action_failed(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    booking_id: int,
    exc: DomainError,
    panel: str,
    rename: dict[str, str] | None = None,
) -> Template:
    await db.rollback()
    errors, summary, _ = errors_for_page(exc)
    errors = {(rename or {}).get(k, k): v for k, v in errors.items()}
    return await _detail_page(
        request,
        db,
        settings,
        identity,
        booking_id,
        status_code=exc.status_code,
        errors=errors,
        summary=summary,
        open_panel=panel,
    )


@post("/desk/bookings/{booking_id:int}/cancel", opt=roles(STAFF), include_in_schema=False)
async def booking_cancel(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    try:
        booking = await service.get_booking(db, identity, booking_id, for_change=True)
        scope = form.get("cancel_scope", "this") if booking.series_id is not None else "this"
        problems = Problems()
        if not form.get("reason"):
            problems.add("reason", "say why it is cancelled")
        if scope not in SCOPES:
            problems.add("scope", "choose which occurrences to cancel")
        problems.raise_any()
        await service.cancel_booking(
            db,
            settings,
            identity,
            booking_id,
            reason=form["reason"][:1000],
            scope=scope,
            waive_fee=form.get("waive_fee") == "yes",
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return await _action_failed(
            request, db, settings, identity, booking_id, exc, "cancel", {"scope": "cancel_scope"}
        )
    return redirect(request, f"/desk/bookings/{booking_id}", flash="The booking was cancelled.")


@post("/desk/bookings/{booking_id:int}/confirm", opt=roles(STAFF), include_in_schema=False)
async def booking_confirm(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    try:
        await service.confirm_booking(db, settings, identity, booking_id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return await _action_failed(request, db, settings, identity, booking_id, exc, "")
    return redirect(request, f"/desk/bookings/{booking_id}", flash="The booking is confirmed.")


@post("/desk/bookings/{booking_id:int}/check-in", opt=roles(STAFF), include_in_schema=False)
async def booking_check_in(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    raw = form.get("attendance", "")
    try:
        if not raw.isdigit() or len(raw) > 6:
            raise InvalidInput("enter how many people came, as a number", field="attendance")
        booking = await service.check_in(
            db, settings, identity, booking_id, attendance=int(raw), no_show=False
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return await _action_failed(request, db, settings, identity, booking_id, exc, "checkin")
    target = safe_next(form.get("next"), f"/desk/bookings/{booking_id}")
    return redirect(
        request, target, flash=f"Checked in {booking.title}: {raw} {'person' if raw == '1' else 'people'}."
    )


@post("/desk/bookings/{booking_id:int}/no-show", opt=roles(STAFF), include_in_schema=False)
async def booking_no_show(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    try:
        booking = await service.check_in(db, settings, identity, booking_id, attendance=None, no_show=True)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return await _action_failed(request, db, settings, identity, booking_id, exc, "checkin")
    return redirect(request, f"/desk/bookings/{booking_id}", flash=f"Recorded {booking.title} as a no-show.")
