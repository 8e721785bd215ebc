"""Rooms' part of data-protection requests (``hub.privacy.PERSONAL_DATA``).

A person appears in rooms as the contact of bookings and series (name, email, phone, matched on the
email, case-insensitive) and, with an account, through their own calendar feed addresses. Erasing
them puts the pseudonym's name on those bookings and series and clears the email and phone (the
organisation's booking stays, with its times and price); their own feed addresses are revoked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import utcnow
from hub.privacy import Person, Pseudonym, Traces, scrub
from rooms.models import Booking, FeedToken, Series


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def _bookings(db: AsyncSession, email: str) -> list[Booking]:
    return list(
        await db.scalars(
            select(Booking).where(func.lower(Booking.contact_email) == email).order_by(Booking.id)
        )
    )


async def _series(db: AsyncSession, email: str) -> list[Series]:
    # The contact lives in the series' JSON template: narrow with text, then read it exactly.
    candidates = await db.scalars(
        select(Series)
        .where(func.lower(cast(Series.template, Text)).contains(email, autoescape=True))
        .order_by(Series.id)
    )
    return [s for s in candidates if str((s.template or {}).get("contact_email") or "").lower() == email]


async def _feeds(db: AsyncSession, user_id: int | None) -> list[FeedToken]:
    if user_id is None:
        return []
    return list(
        await db.scalars(
            select(FeedToken)
            .where(FeedToken.kind == "user", FeedToken.user_id == user_id)
            .order_by(FeedToken.id)
        )
    )


class RoomsPersonalData:
    """Follows :class:`hub.privacy.PersonalDataProvider`."""

    async def traces(self, db: AsyncSession, email: str) -> Traces:
        bookings = await _bookings(db, email)
        series = await _series(db, email)
        names = {b.contact_name for b in bookings} | {
            str(s.template.get("contact_name") or "") for s in series
        }
        phones = {b.contact_phone for b in bookings if b.contact_phone}
        phones |= {str(s.template["contact_phone"]) for s in series if s.template.get("contact_phone")}
        objects = {("booking", str(b.id)) for b in bookings} | {("series", str(s.id)) for s in series}
        return Traces(
            records=len(bookings) + len(series),
            names=frozenset(n for n in names if n),
            phones=frozenset(phones),
            objects=frozenset(objects),
        )

    async def export(self, db: AsyncSession, person: Person) -> dict[str, Any]:
        bookings = await _bookings(db, person.email)
        series = await _series(db, person.email)
        return {
            "bookings": [
                {
                    "id": b.id,
                    "organisation_id": b.organisation_id,
                    "room": b.room.name,
                    "title": b.title,
                    "start_at": _iso(b.start_at),
                    "end_at": _iso(b.end_at),
                    "status": b.status,
                    "contact_name": b.contact_name,
                    "contact_email": b.contact_email,
                    "contact_phone": b.contact_phone,
                    "notes": b.notes,
                }
                for b in bookings
            ],
            "series": [
                {
                    "id": s.id,
                    "organisation_id": s.organisation_id,
                    "title": s.template.get("title"),
                    "contact_name": s.template.get("contact_name"),
                    "contact_email": s.template.get("contact_email"),
                    "contact_phone": s.template.get("contact_phone"),
                }
                for s in series
            ],
            "calendar_feeds": [
                {"created_at": _iso(f.created_at), "revoked_at": _iso(f.revoked_at)}
                for f in await _feeds(db, person.user_id)
            ],
        }

    async def erase(self, db: AsyncSession, person: Person, pseudonym: Pseudonym) -> dict[str, int]:
        now = utcnow()
        bookings = await _bookings(db, person.email)
        for booking in bookings:
            booking.contact_name = pseudonym.name
            booking.contact_email = None
            booking.contact_phone = None
            booking.title = scrub(booking.title, person, pseudonym)
            booking.public_title = scrub(booking.public_title, person, pseudonym)
            booking.notes = scrub(booking.notes, person, pseudonym)
            # Calendar clients replace their copy when the sequence moves on.
            booking.sequence += 1
            booking.updated_at = now
        series = await _series(db, person.email)
        for one in series:
            template = dict(one.template)
            template.update(contact_name=pseudonym.name, contact_email=None, contact_phone=None)
            for key in ("title", "public_title", "notes"):
                if isinstance(template.get(key), str):
                    template[key] = scrub(template[key], person, pseudonym)
            one.template = template  # a new dict: the JSON column sees the change
            one.sequence += 1
            one.updated_at = now
        feeds = [f for f in await _feeds(db, person.user_id) if f.revoked_at is None]
        for feed in feeds:
            feed.revoked_at = now
        return {"bookings": len(bookings), "series": len(series), "calendar_feeds_revoked": len(feeds)}


PERSONAL_DATA_PROVIDER = RoomsPersonalData()
