"""The messages bookings send, each queued (:func:`hub.mail.enqueue`) in the transaction of the change
that causes it, so it exists exactly when the change committed; the sender delivers it later.

- **booking confirmed** (made confirmed, or a hold confirmed), **booking moved** (its time or room
  changed) and **booking cancelled**: an ``.ics`` invitation rides along (``method=REQUEST``, or
  ``method=CANCEL``) naming the booking exactly as the feeds do — the same UID and SEQUENCE, a
  series occurrence as an override of its series (RECURRENCE-ID) — with the feed's VTIMEZONE, the
  hub (``HUB_MAIL_FROM``) as ORGANIZER and the recipient as ATTENDEE. It is the feed's own text
  (:func:`rooms.services.feeds.calendar_text`) given its iTIP parts with ``icalendar``.
- **series created** / **series changed** (the whole series or the rest of it moved): one message
  whose ``.ics`` holds the series as the feed writes it (RRULE, EXDATEs, overrides), never one
  per occurrence.
- **hold expiring**: :func:`queue_hold_reminders` (a ``hub.mail.SCHEDULED`` provider) reminds a
  provisional hold's contact in the day before it lapses, once per hold and expiry.

Rules. Provisional holds get no invitation: a hold is not a booking yet, so it is confirmed (or
cancelled, or moved) silently until it is confirmed, and its contact is only reminded before it
lapses. The recipient is the booking's contact email; failing that, the organisation's first
contact with an email, then its billing email; with none, no message. One recipient per message,
never a CC (a clinic's details go only to that booking's own contact). Changes made by the demo
seed (``Identity.system("demo data")``) queue nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import mail
from hub.auth import Identity
from hub.config import Settings
from hub.errors import RuleViolation
from hub.mail import Attachment, MailMessage, from_demo_seed
from hub.models import Organisation
from rooms.models import Booking, BookingStatus, Room, Series
from rooms.services import feeds

ROOMS_DIR = Path(__file__).resolve().parent
logger = logging.getLogger(__name__)
# How long before a hold lapses its contact is reminded.
HOLD_REMINDER = timedelta(hours=24)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


def _one_line(value: str) -> str:
    """Text bound for a header (a name, a subject): line breaks become spaces."""
    return " ".join(value.split())


async def recipient_for(
    db: AsyncSession, email: str | None, name: str, organisation_id: int
) -> Recipient | None:
    """The booking's contact; else the organisation's first contact with an email; else its
    billing email; else nobody."""
    if email:
        return Recipient(email.strip(), _one_line(name))
    org = await db.get(Organisation, organisation_id)
    if org is None:
        return None
    for contact in org.contacts:
        if contact.email:
            return Recipient(contact.email, _one_line(contact.name))
    if org.billing_email:
        return Recipient(org.billing_email, _one_line(org.name))
    return None


def invitation(settings: Settings, events: feeds.Events, *, method: str, to: Recipient, name: str) -> bytes:
    """The feed's calendar text for ``events`` as an iTIP message: METHOD, ORGANIZER (the hub's
    sending address) and ATTENDEE (the one recipient) on every event."""
    calendar = icalendar.Calendar.from_ical(feeds.calendar_text(settings, events, method=method, name=name))
    display, address = parseaddr(settings.mail_from)
    for event in calendar.walk("VEVENT"):
        organizer = icalendar.vCalAddress(f"mailto:{address}")
        organizer.params["CN"] = icalendar.vText(_one_line(display or settings.hub_name))
        event.add("organizer", organizer)
        attendee = icalendar.vCalAddress(f"mailto:{to.email}")
        if to.name:
            attendee.params["CN"] = icalendar.vText(to.name)
        attendee.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION" if method == "REQUEST" else "DECLINED")
        attendee.params["RSVP"] = icalendar.vText("FALSE")
        event.add("attendee", attendee)
    return bytes(calendar.to_ical())


def _when(settings: Settings, start: datetime, end: datetime) -> str:
    zone = settings.zone
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        return f"{local_start:%A %d %B %Y}, {local_start:%H:%M} to {local_end:%H:%M}"
    return f"{local_start:%A %d %B %Y %H:%M} to {local_end:%A %d %B %Y %H:%M}"


async def _room_names(db: AsyncSession) -> dict[int, str]:
    return {room_id: name for room_id, name in await db.execute(select(Room.id, Room.name))}


async def _queue(
    db: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    to: Recipient,
    subject: str,
    context: dict[str, Any],
    ics: bytes | None,
    method: str,
    about: tuple[str, int],
    dedupe_key: str,
) -> MailMessage | None:
    text, html = mail.render(
        ROOMS_DIR, kind, hub_name=settings.hub_name, recipient=to, subject=subject, **context
    )
    attachments = (
        [Attachment("invitation.ics", f"text/calendar; method={method}; charset=UTF-8", ics)] if ics else []
    )
    try:
        return await mail.enqueue(
            db,
            kind=kind,
            to=to.email,
            to_name=to.name,
            subject=_one_line(subject),
            text=text,
            html=html,
            attachments=attachments,
            about=about,
            dedupe_key=dedupe_key,
        )
    except RuleViolation as exc:
        # An address stored before it was checked as mail checks it: the booking still stands.
        logger.warning("rooms: %s not queued for %s %s: %s", kind, about[0], about[1], exc.detail)
        return None


def _occurrence(settings: Settings, booking: Booking, rooms: dict[int, str]) -> dict[str, str]:
    return {
        "when": _when(settings, booking.start_at, booking.end_at),
        "room": rooms.get(booking.room_id, ""),
        "title": booking.title,
    }


async def booking_message(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    booking: Booking,
    kind: str,
    *,
    before: tuple[datetime, datetime, int] | None = None,
) -> MailMessage | None:
    """ "booking_confirmed" or "booking_moved" (``before``: its old start, end and room) with a
    REQUEST invitation, for a confirmed booking only."""
    if from_demo_seed(actor) or booking.status != BookingStatus.CONFIRMED.value:
        return None
    to = await recipient_for(db, booking.contact_email, booking.contact_name, booking.organisation_id)
    if to is None:
        return None
    host = feeds.uid_domain(settings.hub_name)
    events = await feeds.booking_events(db, settings, [booking], host=host)
    rooms = await _room_names(db)
    ics = invitation(settings, events, method="REQUEST", to=to, name=f"{settings.hub_name}: {booking.title}")
    moved = kind == "booking_moved"
    previous = (
        {
            "when": _when(settings, before[0], before[1]),
            "room": rooms.get(before[2], ""),
            "title": booking.title,
        }
        if before
        else None
    )
    when = _when(settings, booking.start_at, booking.end_at)
    subject = f"{'Moved' if moved else 'Confirmed'}: {booking.title}, {when}"
    return await _queue(
        db,
        settings,
        kind=kind,
        to=to,
        subject=subject,
        context={"occurrences": [_occurrence(settings, booking, rooms)], "previous": previous},
        ics=ics,
        method="REQUEST",
        about=("booking", booking.id),
        dedupe_key=f"{kind}:{booking.id}:{booking.sequence}",
    )


async def cancelled_message(
    db: AsyncSession, settings: Settings, actor: Identity, bookings: Sequence[Booking], reason: str
) -> list[MailMessage]:
    """ "booking_cancelled" with a CANCEL invitation naming every occurrence cancelled (each by the
    UID and RECURRENCE-ID the feeds gave it): one message per recipient. ``bookings`` are those
    that were confirmed before this cancellation (holds were never sent an invitation)."""
    if from_demo_seed(actor) or not bookings:
        return []
    groups: dict[Recipient, list[Booking]] = {}
    for booking in bookings:
        to = await recipient_for(db, booking.contact_email, booking.contact_name, booking.organisation_id)
        if to is not None:
            groups.setdefault(to, []).append(booking)
    if not groups:
        return []
    host = feeds.uid_domain(settings.hub_name)
    rooms = await _room_names(db)
    queued: list[MailMessage] = []
    for to, group in groups.items():
        group.sort(key=lambda b: b.start_at)
        events = await feeds.booking_events(db, settings, group, host=host)
        first = group[0]
        ics = invitation(settings, events, method="CANCEL", to=to, name=f"{settings.hub_name}: {first.title}")
        when = _when(settings, first.start_at, first.end_at)
        subject = f"Cancelled: {first.title}, {when}" + (
            f" and {len(group) - 1} more" if len(group) > 1 else ""
        )
        key = f"booking_cancelled:{first.id}:{first.sequence}" + (f":{len(group)}" if len(group) > 1 else "")
        message = await _queue(
            db,
            settings,
            kind="booking_cancelled",
            to=to,
            subject=subject,
            context={"occurrences": [_occurrence(settings, b, rooms) for b in group], "reason": reason},
            ics=ics,
            method="CANCEL",
            about=("booking", first.id),
            dedupe_key=key,
        )
        if message is not None:
            queued.append(message)
    return queued


async def series_message(
    db: AsyncSession,
    settings: Settings,
    actor: Identity,
    series: Series,
    kind: str,
    bookings: Sequence[Booking],
) -> MailMessage | None:
    """ "series_created" or "series_changed": one message whose REQUEST invitation holds the whole
    series as the feed writes it. Only when its occurrences are confirmed (not a run of holds)."""
    if from_demo_seed(actor):
        return None
    live = [b for b in bookings if b.status == BookingStatus.CONFIRMED.value]
    if not live:
        return None
    template = series.template
    to = await recipient_for(
        db, template.get("contact_email"), template.get("contact_name", ""), series.organisation_id
    )
    if to is None:
        return None
    host = feeds.uid_domain(settings.hub_name)
    events = await feeds.series_events(db, settings, series, host=host)
    title = str(template.get("title", ""))
    ics = invitation(settings, events, method="REQUEST", to=to, name=f"{settings.hub_name}: {title}")
    rooms = await _room_names(db)
    live.sort(key=lambda b: b.start_at)
    zone = settings.zone
    skipped = sorted(datetime.fromisoformat(s).astimezone(zone) for s in series.skipped)
    first = live[0]
    verb = "Booked" if kind == "series_created" else "Changed"
    subject = f"{verb}: {title}, {len(live)} sessions from {first.start_at.astimezone(zone):%d %B %Y}"
    return await _queue(
        db,
        settings,
        kind=kind,
        to=to,
        subject=subject,
        context={
            "occurrences": [_occurrence(settings, b, rooms) for b in live],
            "skipped": [f"{s:%A %d %B %Y}" for s in skipped],
            "room": rooms.get(series.room_id, ""),
            "title": title,
        },
        ics=ics,
        method="REQUEST",
        about=("series", series.id),
        dedupe_key=f"{kind}:{series.id}:{series.sequence}",
    )


async def queue_hold_reminders(db: AsyncSession, settings: Settings, now: datetime) -> int:
    """``hub.mail.SCHEDULED``: remind the contact of each provisional hold that lapses within the
    next day (one message per one-off hold, one per series of holds), once per hold and expiry:
    asking twice queues once. Commits; answers how many it queued."""
    due = list(
        await db.scalars(
            select(Booking)
            .where(
                Booking.status == BookingStatus.PROVISIONAL.value,
                Booking.hold_expires_at.is_not(None),
                Booking.hold_expires_at > now,
                Booking.hold_expires_at <= now + HOLD_REMINDER,
            )
            .order_by(Booking.hold_expires_at, Booking.start_at, Booking.id)
        )
    )
    groups: dict[tuple[str, int], list[Booking]] = {}
    for booking in due:
        key = ("series", booking.series_id) if booking.series_id is not None else ("booking", booking.id)
        groups.setdefault(key, []).append(booking)
    rooms = await _room_names(db)
    zone = settings.zone
    queued = 0
    for (about, about_id), group in groups.items():
        first = group[0]
        expires = first.hold_expires_at
        assert expires is not None
        to = await recipient_for(db, first.contact_email, first.contact_name, first.organisation_id)
        if to is None:
            continue
        subject = f"Your hold on {first.title} lapses {expires.astimezone(zone):%a %d %b at %H:%M}"
        message = await _queue(
            db,
            settings,
            kind="hold_expiring",
            to=to,
            subject=subject,
            context={
                "occurrences": [_occurrence(settings, b, rooms) for b in group],
                "expires": f"{expires.astimezone(zone):%A %d %B %Y at %H:%M}",
            },
            ics=None,
            method="",
            about=(about, about_id),
            dedupe_key=f"hold_expiring:{about}:{about_id}:{expires.astimezone(zone):%Y%m%dT%H%M%S}",
        )
        queued += message is not None
    await db.commit()
    return queued
