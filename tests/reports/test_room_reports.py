"""Room utilisation and community impact on a small fixed building, against figures worked out by
hand from the rules (opening hours Mon–Fri 08:00–22:00 and Sat 09:00–17:00 from migration 0002,
Sundays shut; real elapsed hours; a combined room counts in its parts).

March 2026: 31 days, Sundays 1, 8, 15, 22 and 29 shut; no bank holiday; Wednesday 11 closed by
the hub. Open: 21 weekdays × 14 h + 4 Saturdays × 8 h = 326 h per room. The clocks go forward
at 01:00 on Sunday 29 March (a 23-hour day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from hub.config import Settings
from hub.models import OrganisationKind, RateBand, Role
from hub.reports import Impact, Utilisation
from rooms.services import reports as room_reports
from tests.conftest import Hub
from tests.reports.conftest import add_bookings, add_closure, local, make_room, set_rate

H = 3600


@dataclass
class Place:
    hall_a: int
    hall_b: int
    main: int
    studio: int
    nhs: int
    vcse: int
    shop: int


@pytest.fixture
def place(reports_hub: Hub) -> Place:
    hub = reports_hub
    hall_a = make_room(hub, "Hall A")
    hall_b = make_room(hub, "Hall B")
    main = make_room(hub, "Main Hall", [hall_a, hall_b])
    studio = make_room(hub, "Studio")
    for room in (hall_a, hall_b, main, studio):
        set_rate(hub, room, RateBand.COMMERCIAL, 4_000)
        set_rate(hub, room, RateBand.COMMUNITY, 1_200)
    nhs = hub.make_org("Coast NHS Trust", kind=OrganisationKind.NHS)
    vcse = hub.make_org("Coastal Youth Trust", kind=OrganisationKind.VCSE)
    shop = hub.make_org("Fleetwood Fitness Ltd", kind=OrganisationKind.COMMERCIAL)
    add_closure(hub, date(2026, 3, 11), "Boiler replacement")
    add_bookings(
        hub,
        [
            # 1. Monday morning clinic, 2 h, 6 people checked in.
            dict(
                room_id=studio,
                organisation_id=nhs,
                category="clinic",
                start_at=local(2026, 3, 2, 10),
                end_at=local(2026, 3, 2, 12),
                rate_band="statutory",
                price_net_pence=5_000,
                checked_in_at=local(2026, 3, 2, 10),
                attendance=6,
                visibility="private",
            ),
            # 2. The combined hall on the last Tuesday (after the clocks changed): 11:00–14:00 BST,
            #    1 h morning and 2 h afternoon, in Hall A and Hall B both; 20 expected, never checked in.
            dict(
                room_id=main,
                organisation_id=vcse,
                category="class",
                start_at=local(2026, 3, 31, 11),
                end_at=local(2026, 3, 31, 14),
                price_net_pence=3_600,
                attendance=20,
            ),
            # 3. Saturday 20:00 GMT to Sunday 03:00 BST across midnight and the lost hour: 6 h, free.
            dict(
                room_id=hall_a,
                organisation_id=vcse,
                category="youth",
                start_at=local(2026, 3, 28, 20),
                end_at=local(2026, 3, 29, 3),
                price_net_pence=0,
                outside_hours_override=True,
            ),
            # 4. Tuesday 31 March 21:00 to 01:00 on 1 April (month and financial year boundary): 4 h,
            #    3 h of them in March.
            dict(
                room_id=studio,
                organisation_id=shop,
                category="training",
                start_at=local(2026, 3, 31, 21),
                end_at=local(2026, 4, 1, 1),
                rate_band="commercial",
                price_net_pence=16_000,
                outside_hours_override=True,
            ),
            # 5. A no-show: Thursday evening, 1 h (the room was held: it counts as booked).
            dict(
                room_id=studio,
                organisation_id=vcse,
                category="meeting",
                start_at=local(2026, 3, 5, 18),
                end_at=local(2026, 3, 5, 19),
                price_net_pence=1_200,
                no_show=True,
            ),
            # 6. Cancelled 22 hours before its start: a late cancellation (rule: under 48 h).
            dict(
                room_id=hall_b,
                organisation_id=vcse,
                category="class",
                start_at=local(2026, 3, 6, 10),
                end_at=local(2026, 3, 6, 12),
                status="cancelled",
                cancelled_at=local(2026, 3, 5, 12),
            ),
            # 7. Cancelled eight days ahead: not late.
            dict(
                room_id=hall_b,
                organisation_id=vcse,
                category="class",
                start_at=local(2026, 3, 9, 10),
                end_at=local(2026, 3, 9, 11),
                status="cancelled",
                cancelled_at=local(2026, 3, 1, 10),
            ),
            # 8. February, outside the period.
            dict(
                room_id=studio,
                organisation_id=nhs,
                category="clinic",
                start_at=local(2026, 2, 27, 10),
                end_at=local(2026, 2, 27, 12),
            ),
        ],
    )
    return Place(hall_a, hall_b, main, studio, nhs, vcse, shop)


def _utilisation(hub: Hub, settings: Settings, first: date, last: date) -> Utilisation:
    return hub.run(lambda db: room_reports.utilisation(db, settings, first, last))


def test_utilisation_per_room_counts_combined_rooms_in_their_parts_and_clips_to_the_month(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    report = _utilisation(reports_hub, settings, date(2026, 3, 1), date(2026, 3, 31))
    by_room = {(r.room, r.month): (r.booked_seconds, r.open_seconds) for r in report.rooms}
    march = date(2026, 3, 1)
    assert by_room == {
        ("Hall A", march): (9 * H, 326 * H),  # 3 h of the combined hall + 6 h across the clock change
        ("Hall B", march): (3 * H, 326 * H),
        ("Studio", march): (6 * H, 326 * H),  # 2 h clinic + 3 of the 4 h training + 1 h no-show
    }


def test_utilisation_by_weekday_and_part_of_day_uses_local_time(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    report = _utilisation(reports_hub, settings, date(2026, 3, 1), date(2026, 3, 31))
    cells = {(w.weekday, w.part): (w.booked_seconds, w.open_seconds) for w in report.by_weekday_part}
    # Mondays open 5 × 4 h of morning in 3 rooms = 60 h.
    assert cells[(0, "morning")] == (2 * H, 60 * H)
    # The hall at 11:00–14:00 BST in two parts: 1 h morning and 2 h afternoon, each twice.
    assert cells[(1, "morning")] == (2 * H, 60 * H)
    assert cells[(1, "afternoon")] == (4 * H, 75 * H)
    assert cells[(1, "evening")] == (3 * H, 75 * H)
    assert cells[(3, "evening")] == (1 * H, 60 * H)  # four Thursdays
    assert cells[(5, "evening")] == (6 * H, 0)  # Saturday: shut in the evening, booked by override
    assert cells[(2, "morning")] == (0, 3 * 4 * 3 * H)  # three Wednesdays open (the 11th closed)
    assert sum(b for b, _ in cells.values()) == 18 * H
    assert sum(o for _, o in cells.values()) == 3 * 326 * H


def test_no_shows_and_late_cancellations(reports_hub: Hub, settings: Settings, place: Place) -> None:
    report = _utilisation(reports_hub, settings, date(2026, 3, 1), date(2026, 3, 31))
    assert (report.no_shows, report.no_show_seconds) == (1, 1 * H)
    assert (report.late_cancellations, report.late_cancellation_seconds) == (1, 2 * H)


def test_a_booking_across_the_financial_year_end_counts_on_both_sides(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    april = _utilisation(reports_hub, settings, date(2026, 4, 1), date(2026, 4, 30))
    studio_april = [r for r in april.rooms if r.room == "Studio"]
    assert [(r.month, r.booked_seconds) for r in studio_april] == [(date(2026, 4, 1), 1 * H)]
    # April 2026: 30 days; Good Friday 3rd and Easter Monday 6th are bank holidays; Sundays 5, 12,
    # 19, 26 shut; Saturdays 4, 11, 18, 25. Weekdays open: 22 − 2 = 20 × 14 h + 4 × 8 h = 312 h.
    assert studio_april[0].open_seconds == 312 * H
    wednesday = {(w.weekday, w.part): w.booked_seconds for w in april.by_weekday_part}
    assert wednesday[(2, "morning")] == 1 * H  # 00:00–01:00 on Wednesday 1 April


def test_a_25_hour_day_counts_its_extra_hour(reports_hub: Hub, settings: Settings, place: Place) -> None:
    # Saturday 24 October 2026 20:00 BST to Sunday 25 October 03:00 GMT: 8 real hours.
    add_bookings(
        reports_hub,
        [
            dict(
                room_id=place.studio,
                organisation_id=place.vcse,
                category="youth",
                start_at=local(2026, 10, 24, 20),
                end_at=local(2026, 10, 25, 3),
                outside_hours_override=True,
            )
        ],
    )
    report = _utilisation(reports_hub, settings, date(2026, 10, 1), date(2026, 10, 31))
    studio = next(r for r in report.rooms if r.room == "Studio")
    assert studio.booked_seconds == 8 * H
    # October 2026: 22 weekdays × 14 h + 5 Saturdays × 8 h = 348 h (no bank holiday, no closure).
    assert studio.open_seconds == 348 * H
    parts = {(w.weekday, w.part): w.booked_seconds for w in report.by_weekday_part}
    assert parts[(5, "evening")] == 8 * H
    impact = reports_hub.run(
        lambda db: room_reports.impact(db, settings, date(2026, 10, 25), date(2026, 10, 25))
    )
    assert impact.sessions_held == 0  # it began on the 24th
    impact = reports_hub.run(
        lambda db: room_reports.impact(db, settings, date(2026, 10, 24), date(2026, 10, 24))
    )
    assert (impact.sessions_held, impact.hours_seconds) == (1, 8 * H)


def test_the_local_day_bounds_follow_the_clock_change(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    # Sunday 29 March is 23 hours long: midnight GMT to midnight BST. The Saturday-night session
    # began the day before, so only the 3 h after midnight (real time) fall on it.
    report = _utilisation(reports_hub, settings, date(2026, 3, 29), date(2026, 3, 29))
    hall_a = next(r for r in report.rooms if r.room == "Hall A")
    assert (hall_a.booked_seconds, hall_a.open_seconds) == (2 * H, 0)  # 00:00 GMT–03:00 BST is 2 h


def _impact(hub: Hub, settings: Settings) -> Impact:
    return hub.run(lambda db: room_reports.impact(db, settings, date(2026, 3, 1), date(2026, 3, 31)))


def test_impact_hours_by_category_sessions_and_attendance(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    report = _impact(reports_hub, settings)
    assert [(c.category, c.sessions, c.seconds, c.attendance) for c in report.categories] == [
        ("youth", 1, 6 * H, 0),
        ("training", 1, 4 * H, 0),  # its whole length: sessions are counted where they begin
        ("class", 1, 3 * H, 0),  # 20 expected but never checked in: not an attendance
        ("clinic", 1, 2 * H, 6),
    ]
    assert (report.sessions_held, report.hours_seconds) == (4, 15 * H)
    assert (report.attendances, report.checked_in_sessions) == (6, 1)
    assert [(k.kind, k.organisations) for k in report.organisations] == [
        ("commercial", 1),
        ("nhs", 1),
        ("vcse", 1),
    ]


def test_impact_rates_free_hours_and_the_discount_given(
    reports_hub: Hub, settings: Settings, place: Place
) -> None:
    report = _impact(reports_hub, settings)
    assert [(b.band, b.seconds, b.net_pence) for b in report.bands] == [
        ("commercial", 4 * H, 16_000),
        ("community", 3 * H, 3_600),
        ("free", 6 * H, 0),
        ("statutory", 2 * H, 5_000),
    ]
    # At £40/h commercial: clinic 2 h £80 + hall 3 h £120 + youth 6 h £240 = £440; charged £86.
    assert (report.commercial_value_pence, report.charged_pence, report.discount_pence) == (
        44_000,
        8_600,
        35_400,
    )


def test_sessions_not_yet_begun_are_not_held(reports_hub: Hub, settings: Settings, place: Place) -> None:
    before_class = local(2026, 3, 31, 10)
    report = reports_hub.run(
        lambda db: room_reports.impact(db, settings, date(2026, 3, 1), date(2026, 3, 31), now=before_class)
    )
    assert report.sessions_held == 2  # the clinic and the Saturday night; the rest were still to come


def test_the_api_and_pages_show_the_same_figures(reports_hub: Hub, settings: Settings, place: Place) -> None:
    headers = reports_hub.headers_for(Role.TRUSTEE)
    body = reports_hub.client.get("/api/v1/reports/utilisation?period=2026-03", headers=headers).json()
    assert body["available"] is True
    assert body["period"]["first"] == "2026-03-01" and body["period"]["last"] == "2026-03-31"
    assert sum(r["booked_seconds"] for r in body["figures"]["rooms"]) == 18 * H
    impact = reports_hub.client.get("/api/v1/reports/impact?period=2026-03", headers=headers).json()
    assert impact["figures"]["discount_pence"] == 35_400
    assert impact["occupancy_available"] is True and impact["occupancy"][0]["share_bp"] == 7_500
    csv_text = reports_hub.client.get(
        "/reports/utilisation/rooms.csv?period=2026-03", headers=headers
    ).content.decode("utf-8-sig")
    assert csv_text.splitlines()[1:] == [
        "Hall A,9.00,326.00,2.76%",
        "Hall B,3.00,326.00,0.92%",
        "Studio,6.00,326.00,1.84%",
        "All rooms,18.00,978.00,1.84%",
    ]
