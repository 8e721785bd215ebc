"""The tenant portal (role ``tenant``, issue 13 item 6): the home panel (agreement and its key dates,
this month's meeting-room hours, next bookings, balance and Pay now, calendar feeds), the tenant's
bookings, booking a tenant-bookable room with the live quote, its agreement, its statement.

Everything is the tenant's own organisation's: the pages take no organisation from the request.
Rooms does the booking (its services hold a tenant to its rules); money's services give the
balance; the tenants services give the agreement and the allowance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity, roles
from hub.billing.services import debt
from hub.config import Settings
from hub.db import utcnow
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.errors import Conflict, DomainError, NotFound
from hub.forms import Problems, parse_clock, parse_date
from hub.models import Role
from hub.modules import Registry
from hub.money import format_pence
from hub.web import NavItem, form_errors, read_form, redirect, render
from rooms.models import Room
from rooms.schemas import BookingCreate, BookingOut, QuoteRequest
from rooms.services import bookings as booking_service
from rooms.services import feed_tokens, visibility
from rooms.views.common import QuoteView, clash_texts_from_extra, quote_for
from tenants.models import Agreement
from tenants.services import agreements as agreement_service
from tenants.services.allowance import AllowanceUsage, format_minutes, usage

TENANT = roles(Role.TENANT)
BOOK_PATH = "/my/book-a-room"
# How far the lists look, each way (a page's work stays bounded).
COMING_DAYS = 180
PAST_DAYS = 180
LIST_LIMIT = 300

NAV = [
    NavItem("My bookings", "/my/bookings", frozenset({Role.TENANT}), order=11),
    NavItem("Book a room", BOOK_PATH, frozenset({Role.TENANT}), order=12),
    NavItem("Agreement", "/my/agreement", frozenset({Role.TENANT}), order=30),
    NavItem("Statement", "/my/statement", frozenset({Role.TENANT}), order=41),
]


def _organisation(identity: Identity) -> int:
    if identity.organisation_id is None:
        raise NotFound("Your account is not linked to an organisation; please ask the hub's office.")
    return identity.organisation_id


# --- what the pages share ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hours:
    """This month's included meeting-room hours, in words."""

    month: date
    included: str
    used: str
    left: str
    over: str
    has_allowance: bool
    used_share: int  # 0..100, for the bar


def hours_of(found: AllowanceUsage) -> Hours:
    share = 0
    if found.included_minutes:
        share = min(100, round(100 * found.used_minutes / found.included_minutes))
    return Hours(
        month=found.month,
        included=format_minutes(found.included_minutes),
        used=format_minutes(found.used_minutes),
        left=format_minutes(found.left_minutes),
        over=format_minutes(found.over_minutes) if found.over_minutes else "",
        has_allowance=found.included_minutes > 0,
        used_share=share,
    )


async def this_month(db: AsyncSession, settings: Settings, organisation_id: int) -> Hours:
    return hours_of(await usage(db, settings, organisation_id, settings.today().replace(day=1)))


async def own_bookings(
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    *,
    coming: bool,
    limit: int = LIST_LIMIT,
    include_cancelled: bool = True,
) -> list[BookingOut]:
    """The organisation's bookings not yet ended (soonest first), or ended (latest first), the
    cancelled ones among them unless left out."""
    now = utcnow()
    organisation_id = _organisation(identity)
    if coming:
        found = await booking_service.list_bookings(
            db,
            identity,
            start=now,
            end=now + timedelta(days=COMING_DAYS),
            organisation_id=organisation_id,
            include_cancelled=include_cancelled,
            limit=limit,
        )
    else:
        found = await booking_service.list_bookings(
            db,
            identity,
            start=now - timedelta(days=PAST_DAYS),
            end=now,
            organisation_id=organisation_id,
            include_cancelled=True,
            limit=LIST_LIMIT,
        )
        found = [b for b in found if b.end_at <= now]
        found.reverse()
    return await visibility.bookings_out(db, found, identity, settings)


@dataclass(frozen=True)
class KeyDate:
    day: date
    what: str


