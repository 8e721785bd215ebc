"""A feed's ETag is a function of its body, bodies are built once per ETag, and a provisional hold
is gone from a feed (and What's on) the moment it expires."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from hub.app import create_app
from hub.auth import Identity
from hub.config import Settings
from rooms.models import Booking
from rooms.schemas import CategoryIn, RoomUpdate
from rooms.services import feeds
from rooms.services import rooms as room_service
from rooms.services import settings as rooms_settings
from tests.conftest import Hub
from tests.rooms.conftest import Building

WINDOW = {"from": "2026-11-01", "to": "2028-01-01"}
ADMIN = Identity.system("test")


def book(hub: Hub, b: Building, **fields: Any) -> dict[str, Any]:
    payload = {
        "room_id": b.hall_a,
        "organisation_id": b.charity,
        "title": "Youth drama",
        "category": "class",
        "start": "2027-03-17T18:00:00",
        "end": "2027-03-17T19:30:00",
        **fields,
    }
    response = hub.client.post("/api/v1/bookings", json=payload, headers=b.staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get(client: TestClient[Any], etag: str | None = None, path: str = "/feeds/building.ics") -> Any:
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(path, params=WINDOW, headers=headers)


def events(raw: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(raw).walk("VEVENT"))


def changed_for_a_client_holding(client: TestClient[Any], before: Any) -> Any:
    """What a calendar that holds ``before`` gets when it asks again: the new body, not 304."""
    after = get(client, before.headers["etag"])
    assert after.status_code == 200, after.status_code
    assert after.headers["etag"] != before.headers["etag"]
    assert after.content != before.content
    return after


# --- every input of the body is an input of the ETag ----------------------------------------------


def test_relabelling_a_category_changes_the_etag(hub: Hub, building: Building) -> None:
    book(hub, building)
    before = get(hub.client)
    hub.run(
        lambda db: rooms_settings.set_category(db, ADMIN, CategoryIn(slug="class", label="Classes & courses"))
    )
    after = changed_for_a_client_holding(hub.client, before)
    (event,) = events(after.content)
    assert event["CATEGORIES"].cats == ["Classes & courses"]


def test_renaming_a_room_changes_the_etag(hub: Hub, building: Building) -> None:
    book(hub, building)
    before = get(hub.client)
    hub.run(lambda db: room_service.update_room(db, ADMIN, building.hall_a, RoomUpdate(name="Hall A (east)")))
    after = changed_for_a_client_holding(hub.client, before)
    (event,) = events(after.content)
    assert str(event["LOCATION"]) == "Hall A (east)"


def test_the_hubs_name_and_what_is_shown_change_the_etag(
    hub: Hub, building: Building, settings: Settings
) -> None:
    book(hub, building)
    book(
        hub,
        building,
        room_id=building.consulting,
        organisation_id=building.nhs,
        title="Clinic",
        category="clinic",
        visibility="private",
        start="2027-03-18T09:00:00",
        end="2027-03-18T10:00:00",
    )
    before = get(hub.client)
    assert len(events(before.content)) == 2
    with TestClient(
        create_app(replace(settings, hub_name="Fleetwood Hub")), base_url="http://testserver.local"
    ) as other:
        renamed = changed_for_a_client_holding(other, before)
        assert b"X-WR-CALNAME:Fleetwood Hub: the building" in renamed.content
    with TestClient(
        create_app(replace(settings, feed_private_bookings="hide")), base_url="http://testserver.local"
    ) as other:
        hidden = changed_for_a_client_holding(other, before)
        assert [str(e["SUMMARY"]) for e in events(hidden.content)] == ["Youth drama"]
    with TestClient(
        create_app(replace(settings, timezone="Europe/Dublin")), base_url="http://testserver.local"
    ) as other:
        elsewhere = changed_for_a_client_holding(other, before)
        assert b"TZID:Europe/Dublin" in elsewhere.content
    # And nothing else moved: the original settings give the original ETag and bytes.
    again = get(hub.client, before.headers["etag"])
    assert again.status_code == 304


def test_same_etag_means_the_same_bytes_across_fresh_builds(
    hub: Hub, building: Building, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(hub, building)
    first = get(hub.client)
    feeds.bodies.clear()
    second = get(hub.client)
    assert second.headers["etag"] == first.headers["etag"]
    assert second.content == first.content


# --- bytes built once per version -----------------------------------------------------------------


def test_every_get_after_a_change_is_served_from_the_bytes_built_once(
    hub: Hub, building: Building, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_off = book(hub, building)
    built: list[int] = []
    real = feeds.build_feed

    async def counting(*args: Any, **kwargs: Any) -> bytes:
        built.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(feeds, "build_feed", counting)
    feeds.bodies.clear()
    first = [get(hub.client) for _ in range(3)]
    assert len(built) == 1
    assert len({(r.headers["etag"], r.content) for r in first}) == 1
    response = hub.client.patch(
        f"/api/v1/bookings/{one_off['id']}", json={"title": "Youth drama (dress)"}, headers=building.staff
    )
    assert response.status_code == 200, response.text
    after = [get(hub.client) for _ in range(3)]
    assert len(built) == 2
    assert len({(r.headers["etag"], r.content) for r in after}) == 1
    assert after[0].headers["etag"] != first[0].headers["etag"]
    assert [str(e["SUMMARY"]) for e in events(after[0].content)] == ["Youth drama (dress)"]


def test_body_cache_is_bounded() -> None:
    cache = feeds.BodyCache(entries=2, size=10)
    cache.put('"a"', b"12345")
    cache.put('"b"', b"12345")
    cache.put('"c"', b"1")
    assert cache.get('"a"') is None
    assert cache.get('"b"') == b"12345" and cache.get('"c"') == b"1"
    cache.put('"d"', b"x" * 11)  # larger than the whole cache: never kept
    assert cache.get('"d"') is None


# --- an expired hold is gone the moment it expires ------------------------------------------------


def expire(hub: Hub, booking_id: int, at: datetime) -> None:
    """The hold's expiry, set without any write that would sweep it."""

    async def work(db: Any) -> None:
        await db.execute(update(Booking).where(Booking.id == booking_id).values(hold_expires_at=at))
        await db.commit()

    hub.run(work)


