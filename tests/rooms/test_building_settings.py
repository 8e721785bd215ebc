"""Opening hours, closures and categories are the admin's to set; everyone signed in may read them."""

from __future__ import annotations

from hub.models import Role
from tests.conftest import Hub
from tests.rooms.conftest import Building


def test_admin_sets_opening_hours_and_bookings_follow_them(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    week = {"days": [{"weekday": d, "opens": "09:00", "closes": "17:00"} for d in range(5)]}
    response = hub.client.put("/api/v1/opening-hours", json=week, headers=admin)
    assert response.status_code == 200, response.text
    assert [d["weekday"] for d in response.json()] == [0, 1, 2, 3, 4]
    late = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Evening group",
            "start": "2026-12-01T18:00:00",
            "end": "2026-12-01T19:00:00",
        },
    )
    assert late.status_code == 422
    assert "09:00–17:00" in late.json()["detail"]
    saturday = hub.client.get(
        "/api/v1/availability",
        headers=building.staff,
        params={"date": "2026-12-05", "start": "10:00", "end": "11:00"},
    )
    assert saturday.json() == []
    for bad, field in [
        ({"days": [{"weekday": 1, "opens": "17:00", "closes": "09:00"}]}, "days[0].closes"),
        ({"days": [{"weekday": 8, "opens": "09:00", "closes": "17:00"}]}, "days[0].weekday"),
        ({"days": [{"weekday": 1, "opens": "9am", "closes": "17:00"}]}, "days[0].opens"),
        (
            {
                "days": [
                    {"weekday": 1, "opens": "09:00", "closes": "17:00"},
                    {"weekday": 1, "opens": "10:00", "closes": "12:00"},
                ]
            },
            "days[1].weekday",
        ),
    ]:
        refused = hub.client.put("/api/v1/opening-hours", json=bad, headers=admin)
        assert refused.status_code in (400, 422), bad
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert hub.client.put("/api/v1/opening-hours", json=week, headers=building.staff).status_code == 403


def test_closures_close_the_building(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    added = hub.client.post(
        "/api/v1/closures", json={"day": "2026-12-02", "reason": "Boiler repair"}, headers=admin
    )
    assert added.status_code == 201
    again = hub.client.post("/api/v1/closures", json={"day": "2026-12-02", "reason": "x"}, headers=admin)
    assert again.status_code == 409
    refused = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.charity,
            "title": "Group",
            "start": "2026-12-02T10:00:00",
            "end": "2026-12-02T11:00:00",
        },
    )
    assert "Boiler repair" in refused.json()["detail"]
    listed = hub.client.get("/api/v1/closures", headers=hub.headers_for(Role.TENANT)).json()
    assert [(c["day"], c["reason"]) for c in listed] == [("2026-12-02", "Boiler repair")]


def test_categories_are_configurable(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    added = hub.client.put(
        "/api/v1/categories",
        headers=admin,
        json={"slug": "mental_health", "label": "Mental health", "default_visibility": "private"},
    )
    assert added.status_code == 200
    booking = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.consulting,
            "organisation_id": building.nhs,
            "title": "Talking therapies",
            "category": "mental_health",
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T11:00:00",
        },
    )
    assert booking.json()["visibility"] == "private"
    retired = hub.client.put(
        "/api/v1/categories",
        headers=admin,
        json={"slug": "mental_health", "label": "Mental health", "active": False},
    )
    assert retired.json()["active"] is False
    refused = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.consulting,
            "organisation_id": building.nhs,
            "title": "Talking therapies",
            "category": "mental_health",
            "start": "2026-12-01T12:00:00",
            "end": "2026-12-01T13:00:00",
        },
    )
    assert refused.status_code == 422
    slugs = [c["slug"] for c in hub.client.get("/api/v1/categories", headers=building.staff).json()]
    assert slugs[:3] == ["clinic", "therapy", "class"] and "mental_health" in slugs
    bad = hub.client.put("/api/v1/categories", headers=admin, json={"slug": "Bad Slug!", "label": "x"})
    assert bad.status_code == 400
