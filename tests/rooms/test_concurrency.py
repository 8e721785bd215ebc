"""Never a clash: twenty simultaneous requests for one slot, through a real server; and
simultaneous writers take turns instead of sleeping."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from sqlalchemy import event, func, select

from hub.app import create_app
from hub.config import Settings
from hub.models import Role
from rooms.models import Booking, RoomOccupancy
from tests.conftest import Hub, backend
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


@contextmanager
def served(app: Litestar) -> Iterator[str]:
    """``app`` under uvicorn on a free port (like the ``live_url`` fixture, with the app in hand)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_simultaneous_writers_queue_instead_of_sleeping(
    hub: Hub, building: Building, settings: Settings
) -> None:
    """Ten bookings made at once, in different rooms and times, all succeed with SQLite's busy
    timeout at zero: a writer that met another's lock would fail at once instead of sleeping in
    SQLite's back-off, so none of them met one. They waited their turn in the process instead."""
    app = create_app(settings)
    with served(app) as url:
        if backend() == "sqlite":

            def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA busy_timeout=0")
                cursor.close()

            event.listen(app.state.engine.sync_engine, "connect", no_busy_wait)

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                return await asyncio.gather(
                    *[
                        client.post(
                            "/api/v1/bookings",
                            headers=building.staff,
                            json={
                                "room_id": room,
                                "organisation_id": building.charity,
                                "title": f"Writer {i}",
                                "start": f"2026-12-{10 + i // 5:02d}T{10 + i % 5 * 2:02d}:00:00",
                                "end": f"2026-12-{10 + i // 5:02d}T{11 + i % 5 * 2:02d}:00:00",
                            },
                        )
                        for i, room in enumerate([building.hall_a, building.consulting] * 5)
                    ]
                )

        responses = asyncio.run(fire())
    assert [r.status_code for r in responses] == [201] * 10, [r.text[:200] for r in responses]
    titles = hub.run(lambda db: db.scalars(select(Booking.title).order_by(Booking.id)))
    assert sorted(titles) == sorted(f"Writer {i}" for i in range(10))
