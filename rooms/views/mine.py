"""A tenant's own booking: its page (readable by the organisation that booked it, and by staff, who
are sent to the desk's page) and cancelling it. Another organisation's booking answers 404."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import STAFF, Identity, roles
from hub.config import Settings
from hub.db import utcnow
from hub.deps import Caller, Db, SettingsDep
from hub.errors import DomainError
from hub.forms import Problems
from hub.models import Role
from hub.web import form_errors, read_form, redirect, render
from rooms.services import bookings as service
from rooms.services import settings as building_settings
from rooms.services import visibility
from rooms.services.occurrences import cancellation_fee
from rooms.views.common import money

MY_BOOKINGS = "/my/bookings"


async def _page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    settings: Settings,
    identity: Identity,
    booking_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    summary: str | None = None,
    reason: str = "",
) -> Template:
    booking = await service.get_own_booking(db, identity, booking_id)
    shown = (await visibility.bookings_out(db, [booking], identity, settings))[0]
    now = utcnow()
    live = booking.is_live(now)
    categories = {c.slug: c.label for c in await building_settings.categories(db)}
    return render(
        request,
        "rooms/my_booking.html",
        status_code=status_code,
        title=shown.title,
        b=shown,
        category=categories.get(shown.category, shown.category.replace("_", " ").capitalize()),
        can_cancel=live and booking.start_at > now,
        fee=cancellation_fee(settings, booking, now) if live else 0,
        late_hours=settings.late_cancellation_hours,
        fee_percent=settings.late_cancellation_fee_percent,
        money=money,
        errors=errors,
        error_summary=summary,
        reason=reason,
    )


@get(MY_BOOKINGS + "/{booking_id:int}", opt=roles(STAFF, Role.TENANT), include_in_schema=False)
async def my_booking(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    """The booking's page for its own organisation; staff have the desk's page for it."""
    if identity.role in STAFF:
        return Redirect(path=f"/desk/bookings/{booking_id}", status_code=303)
    return await _page(request, db, settings, identity, booking_id)


@post(MY_BOOKINGS + "/{booking_id:int}/cancel", opt=roles(Role.TENANT), include_in_schema=False)
async def my_booking_cancel(
    request: Request[Any, Any, Any],
    db: Db,
    settings: SettingsDep,
    identity: Caller,
    booking_id: FromPath[int],
) -> Template | Redirect:
    form = await read_form(request)
    reason = form.get("reason", "")[:1000]
    try:
        booking = await service.get_own_booking(db, identity, booking_id)
        problems = Problems()
        if not reason:
            problems.add("reason", "say why it is cancelled, e.g. “no longer needed”")
        problems.raise_any()
        await service.cancel_booking(
            db, settings, identity, booking.id, reason=reason, scope="this", waive_fee=False
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        await db.rollback()
        errors, summary = form_errors(exc)
        named = {(field or "reason"): text for field, text in errors.items()}
        return await _page(
            request,
            db,
            settings,
            identity,
            booking_id,
            status_code=exc.status_code,
            errors=named,
            summary=summary,
            reason=reason,
        )
    return redirect(request, f"{MY_BOOKINGS}/{booking_id}", flash="Your booking is cancelled.")