def test_one_off_hold_is_gone_from_the_feed_at_the_moment_it_expires(
    hub: Hub, building: Building, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = book(hub, building, status="provisional")
    expiry = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    expire(hub, hold["id"], expiry)
    monkeypatch.setattr("rooms.controllers.feeds.utcnow", lambda: expiry - timedelta(microseconds=1))
    held = get(hub.client)
    (event,) = events(held.content)
    assert str(event["STATUS"]) == "TENTATIVE"
    monkeypatch.setattr("rooms.controllers.feeds.utcnow", lambda: expiry)
    gone = changed_for_a_client_holding(hub.client, held)
    (event,) = events(gone.content)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"booking-{hold['id']}@hubkeeper-community-hub.hubkeeper"


def test_series_hold_occurrences_become_exdates_when_they_expire(hub: Hub, building: Building) -> None:
    response = hub.client.post(
        "/api/v1/series",
        json={
            "room_id": building.hall_a,
            "organisation_id": building.charity,
            "title": "Pencilled yoga",
            "category": "class",
            "first_date": "2027-03-16",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 3},
            "status": "provisional",
        },
        headers=building.staff,
    )
    assert response.status_code == 201, response.text
    booked = response.json()["booked"]
    held = get(hub.client)
    assert sorted(str(e.get("STATUS")) for e in events(held.content)) == [
        "CONFIRMED",
        "TENTATIVE",
        "TENTATIVE",
        "TENTATIVE",
    ]
    expire(hub, booked[1]["id"], datetime.now(UTC) - timedelta(seconds=1))
    after = changed_for_a_client_holding(hub.client, held)
    master = next(e for e in events(after.content) if "RRULE" in e)
    assert [d.dt.replace(tzinfo=None) for d in master["EXDATE"].dts] == [datetime(2027, 3, 23, 10, 0)]
    assert sum(1 for e in events(after.content) if "RECURRENCE-ID" in e) == 2


def test_whats_on_drops_an_expired_hold(hub: Hub, building: Building) -> None:
    hold = book(hub, building, status="provisional", title="Pencilled drama", public_title="Pencilled drama")
    page = hub.client.get("/whats-on", params={"week": "2027-03-15"})
    assert page.status_code == 200 and "Pencilled drama" in page.text
    expire(hub, hold["id"], datetime.now(UTC) - timedelta(seconds=1))
    page = hub.client.get("/whats-on", params={"week": "2027-03-15"})
    assert page.status_code == 200 and "Pencilled drama" not in page.text
