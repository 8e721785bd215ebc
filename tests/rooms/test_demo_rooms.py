"""``hubkeeper demo`` makes the hub's rooms, rates and a term of bookings, checked through the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from hub.app import create_app
from hub.cli import main
from hub.models import RateBand
from hub.services import accounts
from rooms.demo import DEMO_ROOMS, DEMO_SERIES, TERM_WEEKS
from tests.conftest import Hub, backend, base_settings, fresh_postgres_database

ROOM_NAMES = {
    "Hall A",
    "Hall B",
    "Main Hall",
    "Community Kitchen",
    "Consulting Room 1",
    "Consulting Room 2",
    "Consulting Room 3",
    "Meeting Room 1",
    "Meeting Room 2",
    "IT Suite",
    "Art Studio",
    "Exercise Studio",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The demo made by the command people run, on the test backend; only read by these tests."""
    with ExitStack() as cleanup:
        if backend() == "postgresql":
            url = cleanup.enter_context(fresh_postgres_database())
            arguments = ["--database-url", url]
        else:
            path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
            url = f"sqlite+aiosqlite:///{path}"
            arguments = ["--database", str(path)]
        result = CliRunner().invoke(main, ["demo", "--no-serve", *arguments], env={"HUB_ENV": ""})
        assert result.exit_code == 0, result.output
        client = cleanup.enter_context(TestClient(create_app(base_settings(url))))
        yield Hub(client)


def bearer(hub: Hub, email: str) -> dict[str, str]:
    user = hub.run(lambda db: accounts.get_user_by_email(db, email))
    assert user is not None, email
    return {"Authorization": f"Bearer {hub.token_for(user)}"}


def this_monday(hub: Hub) -> date:
    today = datetime.now(hub.client.app.state.settings.zone).date()
    return today - timedelta(days=today.weekday())