def key_dates(agreement: Agreement, today: date) -> list[KeyDate]:
    """The agreement's dates still to come that the tenant must know: its end, break dates (with the
    last day to give notice), rent reviews, insurance expiry."""
    found: list[KeyDate] = []
    if agreement.end_date is not None and agreement.end_date >= today:
        found.append(KeyDate(agreement.end_date, "The agreement ends"))
    for item in agreement.breaks:
        if item.break_date >= today:
            notice = agreement_service.last_notice_day(item.break_date, item.notice_days)
            found.append(
                KeyDate(item.break_date, f"Break date: give notice by {notice:%-d %B %Y} to end it then")
            )
    for review in agreement.reviews:
        if review.review_date >= today:
            how = (
                f"a fixed uplift of {review.uplift_bp / 100:g}%"
                if review.uplift_bp is not None
                else f"by {review.index_name}"
                if review.index_name
                else "as agreed"
            )
            found.append(KeyDate(review.review_date, f"Rent review ({how})"))
    if agreement.insurance_expires_on is not None and agreement.insurance_expires_on >= today:
        found.append(KeyDate(agreement.insurance_expires_on, "Your insurance certificate expires"))
    return sorted(found, key=lambda item: item.day)


async def _feed_link(db: AsyncSession, settings: Settings, identity: Identity) -> str | None:
    token = await feed_tokens.current(db, identity, "organisation")
    if token is None:
        return None
    return f"/feeds/private/{feed_tokens.token_value(settings, token.nonce)}.ics"


# --- the home panel --------------------------------------------------------------------------------


async def home_panel(db: AsyncSession, identity: Identity, settings: Settings) -> dict[str, Any]:
    """The tenant's home: a bounded set of queries (agreement, hours, five bookings, statement)."""
    if identity.organisation_id is None:
        return {"linked": False}
    organisation_id = identity.organisation_id
    today = settings.today()
    agreement = await agreement_service.live_agreement_for(db, organisation_id, today)
    account = await debt.statement(db, settings, identity, organisation_id)
    open_invoices = [i for i in account.open_invoices if i.outstanding_pence > 0]
    return {
        "linked": True,
        "agreement": agreement,
        "key_dates": key_dates(agreement, today)[:4] if agreement else [],
        "hours": await this_month(db, settings, organisation_id),
        "next_bookings": await own_bookings(
            db, settings, identity, coming=True, limit=5, include_cancelled=False
        ),
        "balance": account.closing_balance_pence,
        "balance_text": format_pence(abs(account.closing_balance_pence)),
        "open_invoices": open_invoices,
        "overdue_pence": account.aged.overdue_pence,
        "pay_online": settings.stripe_enabled,
        "feed_link": await _feed_link(db, settings, identity),
        "money": format_pence,
        "today": today,
    }


# --- my bookings -------------------------------------------------------------------------------------


