"""Tenants booking rooms themselves, and allowance pricing (issue 13 item 4, item 6, "Bad input").

Expectations from the issue: a tenant books a tenant-bookable room for its own organisation,
within opening hours, with no overrides, with the usual clash check, and cancels its own booking;
"the booking's own hire charge for a tenant with hours left is zero, and says so"; "a
cancellation gives the hours back"; refused input is a 4xx naming the field, and writes nothing;
another organisation's booking answers 404. The allowance itself is a test module
(``tests/modules/allowance.py``) answering rooms' HIRE_ALLOWANCE question.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from hub.app import create_app, default_modules
from hub.config import Settings
from hub.models import Role
from tests.conftest import Hub
from tests.modules.allowance import allowance_module
from tests.rooms.conftest import Building

API = "/api/v1/bookings"
# A Tuesday in January 2027: the building is open 08:00–22:00.
DAY = "2027-01-12"


@pytest.fixture
def grants() -> dict[int, int]:
    """Included minutes per month by organisation id (the test module reads it as it changes)."""
    return {}


@pytest.fixture
def hub(settings: Settings, grants: dict[int, int]) -> Iterator[Hub]:
    app = create_app(settings, modules=[*default_modules(), allowance_module(grants)])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


@pytest.fixture
def tenant_room(hub: Hub, building: Building) -> int:
    """The building's meeting room, marked for tenants by an admin through the API."""
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.patch(
        f"/api/v1/rooms/{building.meeting}", json={"tenant_bookable": True}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["tenant_bookable"] is True
    return building.meeting


@pytest.fixture
def tenant(hub: Hub, building: Building, grants: dict[int, int]) -> dict[str, str]:
    """A tenant of the charity, with three included hours a month."""
    grants[building.charity] = 180
    return hub.headers_for(Role.TENANT, organisation_id=building.charity)


def booking(
    room_id: int, organisation_id: int, start: str = "10:00", end: str = "11:00", **extra: Any
) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "organisation_id": organisation_id,
        "title": "Trustees' meeting",
        "start": f"{DAY}T{start}:00",
        "end": f"{DAY}T{end}:00",
        **extra,
    }


def count_bookings(hub: Hub, staff: dict[str, str]) -> int:
    response = hub.client.get(API, params={"from": DAY, "include_cancelled": True}, headers=staff)
    return int(response.json()["total"])


def field_of(response: Any) -> str:
    return str(response.json()["errors"][0]["field"])


# --- booking within the allowance -------------------------------------------------------------------


