# ruff: noqa: F811  (the rooms tests' ``building`` fixture is imported by name)
"""The tenant portal's pages, with the test client (issue 13 item 6).

Expectations from the issue: a tenant's home has "their agreement, its key dates, this month's hours
used and left, their next bookings, their balance and a Pay now link" and "their calendar feed
links"; they book a tenant-bookable room themselves with "the live quote — free within the
allowance" and the clash check, "within opening hours only, no overrides"; they list their own
bookings, "coming and past, that they can open"; "their invoices and statement, both in the menu";
and "a tenant cannot read or change another's agreement, unit, document, booking or allowance by
guessing ids (404)".
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from hub.auth import Identity
from hub.billing.schemas import ChargeCreate, InvoiceCreate
from hub.billing.services import charges, invoices
from hub.models import RateBand, Role
from rooms.schemas import RoomUpdate
from rooms.services import rooms as room_service
from tenants.schemas import BreakIn
from tests.conftest import Hub
from tests.rooms.conftest import Building, building, set_rate  # noqa: F401 (the fixture)
from tests.tenants.conftest import hub_settings, make_agreement, make_unit

SYSTEM = Identity.system("test")


def next_weekday(hub: Hub, weekday: int = 1) -> date:
    """A day next week (Tuesday by default): open 08:00–22:00, and in the future."""
    today = hub_settings(hub).today()
    day = today + timedelta(days=7)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


@pytest.fixture
def portal(hub: Hub, building: Building) -> dict[str, int]:
    """The charity rents Office 3 with ten meeting-room hours a month; the meeting room is for
    tenants (tenant rate £10 an hour); a tenant of the charity is signed in."""
    hub.run(
        lambda db: room_service.update_room(db, SYSTEM, building.meeting, RoomUpdate(tenant_bookable=True))
    )
    set_rate(hub, building.meeting, RateBand.TENANT, 1_000)
    today = hub_settings(hub).today()
    office = make_unit(hub, "Office 3")
    agreement = make_agreement(
        hub,
        building.charity,
        [office],
        today.replace(day=1) - timedelta(days=400),
        today + timedelta(days=700),
        included_minutes_per_month=600,
        breaks=[BreakIn(break_date=today + timedelta(days=200), notice_days=90)],
    )
    other_unit = make_unit(hub, "Office 4")
    others = make_agreement(
        hub, building.nhs, [other_unit], today - timedelta(days=30), today + timedelta(days=300)
    )
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    return {"agreement": agreement, "others": others}


def book(
    hub: Hub, room_id: int, day: date, start: str, end: str, title: str = "Trustees' meeting", **extra: str
) -> Any:
    return hub.client.post(
        "/my/book-a-room",
        data={
            "_csrf": hub.csrf("/my/book-a-room"),
            "room_id": str(room_id),
            "date": day.isoformat(),
            "start": start,
            "end": end,
            "title": title,
            **extra,
        },
        follow_redirects=False,
    )


def test_the_home_page_shows_the_agreement_hours_bookings_balance_and_feeds(
    hub: Hub, building: Building, portal: dict[str, int]
) -> None:
    settings = hub_settings(hub)
    charge = ChargeCreate(
        organisation_id=building.charity, description="Key fob", net_pence=1_500, supply_date=settings.today()
    )
    charge_id = hub.run(lambda db: charges.create_manual(db, SYSTEM, charge)).id
    invoice = hub.run(
        lambda db: invoices.create_invoice(
            db, settings, SYSTEM, InvoiceCreate(organisation_id=building.charity, charge_ids=[charge_id])
        )
    )
    day = next_weekday(hub)
    assert book(hub, building.meeting, day, "10:00", "11:30").status_code == 303

    home = hub.client.get("/")
    assert home.status_code == 200
    text = home.text
    assert "Your agreement" in text and "Office 3" in text
    assert "Break date: give notice by" in text
    assert "8 h 30 min left</strong> of 10 h included" in text
    assert "Trustees&#39; meeting" in text and re.search(r'href="/my/bookings/\d+"', text)
    assert "You owe <strong>£15.00</strong>" in text
    assert f'href="/invoices/{invoice.id}"' in text and "Pay now" in text
    assert 'href="/my/statement"' in text and 'href="/account/calendars"' in text
    # The menu: the tenant's own pages, invoices and statement among them.
    for link in ("/my/bookings", "/my/book-a-room", "/my/agreement", "/my/statement", "/invoices"):
        assert f'href="{link}"' in text


def test_a_tenant_books_free_within_its_hours_sees_it_listed_and_cancels_it(
    hub: Hub, building: Building, portal: dict[str, int]
) -> None:
    form = hub.client.get("/my/book-a-room")
    assert form.status_code == 200
    assert "Meeting Room" in form.text and "Hall A" not in form.text
    assert "10 h</strong> of your 10 h included hours left" in form.text
    day = next_weekday(hub)
    quote = book(hub, building.meeting, day, "14:00", "15:00", action="quote")
    assert quote.status_code == 200
    assert "(no hire charge)" in quote.text and "No clashes" in quote.text
    assert "Included in your meeting-room hours: 9 h left this month after this booking" in quote.text

    made = book(hub, building.meeting, day, "14:00", "15:00")
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    assert re.fullmatch(r"/my/bookings/\d+", location)
    page = hub.client.get(location)
    assert "No hire charge" in page.text and "no hire charge on this booking" in page.text  # the flash

    listed = hub.client.get("/my/bookings")
    assert f'href="{location}"' in listed.text and "Included" in listed.text
    cancelled = hub.client.post(
        f"{location}/cancel",
        data={"_csrf": hub.csrf(location), "reason": "No longer needed"},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    after = hub.client.get("/my/bookings").text
    coming = after.split('id="coming-h"')[1].split('id="past-h"')[0]
    assert f'href="{location}"' in coming and "Cancelled" in coming
    assert "10 h</strong> of your 10 h" in hub.client.get("/my/book-a-room").text  # hours given back


@pytest.mark.parametrize(
    ("start", "end", "room", "title", "status", "field"),
    [
        ("06:00", "07:00", "meeting", "Early", 422, "start"),  # before opening
        ("21:00", "23:00", "meeting", "Late", 422, "start"),  # after closing
        ("10:00", "11:00", "hall_a", "Hall", 403, "room_id"),  # not a tenants' room
        ("10:00", "11:00", "meeting", "", 422, "title"),
        ("11:00", "10:00", "meeting", "Backwards", 422, "end"),
        ("ten", "11:00", "meeting", "Bad time", 422, "start"),
    ],
)
def test_a_refused_booking_names_the_field_and_books_nothing(
    hub: Hub,
    building: Building,
    portal: dict[str, int],
    start: str,
    end: str,
    room: str,
    title: str,
    status: int,
    field: str,
) -> None:
    room_id = building.meeting if room == "meeting" else building.hall_a
    response = book(hub, room_id, next_weekday(hub), start, end, title)
    assert response.status_code == status, response.text
    assert f'id="{field}-error"' in response.text or f'href="#{field}"' in response.text
    assert "No bookings in the next" in hub.client.get("/my/bookings").text


def test_a_clash_is_refused_with_the_busy_time(hub: Hub, building: Building, portal: dict[str, int]) -> None:
    day = next_weekday(hub)
    assert book(hub, building.meeting, day, "10:00", "11:00").status_code == 303
    clash = book(hub, building.meeting, day, "10:30", "11:30", "Second meeting")
    assert clash.status_code == 409
    assert "That time is taken" in clash.text and "Meeting Room is busy" in clash.text


def test_the_agreement_page_and_statement(hub: Hub, building: Building, portal: dict[str, int]) -> None:
    page = hub.client.get("/my/agreement")
    assert page.status_code == 200
    assert "Office 3" in page.text and "Office 4" not in page.text
    assert "Break date: give notice by" in page.text
    assert "10 h a month" in page.text
    assert "has not uploaded the signed copy yet" in page.text
    statement = hub.client.get("/my/statement", follow_redirects=False)
    assert statement.status_code == 303
    assert statement.headers["location"] == f"/organisations/{building.charity}/statement"
    assert hub.client.get(statement.headers["location"]).status_code == 200


def test_another_organisations_things_are_not_found(
    hub: Hub, building: Building, portal: dict[str, int]
) -> None:
    others = portal["others"]
    theirs = hub.client.post(
        "/api/v1/bookings",
        json={
            "room_id": building.meeting,
            "organisation_id": building.nhs,
            "title": "Their meeting",
            "start": f"{next_weekday(hub).isoformat()}T16:00:00",
            "end": f"{next_weekday(hub).isoformat()}T17:00:00",
        },
        headers=building.staff,
    ).json()
    assert hub.client.get(f"/my/bookings/{theirs['id']}").status_code == 404
    assert hub.client.get(f"/api/v1/agreements/{others}").status_code == 404
    assert hub.client.get(f"/api/v1/agreements/{others}/document").status_code == 404
    assert hub.client.get(f"/organisations/{building.nhs}/statement").status_code == 404
    assert "Their meeting" not in hub.client.get("/my/bookings").text
    assert "Office 4" not in hub.client.get("/").text


def test_the_portal_is_the_tenants(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    for path in ("/my/bookings", "/my/book-a-room", "/my/agreement", "/my/statement"):
        assert hub.client.get(path).status_code == 403
    home = hub.client.get("/").text
    assert 'href="/my/book-a-room"' not in home


def test_a_tenant_with_no_agreement_is_told_so(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TENANT, organisation_id=building.nhs)
    home = hub.client.get("/").text
    assert "no agreement in force" in home
    assert "includes no meeting-room hours" in home
    assert "no agreement on record" in hub.client.get("/my/agreement").text


def test_the_signed_agreement_downloads_from_the_agreement_page(
    hub: Hub, building: Building, portal: dict[str, int]
) -> None:
    from tenants.services import agreements

    settings = hub_settings(hub)
    content = b"%PDF-1.4\n% signed licence\n%%EOF\n"
    hub.run(
        lambda db: agreements.upload_document(
            db, settings, SYSTEM, portal["agreement"], content, "licence.pdf"
        )
    )
    page = hub.client.get("/my/agreement").text
    link = f'href="/api/v1/agreements/{portal["agreement"]}/document"'
    assert link in page and "Download the signed agreement" in page
    download = hub.client.get(f"/api/v1/agreements/{portal['agreement']}/document")
    assert download.status_code == 200 and download.content == content
