"""A provisional hold past its expiry is gone everywhere at once: quotes, availability, free
slots, moves, series, the desk and the day's bookings treat it as free from the moment it
expires, before any write has swept it; and a write that claims its time sweeps it first, so
the database's guarantee (PostgreSQL's exclusion constraint on occupancy) still holds.

Each test makes a hold, then sets its expiry a second into the past directly in the database
(nothing has swept it: its occupancy rows are still there).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from hub.db import utcnow
from hub.models import AuditEntry, Role
from rooms.models import Booking, RoomOccupancy
from tests.conftest import Hub
from tests.rooms.conftest import Building

API = "/api/v1/bookings"
DAY = "2027-01-12"  # a Tuesday, in GMT
HOLD_TITLE = "Held for the tenants' forum"


def book(hub: Hub, b: Building, **fields: Any) -> Any:
    payload = {
        "room_id": b.meeting,
        "organisation_id": b.charity,
        "title": "Youth forum",
        "start": f"{DAY}T14:00:00",
        "end": f"{DAY}T16:00:00",
        **fields,
    }
    return hub.client.post(API, json=payload, headers=b.staff)


def expired_hold(hub: Hub, b: Building, *, seconds_ago: float = 1.0) -> int:
    """A hold in the Meeting Room 14:00–16:00 (busy 13:45–16:15), expired ``seconds_ago``."""
    response = book(hub, b, title=HOLD_TITLE, status="provisional")
    assert response.status_code == 201, response.text
    hold_id: int = response.json()["id"]
    set_expiry(hub, hold_id, utcnow() - timedelta(seconds=seconds_ago))
    return hold_id


def set_expiry(hub: Hub, booking_id: int, when: Any) -> None:
    async def work(db: Any) -> None:
        await db.execute(update(Booking).where(Booking.id == booking_id).values(hold_expires_at=when))
        await db.commit()

    hub.run(work)


def occupancy_of(hub: Hub, booking_id: int) -> int:
    return hub.run(  # type: ignore[no-any-return]
        lambda db: db.scalar(
            select(func.count()).select_from(RoomOccupancy).where(RoomOccupancy.booking_id == booking_id)
        )
    )


def stored_status(hub: Hub, booking_id: int) -> tuple[str, str]:
    row = hub.run(
        lambda db: db.execute(select(Booking.status, Booking.cancel_reason).where(Booking.id == booking_id))
    ).one()
    return row[0], row[1]


def quote(hub: Hub, b: Building, **fields: Any) -> Any:
    payload = {
        "room_id": b.meeting,
        "organisation_id": b.charity,
        "start": f"{DAY}T14:00:00",
        "end": f"{DAY}T16:00:00",
        **fields,
    }
    response = hub.client.post("/api/v1/quotes", json=payload, headers=b.staff)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_quote_does_not_clash_with_an_expired_hold(hub: Hub, building: Building) -> None:
    hold = book(hub, building, title=HOLD_TITLE, status="provisional").json()
    assert len(quote(hub, building)["clashes"]) == 1  # while it holds, it clashes
    set_expiry(hub, hold["id"], utcnow() - timedelta(seconds=1))
    assert quote(hub, building)["clashes"] == []
    assert occupancy_of(hub, hold["id"]) == 1  # nothing swept it: the quote only read


def test_a_hold_expiring_in_a_moment_still_clashes(hub: Hub, building: Building) -> None:
    hold = book(hub, building, status="provisional").json()
    set_expiry(hub, hold["id"], utcnow() + timedelta(minutes=1))
    assert [c["busy_start"] for c in quote(hub, building)["clashes"]] == ["2027-01-12T13:45:00Z"]


def test_availability_lists_the_room_of_an_expired_hold(hub: Hub, building: Building) -> None:
    expired_hold(hub, building)
    free = hub.client.get(
        "/api/v1/availability", params={"date": DAY, "start": "14:00", "end": "16:00"}, headers=building.staff
    )
    assert free.status_code == 200, free.text
    assert sorted(r["id"] for r in free.json()) == sorted(
        [building.hall_a, building.hall_b, building.main_hall, building.consulting, building.meeting]
    )


def test_free_slots_include_an_expired_holds_time(hub: Hub, building: Building) -> None:
    expired_hold(hub, building)
    hours = {d["weekday"]: d for d in hub.client.get("/api/v1/opening-hours", headers=building.staff).json()}
    tuesday = hours[1]
    days = hub.client.get(
        f"/api/v1/rooms/{building.meeting}/free-slots", params={"date": DAY}, headers=building.staff
    )
    assert days.status_code == 200, days.text
    free = days.json()[0]["free"]
    # The whole opening day is free (in winter, local time is UTC).
    assert [(s["start"], s["end"]) for s in free] == [
        (f"{DAY}T{tuesday['opens']}:00Z", f"{DAY}T{tuesday['closes']}:00Z")
    ]


def test_moving_a_booking_onto_an_expired_hold_succeeds_and_sweeps_it(hub: Hub, building: Building) -> None:
    # Made first: making a booking after the hold expired would sweep it (the old way it got freed).
    other = book(hub, building, title="Residents' meeting", start=f"{DAY}T10:00:00", end=f"{DAY}T11:00:00")
    assert other.status_code == 201, other.text
    hold_id = expired_hold(hub, building)
    moved = hub.client.patch(
        f"{API}/{other.json()['id']}",
        json={"start": f"{DAY}T14:30:00", "end": f"{DAY}T15:30:00"},
        headers=building.staff,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == f"{DAY}T14:30:00Z"
    # Swept inside the move's transaction: cancelled (not deleted), its occupancy freed, audited.
    assert stored_status(hub, hold_id) == ("cancelled", "Provisional hold expired")
    assert occupancy_of(hub, hold_id) == 0
    actions = hub.run(
        lambda db: db.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "booking", AuditEntry.object_id == str(hold_id)
            )
        )
    )
    assert sorted(actions) == ["booking.created", "booking.hold_expired"]


def test_booking_onto_an_expired_hold_sweeps_only_the_holds_in_its_way(hub: Hub, building: Building) -> None:
    hold_id = expired_hold(hub, building)
    elsewhere = book(hub, building, room_id=building.hall_b, title="Elsewhere", status="provisional").json()
    set_expiry(hub, elsewhere["id"], utcnow() - timedelta(seconds=1))
    made = book(hub, building, title="Residents' meeting")
    assert made.status_code == 201, made.text
    assert stored_status(hub, hold_id) == ("cancelled", "Provisional hold expired")
    assert occupancy_of(hub, hold_id) == 0
    # The hold in another room was not in the way: still unswept, and still gone to readers.
    assert stored_status(hub, elsewhere["id"]) == ("provisional", "")
    assert occupancy_of(hub, elsewhere["id"]) == 1


def test_a_series_books_over_an_expired_hold(hub: Hub, building: Building) -> None:
    hold_id = expired_hold(hub, building)
    made = hub.client.post(
        "/api/v1/series",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Tuesday class",
            "first_date": DAY,
            "start_time": "14:00",
            "end_time": "15:00",
            "rule": {"freq": "weekly", "count": 2},
        },
    )
    assert made.status_code == 201, made.text
    assert [b["start"] for b in made.json()["booked"]] == [f"{DAY}T14:00:00Z", "2027-01-19T14:00:00Z"]
    assert stored_status(hub, hold_id) == ("cancelled", "Provisional hold expired")


def test_the_days_bookings_leave_out_an_expired_hold_and_show_it_cancelled(
    hub: Hub, building: Building
) -> None:
    hold_id = expired_hold(hub, building)
    live = hub.client.get(API, params={"from": DAY}, headers=building.staff).json()
    assert live["items"] == []
    everything = hub.client.get(API, params={"from": DAY, "include_cancelled": True}, headers=building.staff)
    assert [(b["id"], b["status"], b["cancel_reason"]) for b in everything.json()["items"]] == [
        (hold_id, "cancelled", "Provisional hold expired")
    ]
    one = hub.client.get(f"{API}/{hold_id}", headers=building.staff).json()
    assert (one["status"], one["cancel_reason"]) == ("cancelled", "Provisional hold expired")


def test_an_expired_hold_cannot_be_confirmed(hub: Hub, building: Building) -> None:
    hold_id = expired_hold(hub, building)
    refused = hub.client.post(f"{API}/{hold_id}/confirm", headers=building.staff)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("this provisional hold for Tue 12 Jan 2027 14:00 expired at ")
    assert refused.json()["detail"].endswith("; make a new booking")
    assert stored_status(hub, hold_id)[0] == "provisional"  # refused, so nothing written


def test_an_expired_hold_cannot_be_moved(hub: Hub, building: Building) -> None:
    hold_id = expired_hold(hub, building)
    refused = hub.client.patch(
        f"{API}/{hold_id}",
        json={"start": f"{DAY}T17:00:00", "end": f"{DAY}T18:00:00"},
        headers=building.staff,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("the provisional hold for Tue 12 Jan 2027 14:00 expired at ")


def test_the_desk_shows_an_expired_holds_time_as_free(hub: Hub, building: Building) -> None:
    expired_hold(hub, building)
    hub.login_as(Role.RECEPTIONIST)
    day = hub.client.get("/desk", params={"date": DAY})
    assert day.status_code == 200
    assert HOLD_TITLE not in day.text and "Held for" not in day.text
    assert f"/desk/bookings/new?room_id={building.meeting}&amp;date={DAY}&amp;start=14:00" in day.text
    week = hub.client.get(f"/desk/rooms/{building.meeting}", params={"week": DAY})
    assert week.status_code == 200
    assert "Held for" not in week.text


def test_the_booking_page_shows_an_expired_hold_as_cancelled(hub: Hub, building: Building) -> None:
    hold_id = expired_hold(hub, building)
    hub.login_as(Role.RECEPTIONIST)
    page = hub.client.get(f"/desk/bookings/{hold_id}")
    assert page.status_code == 200
    assert '<span class="tag warn">Cancelled</span>' in page.text
    assert f'action="/desk/bookings/{hold_id}/confirm"' not in page.text
