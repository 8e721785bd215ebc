"""Rooms test helpers: a small building with rates, made through the real services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hub.auth import Identity
from hub.config import Settings
from hub.models import OrganisationKind, RateBand, Role
from rooms.models import VatTreatment
from rooms.schemas import RateIn, RoomCreate
from rooms.services import pricing, rooms
from tests.conftest import Hub


@dataclass
class Building:
    hall_a: int
    hall_b: int
    main_hall: int
    consulting: int
    meeting: int
    charity: int
    nhs: int
    staff: dict[str, str]


def make_room(hub: Hub, name: str, capacity: int, **fields: object) -> int:
    data = RoomCreate(name=name, capacity=capacity, **fields)  # type: ignore[arg-type]
    return hub.run(lambda db: rooms.create_room(db, Identity.system("test"), data)).id


def set_rate(hub: Hub, room_id: int, band: RateBand, hourly: int, **fields: object) -> None:
    data = RateIn(room_id=room_id, band=band, hourly_pence=hourly, **fields)  # type: ignore[arg-type]
    hub.run(lambda db: pricing.set_rate(db, Identity.system("test"), data))


@pytest.fixture
def building(hub: Hub) -> Building:
    hall_a = make_room(hub, "Hall A", 60, features=["step_free"])
    hall_b = make_room(hub, "Hall B", 60, features=["step_free", "hearing_loop"])
    main_hall = make_room(hub, "Main Hall", 120, parts=[hall_a, hall_b], features=["step_free"])
    consulting = make_room(hub, "Consulting Room 1", 4, features=["clinical_couch", "sink", "private"])
    meeting = make_room(
        hub,
        "Meeting Room",
        12,
        features=["step_free", "hearing_loop", "projector"],
        setup_minutes=15,
        cleardown_minutes=15,
    )
    for room in (hall_a, hall_b, main_hall, consulting, meeting):
        set_rate(hub, room, RateBand.COMMUNITY, 1_200, half_day_pence=4_000, minimum_pence=1_200)
        set_rate(hub, room, RateBand.STATUTORY, 2_500)
        set_rate(
            hub, room, RateBand.COMMERCIAL, 4_000, vat_treatment=VatTreatment.STANDARD, vat_rate_bp=2_000
        )
    charity = hub.make_org("Coastal Youth Trust", kind=OrganisationKind.VCSE)
    nhs = hub.make_org("Lancashire Coast NHS Trust", kind=OrganisationKind.NHS)
    staff = hub.headers_for(Role.RECEPTIONIST)
    return Building(hall_a, hall_b, main_hall, consulting, meeting, charity, nhs, staff)


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free port, for truly concurrent requests."""
    import socket
    import threading
    import time

    import uvicorn

    from hub.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
