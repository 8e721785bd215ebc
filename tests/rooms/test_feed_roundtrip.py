"""Round trip: random series with cancellations, moves and new titles, across both clock changes.

An independent expander (recurring-ical-events) reading the building feed must find exactly the
bookings the hub holds: the same starts, ends and titles, no more and no fewer. Each example gets a
fresh copy of the migrated database, so a failure shrinks and replays like any other.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from hub.app import create_app
from hub.models import RateBand, Role
from tests.conftest import Hub, backend, base_settings, fresh_postgres_database
from tests.rooms.conftest import make_room, set_rate

LONDON = "Europe/London"
FIRST = date(2027, 2, 1)
LAST = date(2027, 11, 30)
FEED_WINDOW = {"from": "2027-01-01", "to": "2029-12-31"}  # every occurrence falls inside
# Titles that need escaping or are not ASCII, to check text survives the trip too.
TITLES = ("Chair yoga", "Tea, cake; chat", "Café ☕ club", "Back\\slash, semi; colon:", "Łódź — ünïcödé")


@dataclass(frozen=True)
class SeriesSpec:
    first: date
    freq: str
    weekdays: tuple[int, ...]
    monthly_by: str
    interval: int
    count: int
    start_minutes: int  # after midnight, local
    duration: int
    room: int
    title: str


@dataclass(frozen=True)
class Edit:
    kind: str  # cancel | move | retitle
    series: int
    occurrence: int
    day_shift: int = 0
    start_minutes: int = 0
    duration: int = 60
    title: str = ""


@st.composite
def series_specs(draw: st.DrawFn) -> SeriesSpec:
    first = FIRST + timedelta(days=draw(st.integers(0, (LAST - FIRST).days)))
    while first.weekday() >= 5:  # weekdays only: opening hours 08:00–20:00 are safe Mon–Fri
        first += timedelta(days=1)
    freq = draw(st.sampled_from(["weekly", "monthly"]))
    weekdays: tuple[int, ...] = ()
    monthly_by = "date"
    if freq == "weekly":
        extra = draw(st.sets(st.integers(0, 4), max_size=3))
        weekdays = tuple(sorted(extra | {first.weekday()}))
    else:
        monthly_by = "nth_weekday" if first.day > 28 else draw(st.sampled_from(["date", "nth_weekday"]))
    return SeriesSpec(
        first=first,
        freq=freq,
        weekdays=weekdays,
        monthly_by=monthly_by,
        interval=draw(st.integers(1, 2)),
        count=draw(st.integers(2, 12)),
        start_minutes=draw(st.integers(8 * 2, 18 * 2)) * 30,
        duration=draw(st.sampled_from([30, 60, 90, 120])),
        room=draw(st.integers(0, 3)),
        title=draw(st.sampled_from(TITLES)),
    )


edits = st.builds(
    Edit,
    kind=st.sampled_from(["cancel", "move", "retitle"]),
    series=st.integers(0, 2),
    occurrence=st.integers(0, 11),
    day_shift=st.integers(-3, 3),
    start_minutes=st.integers(8 * 2, 18 * 2).map(lambda n: n * 30),
    duration=st.sampled_from([30, 60, 120]),
    title=st.sampled_from(TITLES).map(lambda t: t + " (changed)"),
)


@contextmanager
def fresh_hub(template: str, tmp: Path) -> Iterator[tuple[Hub, list[int], int, dict[str, str]]]:
    """A new database (copied from the migrated template), the app, four rooms and a receptionist."""

    @contextmanager
    def database() -> Iterator[str]:
        if backend() == "postgresql":
            with fresh_postgres_database(template) as url:
                yield url
        else:
            target = tmp / f"{uuid.uuid4().hex}.sqlite3"
            shutil.copyfile(template, target)
            try:
                yield f"sqlite+aiosqlite:///{target}"
            finally:
                target.unlink(missing_ok=True)

    with (
        database() as url,
        TestClient(create_app(base_settings(url)), base_url="http://testserver.local") as client,
    ):
        hub = Hub(client)
        rooms = [make_room(hub, f"Room {n}", 40) for n in range(4)]
        for room in rooms:
            set_rate(hub, room, RateBand.COMMUNITY, 1_200)
        organisation = hub.make_org("Round Trip Club")
        yield hub, rooms, organisation, hub.headers_for(Role.RECEPTIONIST)


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def make(hub: Hub, rooms: list[int], organisation: int, staff: dict[str, str], spec: SeriesSpec) -> list[Any]:
    rule: dict[str, Any] = {"freq": spec.freq, "interval": spec.interval, "count": spec.count}
    if spec.freq == "weekly":
        rule["weekdays"] = list(spec.weekdays)
    else:
        rule["monthly_by"] = spec.monthly_by
    response = hub.client.post(
        "/api/v1/series",
        headers=staff,
        json={
            "room_id": rooms[spec.room],
            "organisation_id": organisation,
            "title": spec.title,
            "category": "class",
            "first_date": spec.first.isoformat(),
            "start_time": clock(spec.start_minutes),
            "end_time": clock(spec.start_minutes + spec.duration),
            "rule": rule,
            "skip_clashes": True,
        },
    )
    if response.status_code == 422:  # every occurrence clashed or fell on a closed day
        return []
    assert response.status_code == 201, response.text
    booked: list[Any] = response.json()["booked"]
    return booked


def apply(hub: Hub, staff: dict[str, str], booked: list[list[Any]], edit: Edit) -> None:
    made = [b for b in booked if b]
    if not made:
        return
    occurrences = made[edit.series % len(made)]
    target = occurrences[edit.occurrence % len(occurrences)]
    path = f"/api/v1/bookings/{target['id']}"
    if edit.kind == "cancel":
        response = hub.client.post(
            f"{path}/cancel", headers=staff, json={"reason": "Round trip", "scope": "this", "waive_fee": True}
        )
        assert response.status_code in (200, 409), response.text  # 409: already cancelled
        return
    if edit.kind == "retitle":
        response = hub.client.patch(path, headers=staff, json={"title": edit.title, "scope": "this"})
    else:
        day = date.fromisoformat(target["start_local"][:10]) + timedelta(days=edit.day_shift)
        if day.weekday() >= 5:
            day -= timedelta(days=2)
        response = hub.client.patch(
            path,
            headers=staff,
            json={
                "start": f"{day}T{clock(edit.start_minutes)}:00",
                "end": f"{day}T{clock(edit.start_minutes + edit.duration)}:00",
                "scope": "this",
            },
        )
    # 409: the new time clashes; 422: cancelled already, or a bank holiday. Nothing changes then.
    assert response.status_code in (200, 409, 422), response.text


def live_bookings(hub: Hub, staff: dict[str, str]) -> Counter[tuple[datetime, datetime, str]]:
    found: Counter[tuple[datetime, datetime, str]] = Counter()
    day = date.fromisoformat(FEED_WINDOW["from"])
    end = date.fromisoformat(FEED_WINDOW["to"])
    while day < end:
        last = min(day + timedelta(days=60), end - timedelta(days=1))
        response = hub.client.get(
            "/api/v1/bookings", headers=staff, params={"from": str(day), "to": str(last)}
        )
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            start = datetime.fromisoformat(item["start"]).astimezone(UTC)
            finish = datetime.fromisoformat(item["end"]).astimezone(UTC)
            found[(start, finish, item["public_title"])] += 1
        day = last + timedelta(days=1)
    return found


def expanded(raw: bytes) -> tuple[Counter[tuple[datetime, datetime, str]], list[Any]]:
    calendar = icalendar.Calendar.from_ical(raw)
    events = recurring_ical_events.of(calendar).between(datetime(2026, 6, 1), datetime(2030, 6, 1))
    found: Counter[tuple[datetime, datetime, str]] = Counter(
        (e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC), str(e["SUMMARY"])) for e in events
    )
    return found, events


def zone_name(value: datetime) -> str:
    tzinfo = value.tzinfo
    return str(getattr(tzinfo, "key", None) or getattr(tzinfo, "zone", None) or tzinfo)


def test_feed_expands_to_exactly_the_stored_occurrences(template_database: str, tmp_path: Path) -> None:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(specs=st.lists(series_specs(), min_size=1, max_size=3), changes=st.lists(edits, max_size=8))
    def round_trip(specs: list[SeriesSpec], changes: list[Edit]) -> None:
        with fresh_hub(template_database, tmp_path) as (hub, rooms, organisation, staff):
            booked = [make(hub, rooms, organisation, staff, spec) for spec in specs]
            for change in changes:
                apply(hub, staff, booked, change)
            response = hub.client.get("/feeds/building.ics", params=FEED_WINDOW)
            assert response.status_code == 200, response.text
            calendar = icalendar.Calendar.from_ical(response.content)
            for event in calendar.walk("VEVENT"):
                assert event["DTSTART"].params["TZID"] == LONDON
                assert event["DTEND"].params["TZID"] == LONDON
            found, events = expanded(response.content)
            expected = live_bookings(hub, staff)
            assert found == expected, (
                f"only in the feed: {sorted((found - expected).elements())}; "
                f"only in the hub: {sorted((expected - found).elements())}"
            )
            assert all(zone_name(e["DTSTART"].dt) == LONDON for e in events)

    round_trip()
