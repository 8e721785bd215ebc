"""Feeds read right by calendar clients for as long as their series recur, summer and winter.

Two parser families expand each feed through the feed's own VTIMEZONE (never a time zone database
of their own) and must find exactly the occurrences the API lists: Python's icalendar +
recurring-ical-events (with the TZID renamed, so it cannot look the zone up) and Mozilla's ical.js
under Node (what Thunderbird uses; pinned in tests/js, installed by .ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from tests.conftest import Hub
from tests.rooms.conftest import Building

JS = Path(__file__).resolve().parent.parent / "js"
LONDON = ZoneInfo("Europe/London")
RENAMED = "Hub/Feed-Zone"

Occurrence = tuple[datetime, datetime, str]


def ical_js(raw: bytes, first: datetime, last: datetime) -> list[dict[str, Any]]:
    """Every occurrence ical.js finds starting in [first, last), as tests/js/expand.mjs prints them."""
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "ical.js").is_dir():
        reason = "ical.js is not installed: run `npm ci` in tests/js (needs Node)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with tempfile.NamedTemporaryFile(suffix=".ics") as handle:
        handle.write(raw)
        handle.flush()
        done = subprocess.run(
            [node, str(JS / "expand.mjs"), handle.name, first.isoformat(), last.isoformat()],
            capture_output=True,
            check=False,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr.decode()
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def by_ical_js(raw: bytes, first: datetime, last: datetime) -> Counter[Occurrence]:
    found = ical_js(raw, first, last)
    # Resolved through the feed's VTIMEZONE: ical.js knows no zone but UTC of its own.
    assert {item["tzid"] for item in found} <= {"Europe/London"}, {item["tzid"] for item in found}
    return Counter(
        (utc(item["start"]), utc(item["end"]), item["summary"])
        for item in found
        if item["status"] != "CANCELLED"
    )


def by_python_own_zone(raw: bytes, first: datetime, last: datetime) -> Counter[Occurrence]:
    """recurring-ical-events, with the zone renamed so that only the feed's VTIMEZONE can say
    what its times mean."""
    renamed = raw.replace(b"TZID=Europe/London", b"TZID=" + RENAMED.encode())
    renamed = renamed.replace(b"TZID:Europe/London", b"TZID:" + RENAMED.encode())
    assert b"Europe/London" in raw and b"TZID=Europe/London" not in renamed
    calendar = icalendar.Calendar.from_ical(renamed)
    events = recurring_ical_events.of(calendar).between(first, last)
    found: Counter[Occurrence] = Counter()
    for event in events:
        start = event["DTSTART"].dt
        assert RENAMED in repr(start.tzinfo), repr(start.tzinfo)
        if str(event.get("STATUS", "")) == "CANCELLED":
            continue
        found[(start.astimezone(UTC), event["DTEND"].dt.astimezone(UTC), str(event["SUMMARY"]))] += 1
    return found


def from_api(hub: Hub, headers: dict[str, str], first: date, last: date) -> Counter[Occurrence]:
    found: Counter[Occurrence] = Counter()
    day = first
    while day < last:
        upto = min(day + timedelta(days=60), last - timedelta(days=1))
        response = hub.client.get(
            "/api/v1/bookings", headers=headers, params={"from": str(day), "to": str(upto)}
        )
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            # A public feed's face of it: a private booking is only "Private booking".
            title = "Private booking" if item["visibility"] == "private" else item["public_title"]
            found[(utc(item["start"]), utc(item["end"]), title)] += 1
        day = upto + timedelta(days=1)
    return found


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def summer(instant: datetime) -> bool:
    return bool(instant.astimezone(LONDON).dst())


def post(hub: Hub, b: Building, path: str, **payload: Any) -> dict[str, Any]:
    response = hub.client.post(path, json=payload, headers=b.staff)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def test_series_running_into_2031_is_right_in_both_parsers_through_the_feeds_own_vtimezone(
    hub: Hub, building: Building
) -> None:
    # 156 Wednesdays from June 2028 to May 2031 at 10:00 London time; the feed's window ends in
    # 2029, the series does not. Three fall on bank holidays and are skipped (EXDATEs).
    made = post(
        hub,
        building,
        "/api/v1/series",
        room_id=building.hall_a,
        organisation_id=building.charity,
        title="Long chair yoga",
        category="class",
        first_date="2028-06-07",
        start_time="10:00",
        end_time="11:00",
        rule={"freq": "weekly", "count": 156},
        skip_clashes=True,
    )
    booked = made["booked"]
    holidays = {date(2029, 12, 26), date(2030, 12, 25), date(2031, 1, 1)}
    assert len(booked) == 153
    # One cancelled in summer 2030 and one moved in winter 2030: an EXDATE and an override past 2029.
    summer_2030 = next(b for b in booked if b["start"].startswith("2030-07-03"))
    winter_2030 = next(b for b in booked if b["start"].startswith("2030-12-04"))
    post(
        hub,
        building,
        f"/api/v1/bookings/{summer_2030['id']}/cancel",
        reason="Fête",
        scope="this",
        waive_fee=True,
    )
    response = hub.client.patch(
        f"/api/v1/bookings/{winter_2030['id']}",
        json={"start": "2030-12-05T14:00:00", "end": "2030-12-05T15:30:00", "scope": "this"},
        headers=building.staff,
    )
    assert response.status_code == 200, response.text

    # What the rule means, from the zone database: 10:00 London time every Wednesday.
    rule: Counter[Occurrence] = Counter()
    for week in range(156):
        day = date(2028, 6, 7) + timedelta(weeks=week)
        if day in holidays or day == date(2030, 7, 3):
            continue
        start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON)
        if day == date(2030, 12, 4):
            start = datetime(2030, 12, 5, 14, 0, tzinfo=LONDON)
            rule[
                (start.astimezone(UTC), (start + timedelta(minutes=90)).astimezone(UTC), "Long chair yoga")
            ] += 1
            continue
        rule[(start.astimezone(UTC), (start + timedelta(hours=1)).astimezone(UTC), "Long chair yoga")] += 1
    late = [start for start, _, _ in rule.elements() if start.year >= 2030]
    assert sum(1 for s in late if summer(s)) == 38 and sum(1 for s in late if not summer(s)) == 33

    first, last = datetime(2028, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC)
    assert from_api(hub, building.staff, first.date(), last.date()) == rule

    feed = hub.client.get("/feeds/building.ics", params={"from": "2028-06-01", "to": "2029-06-01"})
    assert feed.status_code == 200, feed.text
    raw = feed.content
    # The most widely read form: no RDATE at all (never a comma list of them).
    assert b"RDATE" not in raw
    python = by_python_own_zone(raw, first.replace(tzinfo=None), last.replace(tzinfo=None))
    assert python == rule, (sorted((python - rule).elements())[:5], sorted((rule - python).elements())[:5])
    javascript = by_ical_js(raw, first, last)
    assert javascript == rule, (
        sorted((javascript - rule).elements())[:5],
        sorted((rule - javascript).elements())[:5],
    )


def test_building_feed_reads_the_same_in_ical_js_summer_and_winter(hub: Hub, building: Building) -> None:
    # Series either side of both 2027 clock changes, one-offs in summer and in winter, an override
    # and a cancellation.
    post(
        hub,
        building,
        "/api/v1/series",
        room_id=building.hall_a,
        organisation_id=building.charity,
        title="Tuesday club",
        category="class",
        first_date="2027-03-02",
        start_time="18:00",
        end_time="19:30",
        rule={"freq": "weekly", "count": 40},
    )
    monthly = post(
        hub,
        building,
        "/api/v1/series",
        room_id=building.hall_b,
        organisation_id=building.nhs,
        title="Memory clinic",
        category="clinic",
        first_date="2027-01-13",
        start_time="09:30",
        end_time="12:00",
        rule={"freq": "monthly", "monthly_by": "nth_weekday", "count": 12},
    )
    for start, end, title in (
        ("2027-01-20T19:00:00", "2027-01-20T20:00:00", "Winter quiz"),
        ("2027-07-21T19:00:00", "2027-07-21T20:00:00", "Summer quiz"),
        ("2027-10-29T08:00:00", "2027-10-29T09:00:00", "Week of the change"),
    ):
        post(
            hub,
            building,
            "/api/v1/bookings",
            room_id=building.meeting,
            organisation_id=building.charity,
            title=title,
            category="meeting",
            start=start,
            end=end,
        )
    clinic = monthly["booked"]
    post(
        hub,
        building,
        f"/api/v1/bookings/{clinic[6]['id']}/cancel",
        reason="Leave",
        scope="this",
        waive_fee=True,
    )
    response = hub.client.patch(
        f"/api/v1/bookings/{clinic[7]['id']}",
        json={"title": "Memory clinic (extended)", "scope": "this"},
        headers=building.staff,
    )
    assert response.status_code == 200, response.text

    raw = hub.client.get("/feeds/building.ics", params={"from": "2026-12-01", "to": "2028-06-01"}).content
    first, last = datetime(2026, 12, 1, tzinfo=UTC), datetime(2028, 6, 1, tzinfo=UTC)
    # The public face: the clinic is a "Private booking" in the feed and in the API's public titles.
    expected = from_api(hub, building.staff, first.date(), last.date())
    assert sum(expected.values()) == 40 + 11 + 3
    starts = list(expected.elements())
    assert (
        sum(1 for s, _, _ in starts if summer(s)) == 39
        and sum(1 for s, _, _ in starts if not summer(s)) == 15
    )
    javascript = by_ical_js(raw, first, last)
    assert javascript == expected, (
        sorted((javascript - expected).elements())[:5],
        sorted((expected - javascript).elements())[:5],
    )
    assert by_python_own_zone(raw, first.replace(tzinfo=None), last.replace(tzinfo=None)) == expected
