"""Reports test helpers: the app with the core, rooms and a fake provider of occupancy and café
figures (so these tests do not depend on the tenants and café modules), and a small building."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app
from hub.auth import Identity
from hub.config import Settings
from hub.models import RateBand
from hub.plugin import CORE
from rooms.models import Booking, Closure
from rooms.plugin import ROOMS
from rooms.schemas import RateIn, RoomCreate
from rooms.services import pricing, rooms
from tests.conftest import Hub
from tests.reports.fakes import FAKE_PROVIDERS

LONDON = ZoneInfo("Europe/London")


def local(*args: int) -> datetime:
    """A building-local wall-clock time as a UTC instant (unambiguous times only)."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def reports_hub(settings: Settings) -> Iterator[Hub]:
    app = create_app(settings, modules=[CORE, ROOMS, FAKE_PROVIDERS])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


@pytest.fixture
def bare_hub(settings: Settings) -> Iterator[Hub]:
    """Only the core: nobody provides rooms, occupancy or café figures."""
    app = create_app(settings, modules=[CORE])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


def make_room(hub: Hub, name: str, parts: list[int] | None = None) -> int:
    data = RoomCreate(name=name, capacity=20, parts=parts or [])
    return hub.run(lambda db: rooms.create_room(db, Identity.system("test"), data)).id


def set_rate(hub: Hub, room_id: int, band: RateBand, hourly: int) -> None:
    data = RateIn(room_id=room_id, band=band, hourly_pence=hourly)
    hub.run(lambda db: pricing.set_rate(db, Identity.system("test"), data))


def add_bookings(hub: Hub, rows: list[dict[str, Any]]) -> list[int]:
    """Bookings written as they are stored (the reports read them; how they were made is the
    rooms module's business)."""

    async def work(db: AsyncSession) -> list[int]:
        made = []
        for row in rows:
            booking = Booking(
                title=row.pop("title", "Session"),
                visibility=row.pop("visibility", "public"),
                status=row.pop("status", "confirmed"),
                rate_band=row.pop("rate_band", "community"),
                price_net_pence=row.pop("price_net_pence", 0),
                **row,
            )
            db.add(booking)
            made.append(booking)
        await db.commit()
        return [b.id for b in made]

    return hub.run(work)


def add_closure(hub: Hub, day: date, reason: str) -> None:
    async def work(db: AsyncSession) -> None:
        db.add(Closure(day=day, reason=reason))
        await db.commit()

    hub.run(work)