@get("/my/bookings", opt=TENANT, include_in_schema=False)
async def my_bookings(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    return render(
        request,
        "tenants/portal_bookings.html",
        title="My bookings",
        coming=await own_bookings(db, settings, identity, coming=True),
        past=await own_bookings(db, settings, identity, coming=False),
        coming_days=COMING_DAYS,
        past_days=PAST_DAYS,
        money=format_pence,
    )


# --- book a room ---------------------------------------------------------------------------------------


async def tenant_rooms(db: AsyncSession) -> list[Room]:
    query = (
        select(Room)
        .where(Room.tenant_bookable.is_(True), Room.active.is_(True), Room.bookable.is_(True))
        .order_by(Room.display_order, Room.name_key)
    )
    return list(await db.scalars(query))


def _form_span(form: dict[str, str], problems: Problems) -> tuple[datetime | None, datetime | None]:
    day = parse_date(form.get("date"))
    start = parse_clock(form.get("start"))
    end = parse_clock(form.get("end"))
    if day is None:
        problems.add("date", "enter the date, e.g. 2027-01-12")
    if start is None:
        problems.add("start", "enter a time of day such as 09:30")
    if end is None:
        problems.add("end", "enter a time of day such as 11:00")
    if day is None or start is None or end is None:
        return None, None
    return datetime.combine(day, start), datetime.combine(day, end)


def _defaults(request: Request[Any, Any, Any], settings: Settings, rooms: list[Room]) -> dict[str, str]:
    query = request.query_params
    values = {"date": settings.today().isoformat(), "start": "10:00", "end": "11:00"}
    if rooms:
        values["room_id"] = str(rooms[0].id)
    wanted = str(query.get("room_id") or "")
    if wanted.isdigit() and any(str(r.id) == wanted for r in rooms):
        values["room_id"] = wanted
    day = parse_date(query.get("date"))
    if day is not None:
        values["date"] = day.isoformat()
    return values


async def _book_page(
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
    organisation_id = _organisation(identity)
    rooms = await tenant_rooms(db)
    names = await visibility.organisation_names(db, {organisation_id})
    return render(
        request,
        "tenants/portal_book.html",
        status_code=status_code,
        title="Book a meeting room",
        values=values,
        errors=errors or {},
        error_summary=summary,
        clashes=clashes or [],
        quote=quote,
        rooms=rooms,
        organisation_id=organisation_id,
        organisation=names.get(organisation_id, ""),
        hours=await this_month(db, settings, organisation_id),
    )


@get(BOOK_PATH, opt=TENANT, include_in_schema=False)
async def book_form(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    rooms = await tenant_rooms(db)
    return await _book_page(request, db, settings, identity, _defaults(request, settings, rooms))


async def _quote(
    db: AsyncSession, settings: Settings, identity: Identity, registry: Registry, form: dict[str, str]
) -> QuoteView:
    problems = Problems()
    start, end = _form_span(form, problems)
    room = form.get("room_id", "")
    if start is None or end is None or not room.isdigit() or len(room) > 18:
        return QuoteView(
            problem="Choose a room, the date and the times to see the price and whether it is free."
        )
    proposed = QuoteRequest(room_id=int(room), start=start, end=end, organisation_id=identity.organisation_id)
    return await quote_for(db, settings, identity, proposed, registry)


@post(BOOK_PATH, opt=TENANT, include_in_schema=False)
async def book_submit(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, registry: RegistryDep, identity: Caller
) -> Template | Redirect:
    form = await read_form(request)
    organisation_id = _organisation(identity)
    if form.get("action") == "quote":
        quote = await _quote(db, settings, identity, registry, form)
        await db.rollback()
        return await _book_page(request, db, settings, identity, form, quote=quote)
    try:
        problems = Problems()
        start, end = _form_span(form, problems)
        room = form.get("room_id", "")
        if not room.isdigit() or len(room) > 18:
            problems.add("room_id", "choose a room")
        title = form.get("title", "")
        if not title:
            problems.add("title", "say what the booking is for, e.g. “Trustees' meeting”")
        problems.raise_any()
        assert start is not None and end is not None
        data = problems.convert(
            {
                "room_id": room,
                "organisation_id": organisation_id,
                "title": title,
                "start": start,
                "end": end,
                "category": "meeting",
                "visibility": "public" if form.get("public") == "yes" else "private",
                "contact_name": identity.name[:200],
                "contact_email": identity.email,
                "notes": form.get("notes", ""),
            },
            BookingCreate,
        )
        booking = await booking_service.create_booking(db, settings, identity, data, registry=registry)
    except DomainError as exc:
        await db.rollback()
        errors, summary = form_errors(exc)
        named = {(field or "form"): text for field, text in errors.items()}
        clashes = clash_texts_from_extra(exc.extra, settings) if isinstance(exc, Conflict) else []
        if clashes:
            summary = "That time is taken. Choose another time or room."
            named.pop("start", None)
        return await _book_page(
            request,
            db,
            settings,
            identity,
            form,
            status_code=exc.status_code,
            errors=named,
            summary=summary,
            clashes=clashes,
        )
    when = booking.start_at.astimezone(settings.zone)
    free = " There is no hire charge on this booking." if booking.price_net_pence == 0 else ""
    return redirect(
        request,
        f"/my/bookings/{booking.id}",
        flash=f"Booked {booking.room.name}, {when:%A %d %B} at {when:%H:%M}.{free}",
    )


# --- the agreement and the statement -----------------------------------------------------------------


@get("/my/agreement", opt=TENANT, include_in_schema=False)
async def my_agreement(
    request: Request[Any, Any, Any], db: Db, settings: SettingsDep, identity: Caller
) -> Template:
    organisation_id = _organisation(identity)
    today = settings.today()
    agreement = await agreement_service.live_agreement_for(db, organisation_id, today)
    if agreement is None:
        # The latest one, whatever its state (a draft waiting to start, or one that has ended).
        agreement = await db.scalar(
            select(Agreement)
            .where(Agreement.organisation_id == organisation_id, Agreement.status != "draft")
            .order_by(Agreement.start_date.desc(), Agreement.id.desc())
            .limit(1)
        )
    return render(
        request,
        "tenants/portal_agreement.html",
        title="Your agreement",
        agreement=agreement,
        key_dates=key_dates(agreement, today) if agreement else [],
        rent_now=agreement_service.rent_in_force(agreement, today) if agreement else 0,
        hours=await this_month(db, settings, organisation_id),
        money=format_pence,
        today=today,
    )


@get("/my/statement", opt=TENANT, include_in_schema=False)
async def my_statement(identity: Caller) -> Redirect:
    """The organisation's statement (money's page), from the menu."""
    return Redirect(path=f"/organisations/{_organisation(identity)}/statement", status_code=303)


ROUTES = [my_bookings, book_form, book_submit, my_agreement, my_statement]

__all__ = ["NAV", "ROUTES", "home_panel"]