def bookings_between(hub: Hub, headers: dict[str, str], first: date, last: date) -> list[dict[str, Any]]:
    response = hub.client.get(
        "/api/v1/bookings", params={"from": first.isoformat(), "to": last.isoformat()}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_demo_has_the_hubs_rooms_and_main_hall_is_hall_a_and_hall_b(demo: Hub) -> None:
    response = demo.client.get("/api/v1/rooms", headers=bearer(demo, "reception@hub.test"))
    assert response.status_code == 200
    by_name = {room["name"]: room for room in response.json()}
    assert set(by_name) == ROOM_NAMES
    main_hall = by_name["Main Hall"]
    assert main_hall["parts"] == sorted([by_name["Hall A"]["id"], by_name["Hall B"]["id"]])
    assert by_name["Hall A"]["part_of"] == [main_hall["id"]]
    assert by_name["Meeting Room 1"]["setup_minutes"] == 15
    assert by_name["Meeting Room 1"]["cleardown_minutes"] == 15
    for number in (1, 2, 3):
        assert {"clinical_couch", "sink", "private"} <= set(by_name[f"Consulting Room {number}"]["features"])
    assert "computers" in by_name["IT Suite"]["features"]
    assert "sprung_floor" in by_name["Exercise Studio"]["features"]
    assert all(room["location"] and room["description"] for room in by_name.values())


def test_every_demo_room_has_a_rate_for_every_band_cheapest_for_the_community(demo: Hub) -> None:
    headers = bearer(demo, "reception@hub.test")
    rooms = {r["id"]: r["name"] for r in demo.client.get("/api/v1/rooms", headers=headers).json()}
    response = demo.client.get("/api/v1/rates", headers=headers)
    assert response.status_code == 200
    rates = {(rooms[r["room_id"]], r["band"]): r for r in response.json()}
    assert set(rates) == {(name, band.value) for name in ROOM_NAMES for band in RateBand}
    for name in ROOM_NAMES:
        hourly = [
            rates[(name, band)]["hourly_pence"] for band in ("community", "tenant", "statutory", "commercial")
        ]
        assert hourly == sorted(set(hourly)), name
        assert all(rates[(name, band.value)]["minimum_pence"] > 0 for band in RateBand)
    assert rates[("Main Hall", "community")]["half_day_pence"] == 11_200
    assert rates[("Main Hall", "community")]["day_pence"] == 19_200
    assert rates[("Exercise Studio", "commercial")]["vat_treatment"] == "standard"
    assert rates[("Exercise Studio", "commercial")]["vat_rate_bp"] == 2_000
    taxed = [key for key, rate in rates.items() if rate["vat_treatment"] != "exempt"]
    assert taxed == [("Exercise Studio", "commercial")]


def test_demo_books_a_term_of_clinics_classes_and_groups_from_this_week(demo: Hub) -> None:
    headers = bearer(demo, "reception@hub.test")
    monday = this_monday(demo)
    this_week = bookings_between(demo, headers, monday, monday + timedelta(days=6))
    assert len({b["series_id"] for b in this_week if b["series_id"]}) >= 5
    term = bookings_between(demo, headers, monday, monday + timedelta(days=61))
    titles = {b["title"] for b in term}
    assert {spec.title for spec in DEMO_SERIES} <= titles
    # A term is about 13 weeks; the list API shows 62 days at a time, so look at the last week too.
    last_week = monday + timedelta(weeks=TERM_WEEKS - 1)
    assert bookings_between(demo, headers, last_week, last_week + timedelta(days=6))
    after = monday + timedelta(weeks=TERM_WEEKS)
    assert bookings_between(demo, headers, after, after + timedelta(days=13)) == []


def test_demo_has_one_off_events_a_pending_hold_and_a_taxed_commercial_booking(demo: Hub) -> None:
    headers = bearer(demo, "reception@hub.test")
    monday = this_monday(demo)
    # Rooms' own one-off events (the tenants' demo adds their "Team meeting"s against their hours).
    one_offs = [
        b
        for b in bookings_between(demo, headers, monday, monday + timedelta(days=61))
        if not b["series_id"] and b["title"] != "Team meeting"
    ]
    assert len(one_offs) == 6
    held = [b for b in one_offs if b["status"] == "provisional"]
    assert [b["title"] for b in held] == ["Holiday activity club (to be confirmed)"]
    assert held[0]["hold_expires_at"] is not None
    taster = next(b for b in one_offs if b["title"] == "Fitness taster session")
    assert (taster["rate_band"], taster["price_net_pence"], taster["vat_pence"]) == (
        "commercial",
        8_100,
        1_620,
    )


def test_clinic_bookings_are_private_to_a_tenant_but_not_to_reception(demo: Hub) -> None:
    monday = this_monday(demo)
    last = monday + timedelta(days=13)
    staff_view = bookings_between(demo, bearer(demo, "reception@hub.test"), monday, last)
    clinics = [b for b in staff_view if b["category"] == "clinic"]
    assert clinics
    assert all(b["visibility"] == "private" for b in clinics)
    assert {b["organisation"] for b in clinics} == {"Lancashire Coast NHS Foundation Trust"}
    tenant_view = {b["id"]: b for b in bookings_between(demo, bearer(demo, "tenant@hub.test"), monday, last)}
    for clinic in clinics:
        seen = tenant_view[clinic["id"]]
        assert (seen["title"], seen["organisation"], seen["private"]) == ("Private booking", None, True)
        assert seen["contact_name"] == "" and seen["notes"] == ""
    # The tenant's own bookings (Coastal Youth Trust's youth club) it sees in full.
    own = [b for b in tenant_view.values() if b["title"] == "Youth club"]
    assert own
    assert {(b["organisation"], b["contact_name"], b["private"]) for b in own} == {
        ("Coastal Youth Trust", "Dean Walsh", False)
    }


def test_demo_rooms_are_in_the_order_the_demo_lists_them(demo: Hub) -> None:
    response = demo.client.get("/api/v1/rooms", headers=bearer(demo, "reception@hub.test"))
    assert [room["name"] for room in response.json()] == [spec.name for spec in DEMO_ROOMS]
