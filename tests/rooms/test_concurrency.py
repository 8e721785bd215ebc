"""Never a clash: twenty simultaneous requests for one slot, through a real server."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from hub.models import Role
from rooms.models import Booking, RoomOccupancy
from tests.conftest import Hub
from tests.rooms.conftest import Building


def test_twenty_simultaneous_requests_for_one_slot_book_it_once(
    hub: Hub, building: Building, live_url: str
) -> None:
    tokens = [hub.headers_for(Role.RECEPTIONIST) for _ in range(4)]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
            # Different organisations and titles: only the slot is shared. Main Hall and its
            # parts compete too, so some requests go for Hall A and some for the whole hall.
            requests = [
                client.post(
                    "/api/v1/bookings",
                    json={
                        "room_id": building.main_hall if i % 3 == 0 else building.hall_a,
                        "organisation_id": building.charity if i % 2 else building.nhs,
                        "title": f"Request {i}",
                        "start": "2026-12-08T14:00:00",
                        "end": "2026-12-08T16:00:00",
                    },
                    headers=tokens[i % len(tokens)],
                )
                for i in range(20)
            ]
            return await asyncio.gather(*requests)

    responses = asyncio.run(fire())
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [
        (r.status_code, r.text[:200]) for r in responses if r.status_code not in (201, 409)
    ]
    for refused in (r for r in responses if r.status_code == 409):
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["clashes"][0]["busy_start"] == "2026-12-08T14:00:00+00:00"
        assert problem["clashes"][0]["busy_end"] == "2026-12-08T16:00:00+00:00"
        # The clash says when, never whose or what.
        assert "Request" not in refused.text and "Coastal" not in refused.text and "NHS" not in refused.text
    live = hub.run(lambda db: db.scalar(select(func.count()).select_from(Booking)))
    assert live == 1


def test_concurrent_requests_for_different_rooms_all_succeed(
    hub: Hub, building: Building, live_url: str
) -> None:
    headers = hub.headers_for(Role.RECEPTIONIST)
    rooms = [building.hall_a, building.hall_b, building.consulting, building.meeting]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
            return await asyncio.gather(
                *[
                    client.post(
                        "/api/v1/bookings",
                        headers=headers,
                        json={
                            "room_id": room,
                            "organisation_id": building.charity,
                            "title": f"Room {room}",
                            "start": "2026-12-09T10:00:00",
                            "end": "2026-12-09T11:00:00",
                        },
                    )
                    for room in rooms
                ]
            )

    assert sorted(r.status_code for r in asyncio.run(fire())) == [201] * 4
    occupancy = hub.run(lambda db: db.scalar(select(func.count()).select_from(RoomOccupancy)))
    assert occupancy == 4
