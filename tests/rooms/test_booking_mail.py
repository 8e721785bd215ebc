"""Issue 18, mail that is never lost: a booking confirmed, moved or cancelled, and a series created,
each queue one message in the same transaction, with an ``.ics`` the recipient's calendar accepts —
named as the hub's own feeds name the booking (same UID, SEQUENCE going up with each change) and
passing the feeds' round-trip check (an independent expander finds exactly the stored occurrences).
Holds are reminded before they lapse, once however often the scheduler asks.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events
from sqlalchemy import select

from hub.auth import Identity
from hub.mail import MailMessage
from rooms.mail import queue_hold_reminders
from rooms.models import Booking
from rooms.schemas import BookingCreate
from rooms.services import bookings as booking_service
from tests.conftest import Hub
from tests.rooms.conftest import Building

CONTACT = "eve@coastal.example"


def messages(hub: Hub) -> list[MailMessage]:
    async def work(db: Any) -> list[MailMessage]:
        return list(await db.scalars(select(MailMessage).order_by(MailMessage.id)))

    return hub.run(work)


def next_weekday(hub: Hub, weekday: int, weeks_ahead: int = 2) -> date:
    """A Tuesday–Thursday (no bank holiday falls there) whose next six weeks miss Christmas."""
    today: date = hub.client.app.state.settings.today()
    day = today + timedelta(days=7 * weeks_ahead)
    day += timedelta(days=(weekday - day.weekday()) % 7)

    def festive(d: date) -> bool:
        return (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 3)

    while any(festive(day + timedelta(weeks=k)) for k in range(6)):
        day += timedelta(weeks=1)
    return day


def book(hub: Hub, b: Building, day: date, **fields: Any) -> dict[str, Any]:
    payload = {
        "room_id": b.meeting,
        "organisation_id": b.charity,
        "title": "Youth forum",
        "start": f"{day}T10:00:00",
        "end": f"{day}T12:00:00",
        "contact_name": "Eve Organiser",
        "contact_email": CONTACT,
        **fields,
    }
    response = hub.client.post("/api/v1/bookings", json=payload, headers=b.staff)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def invitation(message: MailMessage, method: str) -> icalendar.Calendar:
    [attachment] = message.attachments
    assert attachment.filename == "invitation.ics"
    assert attachment.content_type == f"text/calendar; method={method}; charset=UTF-8"
    calendar = icalendar.Calendar.from_ical(attachment.data)
    assert str(calendar["METHOD"]) == method
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    for event in calendar.walk("VEVENT"):
        assert str(event["ORGANIZER"]) == "mailto:hub@localhost"
        assert str(event["ATTENDEE"]) == f"mailto:{message.to_address}"
        assert event["DTSTART"].params["TZID"] == "Europe/London"
    return calendar


def feed_events(hub: Hub) -> list[Any]:
    """The building's public feed, as any calendar reads it."""
    response = hub.client.get("/feeds/building.ics", params={"from": "2026-01-01", "to": "2028-12-31"})
    assert response.status_code == 200, response.text
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def the_event(calendar: icalendar.Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event


def test_a_hold_is_silent_until_confirmed_then_confirm_move_cancel_each_queue_one_invitation(
    hub: Hub, building: Building
) -> None:
    day = next_weekday(hub, 1)
    hold = book(hub, building, day, status="provisional")
    assert messages(hub) == []  # a hold is not a booking yet

    confirm = hub.client.post(f"/api/v1/bookings/{hold['id']}/confirm", headers=building.staff)
    assert confirm.status_code == 200, confirm.text
    [confirmed] = messages(hub)
    assert confirmed.kind == "booking_confirmed"
    assert (confirmed.to_address, confirmed.to_name) == (CONTACT, "Eve Organiser")
    assert confirmed.subject == f"Confirmed: Youth forum, {day:%A %d %B %Y}, 10:00 to 12:00"
    assert (confirmed.about_type, confirmed.about_id) == ("booking", str(hold["id"]))
    first = the_event(invitation(confirmed, "REQUEST"))
    [in_feed] = [e for e in feed_events(hub) if e["DTSTART"].dt.date() == day]
    assert (
        str(first["UID"]) == str(in_feed["UID"]) == f"booking-{hold['id']}@hubkeeper-community-hub.hubkeeper"
    )
    assert int(first["SEQUENCE"]) == int(in_feed["SEQUENCE"])
    assert str(first["STATUS"]) == "CONFIRMED"
    assert first["DTSTART"].dt.replace(tzinfo=None) == datetime.combine(day, datetime.min.time()).replace(
        hour=10
    )

    retitled = hub.client.patch(
        f"/api/v1/bookings/{hold['id']}", json={"title": "Youth forum (AGM)"}, headers=building.staff
    )
    assert retitled.status_code == 200, retitled.text
    assert len(messages(hub)) == 1  # not moved: no new invitation

    moved = hub.client.patch(
        f"/api/v1/bookings/{hold['id']}",
        json={"start": f"{day}T14:00:00", "end": f"{day}T16:00:00"},
        headers=building.staff,
    )
    assert moved.status_code == 200, moved.text
    move_message = messages(hub)[1]
    assert move_message.kind == "booking_moved"
    assert "It was: " in move_message.text_body and "10:00 to 12:00" in move_message.text_body
    second = the_event(invitation(move_message, "REQUEST"))
    assert second["UID"] == first["UID"]
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert second["DTSTART"].dt.hour == 14
    [in_feed] = [e for e in feed_events(hub) if str(e["UID"]) == str(first["UID"])]
    assert int(second["SEQUENCE"]) == int(in_feed["SEQUENCE"])

    cancel = hub.client.post(
        f"/api/v1/bookings/{hold['id']}/cancel",
        json={"reason": "Venue change", "waive_fee": True},
        headers=building.staff,
    )
    assert cancel.status_code == 200, cancel.text
    cancelled = messages(hub)[2]
    assert cancelled.kind == "booking_cancelled"
    assert "Reason: Venue change" in cancelled.text_body
    third = the_event(invitation(cancelled, "CANCEL"))
    assert third["UID"] == first["UID"]
    assert int(third["SEQUENCE"]) > int(second["SEQUENCE"])
    assert str(third["STATUS"]) == "CANCELLED"
    assert len(messages(hub)) == 3


def test_a_series_queues_one_message_whose_ics_expands_to_exactly_the_stored_occurrences(
    hub: Hub, building: Building
) -> None:
    first = next_weekday(hub, 2)
    # The third Wednesday is taken: the series skips it (an EXDATE), as the feed does.
    book(hub, building, first + timedelta(days=14), contact_email="other@elsewhere.example")
    response = hub.client.post(
        "/api/v1/series",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Chair yoga",
            "category": "class",
            "first_date": first.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 5},
            "skip_clashes": True,
            "contact_name": "Eve Organiser",
            "contact_email": CONTACT,
        },
    )
    assert response.status_code == 201, response.text
    series_id = response.json()["id"]
    found = [m for m in messages(hub) if m.to_address == CONTACT]
    assert [m.kind for m in found] == ["series_created"]  # one message, not one per occurrence
    [message] = found
    assert message.subject == f"Booked: Chair yoga, 4 sessions from {first:%d %B %Y}"
    calendar = invitation(message, "REQUEST")
    [master] = calendar.walk("VEVENT")
    assert "RRULE" in master and "EXDATE" in master
    assert str(master["UID"]) == f"series-{series_id}@hubkeeper-community-hub.hubkeeper"
    assert str(master["UID"]) in {str(e["UID"]) for e in feed_events(hub)}

    events = recurring_ical_events.of(calendar).between(datetime(2026, 1, 1), datetime(2029, 1, 1))
    expanded = Counter((e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in events)

    async def stored(db: Any) -> Counter[tuple[datetime, datetime]]:
        rows = await db.execute(
            select(Booking.start_at, Booking.end_at).where(
                Booking.series_id == series_id, Booking.status == "confirmed"
            )
        )
        return Counter((start.astimezone(UTC), end.astimezone(UTC)) for start, end in rows)

    expected = hub.run(stored)
    assert sum(expected.values()) == 4
    assert expanded == expected


def test_cancelling_one_occurrence_names_it_by_the_series_uid_and_its_recurrence_id(
    hub: Hub, building: Building
) -> None:
    first = next_weekday(hub, 3)
    response = hub.client.post(
        "/api/v1/series",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Food bank",
            "first_date": first.isoformat(),
            "start_time": "09:00",
            "end_time": "10:00",
            "rule": {"freq": "weekly", "count": 3},
            "contact_email": CONTACT,
        },
    )
    assert response.status_code == 201, response.text
    second = sorted(response.json()["booked"], key=lambda b: b["start"])[1]
    cancel = hub.client.post(
        f"/api/v1/bookings/{second['id']}/cancel",
        json={"reason": "Bank holiday", "scope": "this", "waive_fee": True},
        headers=building.staff,
    )
    assert cancel.status_code == 200, cancel.text
    created, cancelled = messages(hub)
    master = the_event(invitation(created, "REQUEST"))
    event = the_event(invitation(cancelled, "CANCEL"))
    assert event["UID"] == master["UID"]
    assert event["RECURRENCE-ID"].dt.date() == first + timedelta(days=7)
    assert int(event["SEQUENCE"]) > int(master["SEQUENCE"])