def test_a_tenant_books_a_tenant_room_free_within_its_hours_and_it_says_so(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    quote = hub.client.post(
        "/api/v1/quotes",
        json={"room_id": tenant_room, "start": f"{DAY}T10:00:00", "end": f"{DAY}T11:00:00"},
        headers=tenant,
    )
    assert quote.status_code == 200, quote.text
    assert quote.json()["gross_pence"] == 0 and quote.json()["net_pence"] == 0
    assert "2h left this month" in quote.json()["allowance_note"]
    assert quote.json()["clashes"] == [] and quote.json()["within_opening_hours"] is True

    made = hub.client.post(API, json=booking(tenant_room, building.charity), headers=tenant)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "confirmed" and body["organisation_id"] == building.charity
    assert body["price_net_pence"] == 0 and body["vat_pence"] == 0
    assert body["price_description"] == "Meeting Room, within the included hours: 2h left this month"
    # The booking's hire charge on the money path is zero too, and its line says why.
    charges = hub.client.get("/api/v1/charges", params={"organisation_id": building.charity}, headers=tenant)
    mine = [c for c in charges.json()["items"] if c.get("source_id") == str(body["id"])]
    assert all(c["net_pence"] == 0 for c in mine)


def test_hours_beyond_the_allowance_are_priced_as_usual(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    first = hub.client.post(
        API, json=booking(tenant_room, building.charity, "09:00", "11:00"), headers=tenant
    )
    assert first.status_code == 201 and first.json()["price_net_pence"] == 0
    # One hour is left: two more hours are not covered, so the room's rate prices them (the
    # charity's community band: 2 hours at £12 an hour).
    second = hub.client.post(
        API, json=booking(tenant_room, building.charity, "14:00", "16:00"), headers=tenant
    )
    assert second.status_code == 201, second.text
    assert second.json()["price_net_pence"] == 2_400
    assert "left this month" not in second.json()["price_description"]


def test_a_cancellation_gives_the_hours_back(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    made = hub.client.post(API, json=booking(tenant_room, building.charity, "09:00", "12:00"), headers=tenant)
    assert made.status_code == 201 and made.json()["price_net_pence"] == 0
    proposed = {"room_id": tenant_room, "start": f"{DAY}T14:00:00", "end": f"{DAY}T15:00:00"}
    before = hub.client.post("/api/v1/quotes", json=proposed, headers=tenant).json()
    assert before["allowance_note"] is None and before["net_pence"] == 1_200
    cancelled = hub.client.post(
        f"{API}/{made.json()['id']}/cancel", json={"reason": "Not needed"}, headers=tenant
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    after = hub.client.post("/api/v1/quotes", json=proposed, headers=tenant).json()
    assert after["net_pence"] == 0 and "2h left this month" in after["allowance_note"]


def test_staff_booking_for_the_tenant_is_priced_by_the_allowance_and_a_move_reprices_it(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    made = hub.client.post(
        API, json=booking(tenant_room, building.charity, "10:00", "12:00"), headers=building.staff
    )
    assert made.status_code == 201 and made.json()["price_net_pence"] == 0
    assert "1h left this month" in made.json()["price_description"]
    # Moved to three hours: it still fits (its own two hours are not counted twice).
    moved = hub.client.patch(
        f"{API}/{made.json()['id']}", json={"end": f"{DAY}T13:00:00"}, headers=building.staff
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["price_net_pence"] == 0 and "0h left" in moved.json()["price_description"]
    # Four hours do not fit: the room's rate prices it (half-day rate, £40).
    longer = hub.client.patch(
        f"{API}/{made.json()['id']}", json={"end": f"{DAY}T14:00:00"}, headers=building.staff
    )
    assert longer.json()["price_net_pence"] == 4_000


def test_a_room_not_for_tenants_is_priced_as_usual_even_with_hours_left(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    made = hub.client.post(API, json=booking(building.hall_a, building.charity), headers=building.staff)
    assert made.status_code == 201 and made.json()["price_net_pence"] == 1_200


def test_a_tenant_with_no_allowance_pays_the_usual_hire(
    hub: Hub, building: Building, tenant_room: int
) -> None:
    other = hub.headers_for(Role.TENANT, organisation_id=building.nhs)
    made = hub.client.post(API, json=booking(tenant_room, building.nhs), headers=other)
    assert made.status_code == 201, made.text
    assert made.json()["price_net_pence"] == 2_500  # the NHS trust's statutory band
    assert made.json()["organisation_id"] == building.nhs


# --- what a tenant may not do ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        # Another organisation (or one that does not exist): as if it did not exist.
        ({"organisation_id": "nhs"}, 422, "organisation_id"),
        ({"organisation_id": 987654}, 422, "organisation_id"),
        # A room not marked for tenants.
        ({"room_id": "hall_a"}, 403, "room_id"),
        # Outside opening hours (the building opens at 08:00; closed on Sundays).
        ({"start": f"{DAY}T06:00:00", "end": f"{DAY}T07:00:00"}, 422, "start"),
        ({"start": "2027-01-17T10:00:00", "end": "2027-01-17T11:00:00"}, 422, "start"),
        ({"start": f"{DAY}T21:00:00", "end": f"{DAY}T23:00:00"}, 422, "start"),
        # The staff's overrides, whatever their value.
        ({"override_opening_hours": True, "override_reason": "Late meeting"}, 403, "override_opening_hours"),
        ({"override_reason": "please"}, 403, "override_reason"),
        ({"band": "tenant"}, 403, "band"),
        ({"band": "commercial"}, 403, "band"),
        ({"setup_minutes": 0}, 403, "setup_minutes"),
        ({"cleardown_minutes": 0}, 403, "cleardown_minutes"),
        ({"status": "provisional"}, 403, "status"),
    ],
)
def test_a_tenant_booking_is_refused_naming_the_field_and_nothing_is_written(
    hub: Hub,
    building: Building,
    tenant_room: int,
    tenant: dict[str, str],
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    names = {"nhs": building.nhs, "hall_a": building.hall_a}
    data = booking(tenant_room, building.charity)
    data.update({k: names.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    before = count_bookings(hub, building.staff)
    response = hub.client.post(API, json=data, headers=tenant)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field_of(response) == field
    assert count_bookings(hub, building.staff) == before


def test_the_same_rules_hold_for_a_tenants_quote(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    base = {"room_id": tenant_room, "start": f"{DAY}T10:00:00", "end": f"{DAY}T11:00:00"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"organisation_id": building.nhs}, 422, "organisation_id"),
        ({"room_id": building.hall_a}, 403, "room_id"),
        ({"band": "commercial"}, 403, "band"),
        ({"exclude_booking_id": 1}, 403, "exclude_booking_id"),
    ]
    for change, status, field in cases:
        response = hub.client.post("/api/v1/quotes", json={**base, **change}, headers=tenant)
        assert (response.status_code, field_of(response)) == (status, field), response.text


def test_a_tenant_booking_meets_the_clash_check(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    taken = hub.client.post(
        API, json=booking(tenant_room, building.nhs, "10:00", "11:00"), headers=building.staff
    )
    assert taken.status_code == 201
    # The meeting room has 15 minutes' cleardown: 11:00 is still busy.
    response = hub.client.post(
        API, json=booking(tenant_room, building.charity, "11:00", "12:00"), headers=tenant
    )
    assert response.status_code == 409 and field_of(response) == "start"
    assert "Private" not in response.text and "Trustees" not in response.json()["detail"]
    assert response.json()["clashes"][0]["room_id"] == tenant_room
    quote = hub.client.post(
        "/api/v1/quotes",
        json={"room_id": tenant_room, "start": f"{DAY}T11:00:00", "end": f"{DAY}T12:00:00"},
        headers=tenant,
    )
    assert len(quote.json()["clashes"]) == 1


def test_a_tenant_cancels_its_own_bookings_only(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    others = hub.client.post(
        API, json=booking(tenant_room, building.nhs, "15:00", "16:00"), headers=building.staff
    )
    assert others.status_code == 201
    refused = hub.client.post(
        f"{API}/{others.json()['id']}/cancel", json={"reason": "mine now"}, headers=tenant
    )
    assert refused.status_code == 404
    missing = hub.client.post(f"{API}/987654/cancel", json={"reason": "x"}, headers=tenant)
    assert missing.status_code == 404
    still = hub.client.get(f"{API}/{others.json()['id']}", headers=building.staff).json()
    assert still["status"] == "confirmed"
    # A colleague's booking for the same organisation is the tenant's own.
    colleague = hub.headers_for(Role.TENANT, organisation_id=building.charity)
    mine = hub.client.post(API, json=booking(tenant_room, building.charity), headers=colleague)
    assert mine.status_code == 201
    waive = hub.client.post(
        f"{API}/{mine.json()['id']}/cancel", json={"reason": "x", "waive_fee": True}, headers=tenant
    )
    assert waive.status_code == 422 and field_of(waive) == "waive_fee"
    done = hub.client.post(f"{API}/{mine.json()['id']}/cancel", json={"reason": "Not needed"}, headers=tenant)
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = hub.client.post(f"{API}/{mine.json()['id']}/cancel", json={"reason": "twice"}, headers=tenant)
    assert again.status_code == 409


def test_a_tenant_still_cannot_change_or_confirm_bookings(
    hub: Hub, building: Building, tenant_room: int, tenant: dict[str, str]
) -> None:
    mine = hub.client.post(API, json=booking(tenant_room, building.charity), headers=tenant).json()
    assert hub.client.patch(f"{API}/{mine['id']}", json={"title": "x"}, headers=tenant).status_code == 403
    assert hub.client.post(f"{API}/{mine['id']}/confirm", headers=tenant).status_code == 403


# --- the room's setting ----------------------------------------------------------------------------


def test_rooms_say_whether_tenants_may_book_them(hub: Hub, building: Building, tenant_room: int) -> None:
    tenant = hub.headers_for(Role.TENANT, organisation_id=building.charity)
    rooms = {r["id"]: r for r in hub.client.get("/api/v1/rooms", headers=tenant).json()}
    assert rooms[tenant_room]["tenant_bookable"] is True
    assert rooms[building.hall_a]["tenant_bookable"] is False
    made = hub.client.post(
        "/api/v1/rooms",
        json={"name": "Quiet Room", "capacity": 4, "tenant_bookable": True},
        headers=hub.headers_for(Role.ADMIN),
    )
    assert made.status_code == 201 and made.json()["tenant_bookable"] is True


def test_an_admin_sets_it_on_the_room_page_and_reception_sees_it(hub: Hub, building: Building) -> None:
    hub.login_as(Role.ADMIN)
    page = hub.client.get(f"/desk/rooms/{building.hall_a}")
    assert 'id="tenant_bookable"' in page.text and "Tenants may book this room themselves" in page.text
    saved = hub.client.post(
        f"/desk/rooms/{building.hall_a}/tenant-bookable",
        data={"_csrf": hub.csrf(f"/desk/rooms/{building.hall_a}"), "tenant_bookable": "yes"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    room = hub.client.get(f"/api/v1/rooms/{building.hall_a}").json()
    assert room["tenant_bookable"] is True
    assert (
        'checked aria-describedby="tenant_bookable-hint"'
        in hub.client.get(f"/desk/rooms/{building.hall_a}").text
    )
    cleared = hub.client.post(
        f"/desk/rooms/{building.hall_a}/tenant-bookable",
        data={"_csrf": hub.csrf(f"/desk/rooms/{building.hall_a}")},
        follow_redirects=False,
    )
    assert cleared.status_code == 303
    assert hub.client.get(f"/api/v1/rooms/{building.hall_a}").json()["tenant_bookable"] is False
    audit = hub.client.get("/api/v1/audit", params={"object_type": "room"}).json()
    assert any("tenant_bookable" in (e.get("changes") or {}) for e in audit["items"])

    hub.login_as(Role.RECEPTIONIST)
    shown = hub.client.get(f"/desk/rooms/{building.meeting}")
    assert 'id="tenant_bookable"' not in shown.text


# --- the tenant's booking page -------------------------------------------------------------------------


def test_a_tenant_opens_its_own_booking_and_cancels_it_on_its_page(
    hub: Hub, building: Building, tenant_room: int, grants: dict[int, int]
) -> None:
    grants[building.charity] = 180
    user = hub.login_as(Role.TENANT, organisation_id=building.charity)
    assert user.organisation_id == building.charity
    token = hub.csrf("/")
    made = hub.client.post(
        API, json=booking(tenant_room, building.charity, "10:00", "11:30"), headers={"x-csrf-token": token}
    )
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]
    page = hub.client.get(f"/my/bookings/{booking_id}")
    assert page.status_code == 200
    assert "Trustees&#39; meeting" in page.text and "No hire charge" in page.text
    assert "1h 30m left this month" in page.text
    assert 'for="reason"' in page.text
    # Nothing given: the form says why, and nothing changes.
    refused = hub.client.post(
        f"/my/bookings/{booking_id}/cancel", data={"_csrf": hub.csrf(f"/my/bookings/{booking_id}")}
    )
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    done = hub.client.post(
        f"/my/bookings/{booking_id}/cancel",
        data={"_csrf": hub.csrf(f"/my/bookings/{booking_id}"), "reason": "Meeting moved online"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = hub.client.get(f"/my/bookings/{booking_id}")
    assert "Cancelled" in after.text and "Meeting moved online" in after.text
    assert "Nothing to pay; any included hours it used are given back" in after.text
    assert 'action="/my/bookings/' not in after.text


def test_another_organisations_booking_page_is_not_found(
    hub: Hub, building: Building, tenant_room: int
) -> None:
    others = hub.client.post(API, json=booking(tenant_room, building.nhs), headers=building.staff).json()
    hub.login_as(Role.TENANT, organisation_id=building.charity)
    assert hub.client.get(f"/my/bookings/{others['id']}").status_code == 404
    assert hub.client.get("/my/bookings/987654").status_code == 404
    cancel = hub.client.post(
        f"/my/bookings/{others['id']}/cancel", data={"_csrf": hub.csrf("/"), "reason": "x"}
    )
    assert cancel.status_code == 404
    staff_view = hub.client.get(f"{API}/{others['id']}", headers=building.staff).json()
    assert staff_view["status"] == "confirmed"
    # Staff opening the address are sent to the desk's page for it.
    hub.login_as(Role.RECEPTIONIST)
    sent = hub.client.get(f"/my/bookings/{others['id']}", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/desk/bookings/{others['id']}"
