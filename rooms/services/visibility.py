"""What a viewer sees of a booking: the one place that decides it, for the API, the desk, the
feeds and What's on (DESIGN §4, §6).

A viewer sees a booking in one of three ways (:class:`Sight`):

- ``full``: every detail. Staff, and the booking's own organisation; a private feed (behind its
  secret address) carries its bookings this way.
- ``public``: its public face. The public title (or the title when none was given), the room, the
  times, the category and the organisation; never the contact, notes or price.
- ``private``: a private booking seen by anyone else (trustees included): its times only, as
  "Private booking", with no title, organisation or contact.

Where the hub is set to hide private bookings from the public (``HUB_FEED_PRIVATE_BOOKINGS=hide``)
the public feeds and What's on leave them out altogether instead of showing them as private.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState

from hub.auth import STAFF, Identity
from hub.config import Settings
from hub.db import utcnow
from hub.models import Organisation, Role
from rooms.models import Booking, BookingStatus, Room, Visibility
from rooms.schemas import BookingOut
from rooms.services.localtime import format_local
from rooms.services.occurrences import HOLD_EXPIRED

PRIVATE_TITLE = "Private booking"


class Sight(enum.StrEnum):
    FULL = "full"
    PUBLIC = "public"
    PRIVATE = "private"


class Seen(Protocol):
    """What the rule reads of a booking (an ORM object, a feed's row, or a series' template)."""

    @property
    def title(self) -> str: ...
    @property
    def public_title(self) -> str: ...
    @property
    def visibility(self) -> str: ...


def can_see_details(viewer: Identity | None, booking: Booking) -> bool:
    """Staff see everything; an organisation sees its own; others see public bookings' public side."""
    if viewer is None:
        return False
    if viewer.role in STAFF:
        return True
    return viewer.organisation_id is not None and viewer.organisation_id == booking.organisation_id


def sight(booking: Seen, *, full: bool) -> Sight:
    """How a booking is seen by someone who may (``full``) or may not see its details."""
    if full:
        return Sight.FULL
    return Sight.PRIVATE if booking.visibility == Visibility.PRIVATE.value else Sight.PUBLIC


def sight_for(viewer: Identity | None, booking: Booking) -> Sight:
    return sight(booking, full=can_see_details(viewer, booking))


def public_title(booking: Seen) -> str:
    return booking.public_title or booking.title


def title_for(booking: Seen, seen_as: Sight) -> str:
    if seen_as is Sight.FULL:
        return booking.title
    if seen_as is Sight.PRIVATE:
        return PRIVATE_TITLE
    return public_title(booking)


def may_open(viewer: Identity, booking: Booking) -> bool:
    """Whether one booking may be fetched by id at all. A tenant asking for another
    organisation's private booking is told it does not exist (404, DESIGN §6); everyone else
    allowed to read bookings gets it, shown as :func:`sight_for` says."""
    return not (viewer.role == Role.TENANT and sight_for(viewer, booking) is Sight.PRIVATE)


# --- hiding private bookings from the public ---------------------------------------------------------


def hide_private(settings: Settings) -> bool:
    """Public views leave private bookings out (rather than show "Private booking")."""
    return settings.feed_private_bookings == "hide"


def not_hidden() -> ColumnElement[bool]:
    """SQL: the bookings a public view shows when it hides private ones."""
    return Booking.visibility == Visibility.PUBLIC.value


def is_hidden(hiding: bool, booking: Seen) -> bool:
    """The Python twin of :func:`not_hidden`, for rows already loaded: a private booking, in a
    public view that hides them (``hiding``, from :func:`hide_private`)."""
    return hiding and booking.visibility == Visibility.PRIVATE.value


# --- the API's and the pages' answer ---------------------------------------------------------------


def booking_out(
    booking: Booking,
    viewer: Identity | None,
    settings: Settings,
    organisation_name: str | None = None,
    room_name: str = "",
) -> BookingOut:
    zone = settings.zone
    seen_as = sight_for(viewer, booking)
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
        "title": title_for(booking, seen_as),
    }
    if seen_as is Sight.PRIVATE:
        return BookingOut(
            **base, organisation_id=None, organisation=None, public_title=PRIVATE_TITLE, private=True
        )
    shown: dict[str, Any] = {
        **base,
        "organisation_id": booking.organisation_id,
        "organisation": organisation_name,
        "public_title": public_title(booking),
        "private": False,
    }
    if seen_as is Sight.PUBLIC:
        return BookingOut(**shown)
    return BookingOut(
        **shown,
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
        price_description=booking.price_description,
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


async def public_bookings(db: AsyncSession, settings: Settings, bookings: list[Booking]) -> list[BookingOut]:
    """Bookings as the public sees them (whoever is signed in), the hidden ones left out."""
    hidden = hide_private(settings)
    return await bookings_out(db, [b for b in bookings if not is_hidden(hidden, b)], None, settings)