def test_a_contact_name_with_a_line_break_is_refused_naming_the_field(hub: Hub, building: Building) -> None:
    payload = {
        "room_id": building.meeting,
        "organisation_id": building.charity,
        "title": "Youth forum",
        "start": f"{next_weekday(hub, 1)}T10:00:00",
        "end": f"{next_weekday(hub, 1)}T12:00:00",
        "contact_name": "Eve\r\nBcc: x@y.example",
        "contact_email": CONTACT,
    }
    response = hub.client.post("/api/v1/bookings", json=payload, headers=building.staff)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "contact_name"
    assert messages(hub) == []


def test_with_no_contact_email_the_organisations_contact_receives_it_and_with_none_nobody(
    hub: Hub, building: Building
) -> None:
    from hub.schemas import ContactIn

    with_contact = hub.make_org(contacts=[ContactIn(name="Sam Secretary", email="sam@club.example")])
    without = hub.make_org()
    book(
        hub, building, next_weekday(hub, 1), organisation_id=with_contact, contact_email=None, contact_name=""
    )
    book(hub, building, next_weekday(hub, 2), organisation_id=without, contact_email=None, contact_name="")
    [message] = messages(hub)
    assert (message.to_address, message.to_name) == ("sam@club.example", "Sam Secretary")


def test_hold_reminders_queue_once_however_often_asked(hub: Hub, building: Building) -> None:
    day = next_weekday(hub, 3)
    hold = book(hub, building, day, status="provisional")
    confirmed = book(hub, building, day + timedelta(weeks=1))
    assert confirmed["status"] == "confirmed"
    settings = hub.client.app.state.settings

    async def expiry(db: Any) -> datetime:
        found = await db.scalar(select(Booking.hold_expires_at).where(Booking.id == hold["id"]))
        assert found is not None
        return found  # type: ignore[no-any-return]

    expires = hub.run(expiry)
    before = len(messages(hub))
    early = expires - timedelta(hours=25)
    assert hub.run(lambda db: queue_hold_reminders(db, settings, early)) == 0
    soon = expires - timedelta(hours=3)
    assert hub.run(lambda db: queue_hold_reminders(db, settings, soon)) == 1
    assert hub.run(lambda db: queue_hold_reminders(db, settings, soon + timedelta(minutes=5))) == 0
    reminders = [m for m in messages(hub)[before:]]
    assert [m.kind for m in reminders] == ["hold_expiring"]
    assert reminders[0].to_address == CONTACT
    assert reminders[0].attachments == []
    assert hub.run(lambda db: queue_hold_reminders(db, settings, expires + timedelta(minutes=1))) == 0


def test_bookings_the_demo_seed_makes_queue_nothing(hub: Hub, building: Building) -> None:
    settings = hub.client.app.state.settings
    day = next_weekday(hub, 1)
    data = BookingCreate(
        room_id=building.meeting,
        organisation_id=building.charity,
        title="Demo class",
        start=datetime.fromisoformat(f"{day}T10:00:00"),
        end=datetime.fromisoformat(f"{day}T11:00:00"),
        contact_email=CONTACT,
    )
    hub.run(lambda db: booking_service.create_booking(db, settings, Identity.system("demo data"), data))
    assert messages(hub) == []
