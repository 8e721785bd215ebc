"""Series: recurrence in local time across clock changes, clashes to skip, edits by scope."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub
from tests.rooms.conftest import Building

API = "/api/v1/series"


def series(hub: Hub, b: Building, **fields: Any) -> Any:
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
    return hub.client.post(API, json=payload, headers=b.staff)


def starts(body: dict[str, Any]) -> list[str]:
    return [b["start_local"] for b in body["booked"]]


def test_weekly_class_keeps_local_time_across_spring_clock_change(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    # Clocks go forward on Sunday 28 March 2027: 10:00 local stays 10:00, its UTC time moves.
    assert starts(body) == [
        "2027-03-16T10:00+00:00",
        "2027-03-23T10:00+00:00",
        "2027-03-30T10:00+01:00",
        "2027-04-06T10:00+01:00",
    ]
    assert [b["start"] for b in body["booked"]][1:3] == ["2027-03-23T10:00:00Z", "2027-03-30T09:00:00Z"]


def test_weekly_class_keeps_local_time_across_autumn_clock_change(hub: Hub, building: Building) -> None:
    body = series(hub, building, first_date="2026-10-20", rule={"freq": "weekly", "count": 3}).json()
    assert starts(body) == ["2026-10-20T10:00+01:00", "2026-10-27T10:00+00:00", "2026-11-03T10:00+00:00"]


def test_weekly_on_chosen_weekdays_every_other_week_until_a_date(hub: Hub, building: Building) -> None:
    rule = {"freq": "weekly", "interval": 2, "weekdays": [0, 3], "until": "2026-12-31"}
    body = series(hub, building, first_date="2026-11-30", skip_clashes=True, rule=rule).json()
    # Monday 28 December 2026 is the Boxing Day bank holiday (observed): closed, so skipped.
    assert [s[:10] for s in starts(body)] == [
        "2026-11-30",
        "2026-12-03",
        "2026-12-14",
        "2026-12-17",
        "2026-12-31",
    ]
    assert [p["start_local"] for p in body["skipped"]] == ["Mon 28 Dec 2026 10:00"]


def test_monthly_by_nth_weekday_and_by_date(hub: Hub, building: Building) -> None:
    second_tuesday = series(
        hub,
        building,
        first_date="2026-12-08",
        rule={"freq": "monthly", "monthly_by": "nth_weekday", "count": 3},
    ).json()
    assert [s[:10] for s in starts(second_tuesday)] == ["2026-12-08", "2027-01-12", "2027-02-09"]
    by_date = series(
        hub, building, room_id=building.hall_b, first_date="2026-12-15", rule={"freq": "monthly", "count": 3}
    ).json()
    assert [s[:10] for s in starts(by_date)] == ["2026-12-15", "2027-01-15", "2027-02-15"]


def test_clashes_are_reported_and_can_be_skipped(hub: Hub, building: Building) -> None:
    hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.main_hall,
            "organisation_id": building.nhs,
            "title": "Flu jabs",
            "start": "2026-12-08T09:00:00",
            "end": "2026-12-08T12:00:00",
        },
    )
    refused = series(hub, building, first_date="2026-12-01", rule={"freq": "weekly", "count": 4})
    assert refused.status_code == 409
    problems = refused.json()["problems"]
    # The 8th clashes with the Main Hall booking; the 22nd is fine; none is written.
    assert [p["start_local"] for p in problems] == ["Tue 08 Dec 2026 10:00"]
    assert problems[0]["clashes"][0]["room"] == "Main Hall"
    assert "Flu" not in refused.text
    preview = hub.client.post(
        f"{API}/preview",
        headers=building.staff,
        json={
            "room_id": building.hall_a,
            "organisation_id": building.charity,
            "title": "Chair yoga",
            "first_date": "2026-12-01",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 4},
        },
    ).json()
    assert preview["occurrences"] == 4 and len(preview["problems"]) == 1
    booked = series(
        hub, building, first_date="2026-12-01", rule={"freq": "weekly", "count": 4}, skip_clashes=True
    )
    assert booked.status_code == 201
    assert [s[:10] for s in starts(booked.json())] == ["2026-12-01", "2026-12-15", "2026-12-22"]
    assert [p["start_local"] for p in booked.json()["skipped"]] == ["Tue 08 Dec 2026 10:00"]


def test_bank_holidays_and_impossible_times_are_problems_not_guesses(hub: Hub, building: Building) -> None:
    # Mondays at 01:30 across the spring change would never reach opening hours; use Sunday 28
    # March 2027 01:30 (does not exist) via a weekly series on Sundays with an override.
    body = series(
        hub,
        building,
        first_date="2027-03-21",
        start_time="01:30",
        end_time="02:30",
        rule={"freq": "weekly", "count": 2},
        override_opening_hours=True,
        override_reason="night event",
    )
    assert body.status_code == 409
    reasons = [p["reason"] for p in body.json()["problems"]]
    assert any("clocks go forward" in r for r in reasons)
    christmas = series(
        hub,
        building,
        first_date="2026-12-18",
        rule={"freq": "weekly", "count": 2},
        start_time="10:00",
        end_time="11:00",
    )
    assert christmas.status_code == 409
    assert "Christmas Day" in christmas.json()["problems"][0]["reason"]


def test_edit_this_occurrence_only(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    second = body["booked"][1]
    moved = hub.client.patch(
        f"/api/v1/bookings/{second['id']}",
        headers=building.staff,
        json={"start": "2027-03-23T14:00:00", "end": "2027-03-23T15:00:00", "scope": "this"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["is_exception"] is True
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()
    assert [b["start_local"][11:16] for b in after["booked"]] == ["10:00", "14:00", "10:00", "10:00"]


def test_edit_whole_series_keeps_earlier_exceptions(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    second = body["booked"][1]
    hub.client.patch(
        f"/api/v1/bookings/{second['id']}",
        headers=building.staff,
        json={"title": "Chair yoga (moved for the fair)", "scope": "this"},
    )
    whole = hub.client.patch(
        f"/api/v1/bookings/{body['booked'][0]['id']}",
        headers=building.staff,
        json={"start": "2027-03-16T11:00:00", "end": "2027-03-16T12:00:00", "scope": "all"},
    )
    assert whole.status_code == 200, whole.text
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    # Every non-exception occurrence moved to 11:00 local, across the clock change too.
    assert [b["start_local"] for b in after] == [
        "2027-03-16T11:00+00:00",
        "2027-03-23T10:00+00:00",
        "2027-03-30T11:00+01:00",
        "2027-04-06T11:00+01:00",
    ]
    assert after[1]["title"] == "Chair yoga (moved for the fair)"


def test_edit_this_and_following(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    third = body["booked"][2]
    response = hub.client.patch(
        f"/api/v1/bookings/{third['id']}",
        headers=building.staff,
        json={"room_id": building.hall_b, "scope": "following"},
    )
    assert response.status_code == 200, response.text
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    assert [b["room"] for b in after] == ["Hall A", "Hall A", "Hall B", "Hall B"]


def test_scope_edit_is_all_or_nothing_when_one_clashes(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    hub.client.post(
        "/api/v1/bookings",
        headers=building.staff,
        json={
            "room_id": building.hall_b,
            "organisation_id": building.nhs,
            "title": "Blood tests",
            "start": "2027-04-06T09:00:00",
            "end": "2027-04-06T12:00:00",
        },
    )
    response = hub.client.patch(
        f"/api/v1/bookings/{body['booked'][0]['id']}",
        headers=building.staff,
        json={"room_id": building.hall_b, "scope": "all"},
    )
    assert response.status_code == 409
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    assert {b["room"] for b in after} == {"Hall A"}


def test_cancel_one_occurrence_leaves_the_rest(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    second = body["booked"][1]
    cancelled = hub.client.post(
        f"/api/v1/bookings/{second['id']}/cancel",
        headers=building.staff,
        json={"reason": "Half term", "scope": "this"},
    )
    assert cancelled.status_code == 200
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    assert [b["status"] for b in after] == ["confirmed", "cancelled", "confirmed", "confirmed"]
    rest = hub.client.post(
        f"/api/v1/bookings/{after[2]['id']}/cancel",
        headers=building.staff,
        json={"reason": "Instructor left", "scope": "following"},
    )
    assert rest.status_code == 200
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    assert [b["status"] for b in after] == ["confirmed", "cancelled", "cancelled", "cancelled"]


def test_bad_series_input(hub: Hub, building: Building) -> None:
    cases = [
        ({"rule": {"freq": "daily", "count": 3}}, 400, "rule.freq"),
        ({"rule": {"freq": "weekly"}}, 422, "rule.until"),
        ({"rule": {"freq": "weekly", "count": 3, "until": "2027-05-01"}}, 422, "rule.count"),
        ({"rule": {"freq": "weekly", "count": 9999}}, 400, "rule.count"),
        ({"rule": {"freq": "weekly", "count": 3, "weekdays": [7]}}, 400, "rule.weekdays[0]"),
        ({"rule": {"freq": "weekly", "count": 3, "weekdays": [3]}}, 422, "first_date"),
        ({"rule": {"freq": "weekly", "until": "2027-01-01"}}, 422, "rule.until"),
        ({"start_time": "25:00"}, 400, "start_time"),
        ({"end_time": "09:00"}, 422, "end_time"),
        ({"first_date": "2027-02-30"}, 400, "first_date"),
        ({"rule": {"freq": "monthly", "count": 3}, "first_date": "2027-03-30"}, 422, "first_date"),
    ]
    for fields, status, field in cases:
        response = series(hub, building, **fields)
        assert response.status_code == status, (fields, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (fields, response.json())
    assert hub.client.get(f"{API}/1", headers=building.staff).status_code == 404


def test_moving_a_whole_series_to_another_day_is_refused_clearly(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    response = hub.client.patch(
        f"/api/v1/bookings/{body['booked'][0]['id']}",
        headers=building.staff,
        json={"start": "2027-03-17T10:00:00", "end": "2027-03-17T11:00:00", "scope": "all"},
    )
    assert response.status_code == 422
    assert "not its day" in response.json()["detail"]


def test_edit_all_from_a_later_occurrence_moves_every_future_one(hub: Hub, building: Building) -> None:
    body = series(hub, building).json()
    third = body["booked"][2]
    response = hub.client.patch(
        f"/api/v1/bookings/{third['id']}",
        headers=building.staff,
        json={"start": "2027-03-30T13:00:00", "end": "2027-03-30T14:30:00", "scope": "all"},
    )
    assert response.status_code == 200, response.text
    after = hub.client.get(f"{API}/{body['id']}", headers=building.staff).json()["booked"]
    assert [b["start_local"][11:16] + "-" + b["end_local"][11:16] for b in after] == ["13:00-14:30"] * 4


def test_preview_with_an_unknown_room_is_a_field_error(hub: Hub, building: Building) -> None:
    response = hub.client.post(
        f"{API}/preview",
        headers=building.staff,
        json={
            "room_id": 424242,
            "organisation_id": building.charity,
            "title": "Chair yoga",
            "first_date": "2026-12-01",
            "start_time": "10:00",
            "end_time": "11:00",
            "rule": {"freq": "weekly", "count": 2},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "room_id"
