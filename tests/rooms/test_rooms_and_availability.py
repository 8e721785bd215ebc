"""Rooms, combined rooms, rates, availability, and the database's own no-overlap guarantee."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.db import create_engine, writer
from hub.models import Role
from tests.conftest import Hub, backend
from tests.rooms.conftest import Building


def test_admin_manages_rooms_and_others_cannot(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    created = hub.client.post(
        "/api/v1/rooms",
        headers=admin,
        json={
            "name": "IT Suite",
            "capacity": 14,
            "features": ["computers", "step_free"],
            "location": "First floor",
        },
    )
    assert created.status_code == 201, created.text
    room = created.json()
    assert room["features"] == ["computers", "step_free"]
    assert (
        hub.client.post(
            "/api/v1/rooms", headers=building.staff, json={"name": "X", "capacity": 1}
        ).status_code
        == 403
    )
    renamed = hub.client.patch(
        f"/api/v1/rooms/{room['id']}", headers=admin, json={"capacity": 16, "bookable": False}
    )
    assert renamed.json()["capacity"] == 16 and renamed.json()["bookable"] is False
    refused = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": room["id"],
            "organisation_id": building.charity,
            "title": "Coding club",
            "start": "2026-12-01T14:00:00",
            "end": "2026-12-01T15:00:00",
        },
    )
    assert refused.status_code == 422
    listing = {
        r["name"]: r for r in hub.client.get("/api/v1/rooms", headers=hub.headers_for(Role.TENANT)).json()
    }
    assert listing["Main Hall"]["parts"] == sorted([building.hall_a, building.hall_b])
    assert listing["Hall A"]["part_of"] == [building.main_hall]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "Hall A", "capacity": 10}, 409, "name"),
        ({"name": "Loft", "capacity": -1}, 400, "capacity"),
        ({"name": "Loft", "capacity": 5, "features": ["jacuzzi"]}, 422, "features"),
        ({"name": "Loft", "capacity": 5, "parts": [424242]}, 422, "parts"),
        ({"name": "Loft", "capacity": 5, "setup_minutes": 600}, 400, "setup_minutes"),
        ({"name": "", "capacity": 5}, 400, "name"),
    ],
)
def test_bad_room_input(
    hub: Hub, building: Building, payload: dict[str, Any], status: int, field: str
) -> None:
    response = hub.client.post("/api/v1/rooms", headers=hub.headers_for(Role.ADMIN), json=payload)
    assert response.status_code == status, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_room_cannot_contain_itself(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    loop = hub.client.patch(
        f"/api/v1/rooms/{building.hall_a}", headers=admin, json={"parts": [building.main_hall]}
    )
    assert loop.status_code == 422
    itself = hub.client.patch(
        f"/api/v1/rooms/{building.hall_a}", headers=admin, json={"parts": [building.hall_a]}
    )
    assert itself.status_code == 422


def test_rates_are_set_per_room_and_band(hub: Hub, building: Building) -> None:
    admin = hub.headers_for(Role.ADMIN)
    response = hub.client.put(
        "/api/v1/rates",
        headers=admin,
        json={"room_id": building.meeting, "band": "tenant", "hourly_pence": 800, "minimum_pence": 800},
    )
    assert response.status_code == 200, response.text
    rates = hub.client.get(
        "/api/v1/rates", params={"room_id": building.meeting}, headers=hub.headers_for(Role.TRUSTEE)
    )
    assert {r["band"]: r["hourly_pence"] for r in rates.json()} == {
        "commercial": 4_000,
        "community": 1_200,
        "statutory": 2_500,
        "tenant": 800,
    }
    for payload, field in [
        (
            {"room_id": building.meeting, "band": "tenant", "hourly_pence": 800, "vat_rate_bp": 2000},
            "vat_rate_bp",
        ),
        (
            {"room_id": building.meeting, "band": "tenant", "hourly_pence": 800, "vat_treatment": "standard"},
            "vat_rate_bp",
        ),
        ({"room_id": building.meeting, "band": "friends", "hourly_pence": 800}, "band"),
        ({"room_id": building.meeting, "band": "tenant", "hourly_pence": -5}, "hourly_pence"),
        ({"room_id": 424242, "band": "tenant", "hourly_pence": 5}, "room_id"),
    ]:
        bad = hub.client.put("/api/v1/rates", headers=admin, json=payload)
        assert bad.status_code in (400, 422), payload
        assert field in [e["field"] for e in bad.json()["errors"]], payload
    assert (
        hub.client.put(
            "/api/v1/rates",
            headers=building.staff,
            json={"room_id": building.meeting, "band": "tenant", "hourly_pence": 1},
        ).status_code
        == 403
    )


def test_availability_for_twelve_people_with_features(hub: Hub, building: Building) -> None:
    tenant = hub.headers_for(Role.TENANT, organisation_id=building.charity)
    params = {"date": "2026-12-01", "start": "14:00", "end": "16:00", "capacity": 12}
    free = hub.client.get("/api/v1/availability", params=params, headers=tenant).json()
    assert [r["name"] for r in free] == ["Meeting Room", "Hall A", "Hall B", "Main Hall"]
    looped = hub.client.get(
        "/api/v1/availability", params={**params, "features": "hearing_loop"}, headers=tenant
    )
    assert [r["name"] for r in looped.json()] == ["Meeting Room", "Hall B"]
    hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.hall_b,
            "organisation_id": building.nhs,
            "title": "Hearing clinic",
            "start": "2026-12-01T15:00:00",
            "end": "2026-12-01T17:00:00",
        },
    )
    after = hub.client.get("/api/v1/availability", params=params, headers=tenant).json()
    assert [r["name"] for r in after] == ["Meeting Room", "Hall A"]  # Hall B and the whole hall are taken
    sunday = hub.client.get(
        "/api/v1/availability", params={**params, "date": "2026-12-06"}, headers=tenant
    ).json()
    assert sunday == []


def test_free_slots_across_a_week(hub: Hub, building: Building) -> None:
    hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.meeting,
            "organisation_id": building.nhs,
            "title": "Team meeting",
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T12:00:00",
        },
    )
    days = hub.client.get(
        f"/api/v1/rooms/{building.meeting}/free-slots",
        params={"date": "2026-11-30", "days": 7},
        headers=building.staff,
    ).json()
    assert [d["open"] for d in days] == [True, True, True, True, True, True, False]
    tuesday = days[1]["free"]
    # Busy 09:45-12:15 with buffers; a new booking needs its own 15-minute buffers as well.
    assert [(s["start_local"][11:16], s["end_local"][11:16]) for s in tuesday] == [
        ("08:00", "09:30"),
        ("12:30", "22:00"),
    ]
    assert days[6]["closed_reason"] == "closed on Sundays"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date": "2026-13-01", "start": "14:00", "end": "15:00"}, "date"),
        ({"date": "2026-12-01", "start": "2pm", "end": "15:00"}, "start"),
        ({"date": "2026-12-01", "start": "15:00", "end": "14:00"}, "end"),
        ({"date": "2026-12-01", "start": "14:00", "end": "15:00", "capacity": -1}, "capacity"),
        ({"date": "2026-12-01", "start": "14:00", "end": "15:00", "features": "moat"}, "features"),
        ({"start": "14:00", "end": "15:00"}, "date"),
    ],
)
def test_bad_availability_queries(hub: Hub, building: Building, params: dict[str, Any], field: str) -> None:
    response = hub.client.get("/api/v1/availability", params=params, headers=building.staff)
    assert response.status_code in (400, 422), response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_the_database_itself_refuses_overlapping_occupancy(hub: Hub, building: Building) -> None:
    """Below the Python check: PostgreSQL's exclusion constraint, or SQLite's write lock."""
    settings = hub.client.app.state.settings
    first = hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.hall_a,
            "organisation_id": building.charity,
            "title": "Youth club",
            "start": "2026-12-01T14:00:00",
            "end": "2026-12-01T16:00:00",
        },
    ).json()

    async def insert_overlap() -> None:
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO room_occupancy (booking_id, room_id, busy_start, busy_end) "
                        "VALUES (:b, :r, :s, :e)"
                    ),
                    {
                        "b": first["id"],
                        "r": building.hall_a,
                        "s": datetime(2026, 12, 1, 15, tzinfo=UTC),
                        "e": datetime(2026, 12, 1, 17, tzinfo=UTC),
                    },
                )
        finally:
            await engine.dispose()

    async def two_writers() -> None:
        engine = create_engine(settings)
        try:
            async with writer(engine).connect() as holder:
                await holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: holds the write lock
                other = writer(engine).execution_options()
                async with other.connect() as second:
                    await second.exec_driver_sql("PRAGMA busy_timeout = 100")
                    await second.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    import asyncio

    if backend() == "postgresql":
        with pytest.raises(IntegrityError, match="ex_room_occupancy_no_overlap"):
            asyncio.run(insert_overlap())
    else:
        with pytest.raises(OperationalError, match="locked"):
            asyncio.run(two_writers())
