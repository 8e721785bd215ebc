"""iCalendar feeds: correct RFC 5545, privacy, secret addresses, conditional requests, bad input."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
import recurring_ical_events
from litestar.testing import TestClient

from hub.app import create_app
from hub.auth import Identity
from hub.config import Settings
from hub.models import Role, User
from rooms.services import feed_tokens
from tests.conftest import Hub
from tests.rooms.conftest import Building

LONDON = "Europe/London"
# Wide enough for every booking these tests make (all in 2027), narrower than three years.
WINDOW = {"from": "2026-11-01", "to": "2028-01-01"}

# Words that appear only in the clinic's private details: none may reach a public feed.
SECRETS = (
    "Zebra respiratory clinic",
    "Quokka public name",
    "Notes about wombats",
    "Dr Aardvark",
    "aardvark@nhs.example",
    "01253 999888",
    "Lancashire Coast",
)


# --- helpers -------------------------------------------------------------------------------------


def book(hub: Hub, b: Building, headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    payload = {
        "room_id": b.hall_a,
        "organisation_id": b.charity,
        "title": "Youth drama",
        "category": "class",
        "start": "2027-03-17T18:00:00",
        "end": "2027-03-17T19:30:00",
        **fields,
    }
    response = hub.client.post("/api/v1/bookings", json=payload, headers=headers or b.staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_series(
    hub: Hub, b: Building, headers: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    payload = {
        "room_id": b.hall_a,
        "organisation_id": b.charity,
        "title": "Chair yoga",
        "category": "class",
        "first_date": "2027-03-16",
        "start_time": "10:00",
        "end_time": "11:00",
        "rule": {"freq": "weekly", "count": 4},
        **fields,
    }
    response = hub.client.post("/api/v1/series", json=payload, headers=headers or b.staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(hub: Hub, b: Building, booking_id: int, **fields: Any) -> None:
    response = hub.client.patch(f"/api/v1/bookings/{booking_id}", json=fields, headers=b.staff)
    assert response.status_code == 200, response.text


def cancel(hub: Hub, b: Building, booking_id: int, scope: str = "this") -> None:
    response = hub.client.post(
        f"/api/v1/bookings/{booking_id}/cancel",
        json={"reason": "Half term", "scope": scope, "waive_fee": True},
        headers=b.staff,
    )
    assert response.status_code == 200, response.text


def fetch(client: TestClient[Any], path: str, **params: str) -> Any:
    response = client.get(path, params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    return response


def parse(raw: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(raw)


def vevents(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    return [c for c in calendar.walk("VEVENT")]


def by_summary(calendar: icalendar.Calendar, summary: str) -> list[icalendar.Event]:
    return [e for e in vevents(calendar) if str(e.get("SUMMARY")) == summary]


def expand(calendar: icalendar.Calendar) -> list[tuple[datetime, datetime, str]]:
    """Every occurrence an independent expander sees: (start UTC, end UTC, summary), sorted."""
    found = recurring_ical_events.of(calendar).between(datetime(2026, 1, 1), datetime(2029, 1, 1))
    return sorted(
        (
            e["DTSTART"].dt.astimezone(UTC),
            e["DTEND"].dt.astimezone(UTC),
            str(e["SUMMARY"]),
        )
        for e in found
    )


def unfolded(raw: bytes) -> str:
    return raw.decode().replace("\r\n ", "")


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def settings_of(hub: Hub) -> Settings:
    settings: Settings = hub.client.app.state.settings
    return settings


def identity_of(user: User) -> Identity:
    return Identity(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        via="system",
    )


def private_url(hub: Hub, user: User, kind: feed_tokens.Kind) -> str:
    settings = settings_of(hub)
    token = hub.run(lambda db: feed_tokens.issue(db, settings, identity_of(user), kind))
    return f"/feeds/private/{feed_tokens.token_value(settings, token.nonce)}.ics"


def clinic(hub: Hub, b: Building) -> dict[str, Any]:
    """A private NHS clinic, one-off, with details that must stay out of public feeds."""
    return book(
        hub,
        b,
        room_id=b.consulting,
        organisation_id=b.nhs,
        title=SECRETS[0],
        public_title=SECRETS[1],
        notes=SECRETS[2],
        contact_name=SECRETS[3],
        contact_email=SECRETS[4],
        contact_phone=SECRETS[5],
        category="clinic",
        start="2027-03-18T09:00:00",
        end="2027-03-18T12:00:00",
    )


# --- RFC 5545 shape --------------------------------------------------------------------------------


def test_building_feed_is_text_calendar_with_a_london_vtimezone(hub: Hub, building: Building) -> None:
    book(hub, building)
    response = fetch(hub.client, "/feeds/building.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = parse(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar.get("PRODID")
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == [LONDON]
    # Both of the zone's rules are there: GMT and BST.
    names = {str(sub["TZNAME"]) for sub in timezones[0].subcomponents}
    assert names == {"GMT", "BST"}
    (event,) = vevents(calendar)
    assert event["DTSTART"].params["TZID"] == LONDON
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2027, 3, 17, 18, 0, tzinfo=UTC)
    assert event["DTEND"].dt.astimezone(UTC) == datetime(2027, 3, 17, 19, 30, tzinfo=UTC)
    assert event.get("DTSTAMP") is not None and event.get("LAST-MODIFIED") is not None
    assert str(event["STATUS"]) == "CONFIRMED"
    assert response.content.endswith(b"END:VCALENDAR\r\n")
    # Every line ends CRLF: no bare LF anywhere.
    assert b"\n" not in response.content.replace(b"\r\n", b"")


def test_series_is_one_vevent_with_an_rrule_across_the_clock_change(hub: Hub, building: Building) -> None:
    body = make_series(hub, building)
    calendar = parse(fetch(hub.client, "/feeds/building.ics").content)
    (master,) = vevents(calendar)
    assert str(master["SUMMARY"]) == "Chair yoga"
    rule = master["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["COUNT"] == [4] and rule["BYDAY"] == ["TU"]
    assert master["DTSTART"].params["TZID"] == LONDON
    assert master["DTSTART"].dt.replace(tzinfo=None) == datetime(2027, 3, 16, 10, 0)
    # Clocks go forward on 28 March 2027: 10:00 local every week, so 09:00 UTC after it.
    assert [start for start, _, _ in expand(calendar)] == [utc(b["start"]) for b in body["booked"]]
    assert [start.hour for start, _, _ in expand(calendar)] == [10, 10, 9, 9]


def test_cancelled_occurrence_becomes_an_exdate(hub: Hub, building: Building) -> None:
    body = make_series(hub, building)
    cancel(hub, building, body["booked"][1]["id"])
    calendar = parse(fetch(hub.client, "/feeds/building.ics").content)
    (master,) = vevents(calendar)
    exdates = [d.dt for d in master["EXDATE"].dts]
    assert [d.replace(tzinfo=None) for d in exdates] == [datetime(2027, 3, 23, 10, 0)]
    assert master["EXDATE"].params["TZID"] == LONDON
    kept = [b for i, b in enumerate(body["booked"]) if i != 1]
    assert [start for start, _, _ in expand(calendar)] == [utc(b["start"]) for b in kept]


def test_occurrence_moved_alone_becomes_a_recurrence_id_override(hub: Hub, building: Building) -> None:
    body = make_series(hub, building)
    second = body["booked"][1]
    patch(hub, building, second["id"], start="2027-03-24T14:00:00", end="2027-03-24T15:30:00", scope="this")
    calendar = parse(fetch(hub.client, "/feeds/building.ics").content)
    master, override = vevents(calendar)
    assert "RRULE" in master and "RRULE" not in override
    assert str(override["UID"]) == str(master["UID"])
    assert override["RECURRENCE-ID"].params["TZID"] == LONDON
    assert override["RECURRENCE-ID"].dt.replace(tzinfo=None) == datetime(2027, 3, 23, 10, 0)
    assert override["DTSTART"].dt.replace(tzinfo=None) == datetime(2027, 3, 24, 14, 0)
    assert override["DTEND"].dt.replace(tzinfo=None) == datetime(2027, 3, 24, 15, 30)
    assert [(s.isoformat(), e.isoformat()) for s, e, _ in expand(calendar)] == [
        ("2027-03-16T10:00:00+00:00", "2027-03-16T11:00:00+00:00"),
        ("2027-03-24T14:00:00+00:00", "2027-03-24T15:30:00+00:00"),
        ("2027-03-30T09:00:00+00:00", "2027-03-30T10:00:00+00:00"),
        ("2027-04-06T09:00:00+00:00", "2027-04-06T10:00:00+00:00"),
    ]


def test_uids_are_stable_and_sequence_grows_when_a_booking_changes(hub: Hub, building: Building) -> None:
    one_off = book(hub, building)
    make_series(hub, building, room_id=building.hall_b)
    first = parse(fetch(hub.client, "/feeds/building.ics").content)
    second = parse(fetch(hub.client, "/feeds/building.ics").content)
    uids = sorted(str(e["UID"]) for e in vevents(first))
    assert uids == sorted(str(e["UID"]) for e in vevents(second))
    assert len(set(uids)) == 2
    before = {str(e["SUMMARY"]): (str(e["UID"]), int(e["SEQUENCE"])) for e in vevents(first)}
    assert before["Youth drama"][1] == 0 and before["Chair yoga"][1] == 0
    patch(hub, building, one_off["id"], title="Youth drama: dress rehearsal")
    after = {
        str(e["SUMMARY"]): (str(e["UID"]), int(e["SEQUENCE"]))
        for e in vevents(parse(fetch(hub.client, "/feeds/building.ics").content))
    }
    assert after["Youth drama: dress rehearsal"] == (before["Youth drama"][0], 1)
    assert after["Chair yoga"] == before["Chair yoga"]


def test_changing_a_whole_series_bumps_its_sequence(hub: Hub, building: Building) -> None:
    body = make_series(hub, building)
    patch(
        hub,
        building,
        body["booked"][0]["id"],
        start="2027-03-16T11:00:00",
        end="2027-03-16T12:00:00",
        scope="all",
    )
    (master,) = vevents(parse(fetch(hub.client, "/feeds/building.ics").content))
    assert int(master["SEQUENCE"]) == 1
    assert master["DTSTART"].dt.replace(tzinfo=None) == datetime(2027, 3, 16, 11, 0)


def test_cancelling_an_occurrence_bumps_the_series_sequence(hub: Hub, building: Building) -> None:
    body = make_series(hub, building)
    (before,) = vevents(parse(fetch(hub.client, "/feeds/building.ics").content))
    cancel(hub, building, body["booked"][2]["id"])
    (after,) = vevents(parse(fetch(hub.client, "/feeds/building.ics").content))
    assert "EXDATE" in after and "EXDATE" not in before
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_cancelled_one_off_in_the_window_is_sent_as_cancelled(hub: Hub, building: Building) -> None:
    one_off = book(hub, building)
    cancel(hub, building, one_off["id"])
    (event,) = vevents(parse(fetch(hub.client, "/feeds/building.ics").content))
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["UID"]).startswith(f"booking-{one_off['id']}@")


def test_location_and_categories_are_set(hub: Hub, building: Building) -> None:
    book(hub, building, room_id=building.meeting, start="2027-03-17T14:00:00", end="2027-03-17T15:00:00")
    make_series(hub, building, room_id=building.hall_b, category="youth")
    calendar = parse(fetch(hub.client, "/feeds/building.ics").content)
    found = {str(e["SUMMARY"]): e for e in vevents(calendar)}
    assert str(found["Youth drama"]["LOCATION"]) == "Meeting Room"
    assert found["Youth drama"]["CATEGORIES"].cats == ["Class"]
    assert str(found["Chair yoga"]["LOCATION"]) == "Hall B"
    assert found["Chair yoga"]["CATEGORIES"].cats == ["Youth"]


def test_awkward_text_round_trips_escaped(hub: Hub, building: Building) -> None:
    title = "Café, crêpes; and \\ backslash"
    book(hub, building, title=title)
    raw = fetch(hub.client, "/feeds/building.ics").content
    assert "SUMMARY:Café\\, crêpes\\; and \\\\ backslash".encode() in raw
    (event,) = vevents(parse(raw))
    assert str(event["SUMMARY"]) == title


def test_notes_with_newlines_round_trip_in_the_organisations_own_feed(hub: Hub, building: Building) -> None:
    notes = "Line one; with semicolon\nLine two, with comma\nŁódź — ☕ ünïcödé"
    book(hub, building, notes=notes)
    tenant = hub.make_user(Role.TENANT, organisation_id=building.charity)
    raw = fetch(hub.client, private_url(hub, tenant, "organisation")).content
    assert b"Line one\\; with semicolon\\nLine two\\, with comma\\n" in raw
    (event,) = vevents(parse(raw))
    assert str(event["DESCRIPTION"]) == notes


def test_long_lines_are_folded_at_75_octets_without_splitting_characters(
    hub: Hub, building: Building
) -> None:
    title = "Ünïcödé wörkshöp — " + "é☕" * 60  # far over 75 octets, multi-byte characters
    book(hub, building, title=title[:200])
    raw = fetch(hub.client, "/feeds/building.ics").content
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode()  # each physical line is whole UTF-8: no character split across a fold
    assert f"SUMMARY:{title[:200]}" in unfolded(raw)
    (event,) = vevents(parse(raw))
    assert str(event["SUMMARY"]) == title[:200]


# --- privacy -------------------------------------------------------------------------------------------


def test_private_clinic_is_only_a_private_booking_in_every_public_feed(hub: Hub, building: Building) -> None:
    clinic(hub, building)
    make_series(
        hub,
        building,
        room_id=building.consulting,
        organisation_id=building.nhs,
        title=SECRETS[0],
        public_title=SECRETS[1],
        notes=SECRETS[2],
        contact_name=SECRETS[3],
        contact_email=SECRETS[4],
        contact_phone=SECRETS[5],
        category="clinic",
        first_date="2027-03-16",
        start_time="13:00",
        end_time="14:00",
    )
    paths = [
        "/feeds/building.ics",
        f"/feeds/rooms/{building.consulting}.ics",
        "/feeds/categories/clinic.ics",
    ]
    for path in paths:
        raw = fetch(hub.client, path).content
        for word in SECRETS:
            assert word.encode() not in raw, (path, word)
            assert word.encode() not in raw.replace(b"\r\n ", b""), (path, word)
        assert b"URL" not in raw and b"DESCRIPTION" not in raw
        calendar = parse(raw)
        assert {str(e["SUMMARY"]) for e in vevents(calendar)} == {"Private booking"}, path
        assert all("CATEGORIES" not in e for e in vevents(calendar)), path
        assert all(str(e["LOCATION"]) == "Consulting Room 1" for e in vevents(calendar)), path
        # The times are there: one one-off and four weekly occurrences.
        assert len(expand(calendar)) == 5, path
    assert datetime(2027, 3, 18, 9, 0, tzinfo=UTC) in [s for s, _, _ in expand(calendar)]


def test_hidden_private_bookings_are_absent_from_public_feeds(
    hub: Hub, building: Building, settings: Settings
) -> None:
    clinic(hub, building)
    book(hub, building)
    hiding = create_app(replace(settings, feed_private_bookings="hide"))
    with TestClient(hiding, base_url="http://testserver.local") as client:
        for path in ("/feeds/building.ics", f"/feeds/rooms/{building.consulting}.ics"):
            raw = fetch(client, path).content
            assert b"Private booking" not in raw
            for word in SECRETS:
                assert word.encode() not in raw
        assert [str(e["SUMMARY"]) for e in vevents(parse(fetch(client, "/feeds/building.ics").content))] == [
            "Youth drama"
        ]
        assert vevents(parse(fetch(client, f"/feeds/rooms/{building.consulting}.ics").content)) == []


def test_organisation_feed_shows_its_own_bookings_in_full_and_nothing_else(
    hub: Hub, building: Building
) -> None:
    clinic(hub, building)
    make_series(hub, building, organisation_id=building.nhs, title="Flu jabs", category="clinic")
    book(hub, building, title="Coastal youth club")  # another organisation's
    tenant = hub.make_user(Role.TENANT, organisation_id=building.nhs)
    raw = fetch(hub.client, private_url(hub, tenant, "organisation")).content
    calendar = parse(raw)
    assert sorted(str(e["SUMMARY"]) for e in vevents(calendar)) == ["Flu jabs", SECRETS[0]]
    assert b"Coastal youth" not in raw
    (visit,) = by_summary(calendar, SECRETS[0])
    assert str(visit["DESCRIPTION"]) == SECRETS[2]
    assert str(visit["CLASS"]) == "PRIVATE"
    assert len(expand(calendar)) == 5


def test_user_feed_shows_bookings_they_made_with_links_for_staff(hub: Hub, building: Building) -> None:
    receptionist = hub.make_user(Role.RECEPTIONIST)
    mine = book(
        hub,
        building,
        title="Booked by me",
        headers={"Authorization": f"Bearer {hub.token_for(receptionist)}"},
    )
    book(hub, building, title="Booked by someone else", room_id=building.hall_b)
    raw = fetch(hub.client, private_url(hub, receptionist, "user")).content
    (event,) = vevents(parse(raw))
    assert str(event["SUMMARY"]) == "Booked by me"
    assert str(event["URL"]) == f"http://testserver.local/desk/bookings/{mine['id']}"
    assert b"someone else" not in raw


def test_user_feed_series_occurrence_overrides_link_to_the_booking(hub: Hub, building: Building) -> None:
    receptionist = hub.make_user(Role.RECEPTIONIST)
    headers = {"Authorization": f"Bearer {hub.token_for(receptionist)}"}
    body = make_series(hub, building, headers=headers)
    patch(hub, building, body["booked"][1]["id"], title="Chair yoga (fair)", scope="this")
    calendar = parse(fetch(hub.client, private_url(hub, receptionist, "user")).content)
    (override,) = by_summary(calendar, "Chair yoga (fair)")
    assert str(override["URL"]).endswith(f"/desk/bookings/{body['booked'][1]['id']}")


def test_token_is_long_random_and_rotation_and_revocation_end_the_old_address(
    hub: Hub, building: Building
) -> None:
    book(hub, building)
    settings = settings_of(hub)
    tenant = hub.make_user(Role.TENANT, organisation_id=building.charity)
    first = private_url(hub, tenant, "organisation")
    token = first.removeprefix("/feeds/private/").removesuffix(".ics")
    # URL-safe base64: 6 bits a character; at least 128 bits of secret.
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) * 6 >= 128
    assert fetch(hub.client, first).status_code == 200
    second = private_url(hub, tenant, "organisation")  # issuing again rotates
    assert second != first
    assert hub.client.get(first).status_code == 404
    assert fetch(hub.client, second).status_code == 200
    hub.run(lambda db: feed_tokens.revoke(db, identity_of(tenant), "organisation"))
    gone = hub.client.get(second)
    assert gone.status_code == 404
    assert b"Youth drama" not in gone.content
    assert hub.run(lambda db: feed_tokens.current(db, identity_of(tenant), "organisation")) is None
    assert settings.secret_key not in token


def test_unknown_token_is_a_404_problem(hub: Hub, building: Building) -> None:
    for path in ("/feeds/private/" + "A" * 43 + ".ics", "/feeds/private/nope", "/feeds/private/.ics"):
        response = hub.client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json"), path
        assert response.json()["status"] == 404


# --- HTTP ---------------------------------------------------------------------------------------------


def test_strong_etag_and_conditional_request_answers_304(hub: Hub, building: Building) -> None:
    one_off = book(hub, building)
    full = fetch(hub.client, "/feeds/building.ics")
    etag = full.headers["etag"]
    assert re.fullmatch(r'"[^"]+"', etag), etag  # strong: no W/
    assert full.headers["last-modified"].endswith("GMT")
    assert "max-age" in full.headers["cache-control"]
    again = hub.client.get("/feeds/building.ics", params=WINDOW, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    patch(hub, building, one_off["id"], title="Youth drama (moved)")
    changed = hub.client.get("/feeds/building.ics", params=WINDOW, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert b"Youth drama (moved)" in changed.content


def test_conditional_request_does_not_build_the_feed(
    hub: Hub, building: Building, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(hub, building)
    etag = fetch(hub.client, "/feeds/building.ics").headers["etag"]

    async def no_build(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the feed was built for a conditional request")

    monkeypatch.setattr("rooms.services.feeds.build_feed", no_build)
    response = hub.client.get("/feeds/building.ics", params=WINDOW, headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_if_none_match_with_a_list_of_etags_answers_304(hub: Hub, building: Building) -> None:
    book(hub, building)
    etag = fetch(hub.client, "/feeds/building.ics").headers["etag"]
    response = hub.client.get(
        "/feeds/building.ics", params=WINDOW, headers={"If-None-Match": f'"older", {etag}'}
    )
    assert response.status_code == 304


def test_same_strong_etag_means_the_same_bytes(
    hub: Hub, building: Building, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(hub, building)
    first = fetch(hub.client, "/feeds/building.ics")
    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr("rooms.services.feeds.utcnow", lambda: later)
    second = fetch(hub.client, "/feeds/building.ics")
    assert second.headers["etag"] == first.headers["etag"]
    assert second.content == first.content


def test_head_returns_the_headers_and_no_body(hub: Hub, building: Building) -> None:
    book(hub, building)
    full = fetch(hub.client, "/feeds/building.ics")
    head = hub.client.head("/feeds/building.ics", params=WINDOW)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == full.headers["etag"]
    assert head.headers["content-type"].startswith("text/calendar")
    assert head.headers["cache-control"] == full.headers["cache-control"]
    assert int(head.headers["content-length"]) == len(full.content)
    conditional = hub.client.head(
        "/feeds/building.ics", params=WINDOW, headers={"If-None-Match": full.headers["etag"]}
    )
    assert conditional.status_code == 304


def test_public_feeds_cache_publicly_private_ones_privately(hub: Hub, building: Building) -> None:
    tenant = hub.make_user(Role.TENANT, organisation_id=building.charity)
    assert fetch(hub.client, "/feeds/building.ics").headers["cache-control"].startswith("public")
    assert (
        fetch(hub.client, private_url(hub, tenant, "organisation"))
        .headers["cache-control"]
        .startswith("private")
    )


def test_default_window_is_three_months_back_and_eighteen_ahead(hub: Hub, building: Building) -> None:
    zone = settings_of(hub).zone
    today = datetime.now(UTC).astimezone(zone).date()

    def at(day: date, title: str) -> None:
        start = datetime.combine(day, datetime.min.time()).replace(hour=10)
        while start.weekday() >= 5:  # the building is closed on Sunday and short on Saturday
            start += timedelta(days=1)
        book(
            hub,
            building,
            title=title,
            start=start.isoformat(),
            end=(start + timedelta(hours=1)).isoformat(),
            override_opening_hours=True,
            override_reason="test",
        )

    at(today - timedelta(days=120), "Too old")
    at(today - timedelta(days=60), "Recent")
    at(today + timedelta(days=500), "Next year")
    at(today + timedelta(days=600), "Too far")
    response = hub.client.get("/feeds/building.ics")
    assert response.status_code == 200
    titles = sorted(str(e["SUMMARY"]) for e in vevents(parse(response.content)))
    assert titles == ["Next year", "Recent"]


# --- scoped feeds --------------------------------------------------------------------------------------


def test_room_and_category_feeds_carry_only_their_bookings(hub: Hub, building: Building) -> None:
    book(hub, building, title="In Hall A")
    book(hub, building, title="In the meeting room", room_id=building.meeting, category="meeting")
    room = parse(fetch(hub.client, f"/feeds/rooms/{building.hall_a}.ics").content)
    assert [str(e["SUMMARY"]) for e in vevents(room)] == ["In Hall A"]
    category = parse(fetch(hub.client, "/feeds/categories/class.ics").content)
    assert [str(e["SUMMARY"]) for e in vevents(category)] == ["In Hall A"]


def test_occurrence_moved_to_another_room_appears_only_in_that_rooms_feed(
    hub: Hub, building: Building
) -> None:
    body = make_series(hub, building)
    moved = body["booked"][1]
    patch(hub, building, moved["id"], room_id=building.meeting, scope="this")
    stays = parse(fetch(hub.client, f"/feeds/rooms/{building.hall_a}.ics").content)
    goes = parse(fetch(hub.client, f"/feeds/rooms/{building.meeting}.ics").content)
    assert [s for s, _, _ in expand(stays)] == [
        utc(b["start"]) for i, b in enumerate(body["booked"]) if i != 1
    ]
    assert [s for s, _, _ in expand(goes)] == [utc(moved["start"])]


def test_hidden_private_occurrence_of_a_public_series_is_absent(
    hub: Hub, building: Building, settings: Settings
) -> None:
    body = make_series(hub, building)
    patch(hub, building, body["booked"][1]["id"], visibility="private", scope="this")
    with TestClient(create_app(replace(settings, feed_private_bookings="hide"))) as client:
        calendar = parse(fetch(client, "/feeds/building.ics").content)
    assert len(expand(calendar)) == 3


# --- bad input -----------------------------------------------------------------------------------------


def test_unknown_room_or_category_is_404(hub: Hub, building: Building) -> None:
    for path in (
        "/feeds/rooms/999.ics",
        "/feeds/rooms/abc.ics",
        "/feeds/rooms/99999999999999999999999.ics",
        f"/feeds/rooms/{building.hall_a}.txt",
        "/feeds/categories/nope.ics",
    ):
        response = hub.client.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), path


def test_malformed_window_is_400(hub: Hub, building: Building) -> None:
    for path in ("/feeds/building.ics", f"/feeds/rooms/{building.hall_a}.ics", "/feeds/categories/class.ics"):
        for params in ({"from": "garbage"}, {"from": "2026-13-01"}, {"to": "2027-02-30"}):
            response = hub.client.get(path, params=params)
            assert response.status_code == 400, (path, params)
            assert response.headers["content-type"].startswith("application/problem+json")
    ok = hub.client.get("/feeds/building.ics", params={"from": "2026-01-01", "to": "2028-12-31"})
    assert ok.status_code == 200


def test_backwards_or_too_wide_window_is_422_naming_to(hub: Hub, building: Building) -> None:
    """Well-formed dates that break a feed's rule (to after from, three years at most) are a rule
    error, 422, like every other rule: a client's schema cannot know it."""
    for params in (
        {"from": "2027-01-01", "to": "2026-01-01"},
        {"from": "2027-01-01", "to": "2027-01-01"},
        {"from": "2026-01-01", "to": "2029-06-01"},
        {"from": "2020-01-01"},  # the default end is 18 months from today
    ):
        response = hub.client.get("/feeds/building.ics", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == ["to"], params


def test_window_at_the_edge_of_the_calendar_is_not_a_server_error(hub: Hub, building: Building) -> None:
    for window in ({"from": "9999-01-01", "to": "9999-12-31"}, {"from": "0001-01-02", "to": "0001-12-31"}):
        response = hub.client.get("/feeds/building.ics", params=window)
        assert response.status_code == 200, (window, response.status_code)
        assert [str(tz["TZID"]) for tz in parse(response.content).walk("VTIMEZONE")] == [LONDON]


def test_default_window_follows_the_settings(hub: Hub, building: Building, settings: Settings) -> None:
    zone = settings_of(hub).zone
    day = datetime.now(UTC).astimezone(zone).date() + timedelta(days=60)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    book(hub, building, start=f"{day}T10:00:00", end=f"{day}T11:00:00")
    with TestClient(create_app(replace(settings, feed_days_ahead=30))) as client:
        response = client.get("/feeds/building.ics")
    assert vevents(parse(response.content)) == []


def test_series_beyond_the_three_year_horizon_is_refused(hub: Hub, building: Building) -> None:
    # Were it cut at the horizon, the feed's RRULE (UNTIL=until) would show unbooked occurrences.
    response = hub.client.post(
        "/api/v1/series",
        headers=building.staff,
        json={
            "room_id": building.hall_a,
            "organisation_id": building.charity,
            "title": "Chair yoga",
            "first_date": "2027-03-16",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "until": "2031-12-31"},
            "skip_clashes": True,
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["rule.until"]
