"""The reception desk pages through the real app: the day grid, the booking form (its price check,
clashes and errors beside fields), a booking's changes, and the series form's clash step."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import utcnow
from hub.models import Role
from rooms.models import Booking
from tests.conftest import Hub
from tests.rooms.conftest import Building

DAY = date(2027, 3, 2)  # a Tuesday: open 08:00–22:00
CLOCK_CHANGE = date(2027, 3, 28)  # the clocks go forward at 01:00


def _today(hub: Hub) -> date:
    return utcnow().astimezone(hub.client.app.state.settings.zone).date()


def _form(building: Building, **overrides: Any) -> dict[str, Any]:
    data = {
        "room_id": building.hall_a,
        "organisation_id": building.charity,
        "title": "Youth drama",
        "category": "youth",
        "date": DAY.isoformat(),
        "start": "14:00",
        "end": "16:00",
        "expected_attendance": "20",
        "status": "confirmed",
        "action": "book",
    }
    data.update(overrides)
    return data


def _post(hub: Hub, path: str, data: dict[str, Any]) -> Any:
    token = hub.csrf("/desk")
    return hub.client.post(path, data={"_csrf": token, **data}, follow_redirects=False)


def _book(hub: Hub, building: Building, **overrides: Any) -> int:
    response = _post(hub, "/desk/bookings/new", _form(building, **overrides))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/desk/bookings/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def _count(hub: Hub) -> int:
    async def work(db: Any) -> int:
        return int(await db.scalar(select(func.count()).select_from(Booking)))

    return hub.run(work)


def _booking(hub: Hub, booking_id: int) -> Booking:
    async def work(db: AsyncSession) -> Booking:
        booking = await db.get(Booking, booking_id)
        assert booking is not None
        return booking

    return hub.run(work)


def _column(html: str, room_id: int) -> str:
    """The HTML of one room's column on the day view."""
    start = html.index(f'aria-labelledby="room-{room_id}-h"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_day_view_shows_bookings_in_their_room_and_a_main_hall_booking_blocks_its_parts(
    hub: Hub, building: Building
) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, title="Youth drama", start="14:00", end="16:00")
    _book(hub, building, room_id=building.main_hall, title="Tea dance", start="10:00", end="12:00")
    html = hub.client.get(f"/desk?date={DAY.isoformat()}").text
    hall_a, hall_b = _column(html, building.hall_a), _column(html, building.hall_b)
    meeting, main = _column(html, building.meeting), _column(html, building.main_hall)
    assert "Youth drama" in hall_a and "Youth drama" not in hall_b and "Youth drama" not in meeting
    # The combined room's booking holds both halls; a hall's booking holds the combined room.
    assert "Tea dance" in main and "Main Hall in use" in hall_a and "Main Hall in use" in hall_b
    assert "Hall A in use" in main and "Tea dance" not in meeting
    # 10:00 is row 9 from an 08:00 opening; two hours is eight quarter-hour rows.
    # Rows are classes (the Content-Security-Policy allows no style attributes): r-<start> e-<end>.
    assert " r-9 e-17 " in main and " r-25 e-33 " in hall_a
    assert "Coastal Youth Trust" in hall_a and "Youth" in hall_a
    # Empty quarter hours are links to book them, with a name a screen reader can say.
    assert f"/desk/bookings/new?room_id={building.hall_b}&amp;date={DAY.isoformat()}&amp;start=14:30" in html
    assert "Book Hall B at 14:30" in html
    assert "Book Hall A at 14:30" not in html  # taken by the drama
    assert "Book Hall A at 10:00" not in html  # taken by the Main Hall booking


def test_provisional_holds_look_different_and_a_bad_date_is_explained(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, title="Maybe a party", status="provisional")
    html = hub.client.get(f"/desk?date={DAY.isoformat()}").text
    assert "is-hold" in _column(html, building.hall_a) and "Provisional" in html
    bad = hub.client.get("/desk?date=31/02/2027")
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD" in bad.text


def test_closed_day_says_why_and_still_shows_the_grid(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    sunday = DAY + timedelta(days=5)
    html = hub.client.get(f"/desk?date={sunday.isoformat()}").text
    assert "The building is closed today:" in html and "closed on Sundays" in html
    assert "Book Hall A at 09:00" in html


def test_private_booking_is_hidden_from_a_tenant_of_another_organisation(
    hub: Hub, building: Building
) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(
        hub,
        building,
        room_id=building.consulting,
        organisation_id=building.nhs,
        title="Sexual health clinic",
        category="clinic",
        expected_attendance="2",
    )
    staff_view = hub.client.get(f"/desk?date={DAY.isoformat()}").text
    assert "Sexual health clinic" in staff_view
    hub.login_as(Role.TENANT)
    tenant_view = hub.client.get(f"/calendar?date={DAY.isoformat()}")
    assert tenant_view.status_code == 200
    assert "Sexual health clinic" not in tenant_view.text
    assert "Lancashire Coast NHS Trust" not in tenant_view.text
    assert "Private booking" in tenant_view.text
    assert hub.client.get(f"/desk?date={DAY.isoformat()}", follow_redirects=False).status_code == 403


def test_booking_form_creates_a_booking_and_shows_it(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    form = hub.client.get(f"/desk/bookings/new?room_id={building.hall_a}&date={DAY.isoformat()}&start=14:30")
    assert form.status_code == 200
    assert 'value="14:30"' in form.text and 'value="15:30"' in form.text
    assert f'<option value="{building.hall_a}" selected>' in form.text
    booking_id = _book(hub, building, contact_email="drama@example.org", notes="Needs chairs")
    page = hub.client.get(f"/desk/bookings/{booking_id}")
    assert page.status_code == 200
    assert "Youth drama" in page.text and "Coastal Youth Trust" in page.text
    # Community rate: 2 hours at £12.00/hour, VAT-exempt.
    assert "£24.00" in page.text and "Tuesday 02 March 2027, 14:00–16:00" in page.text
    assert "Booked Youth drama in Hall A, Tue 02 Mar 14:00." in page.text or "Change history" in page.text
    booking = _booking(hub, booking_id)
    assert booking.price_net_pence == 2_400 and booking.notes == "Needs chairs"
    assert booking.start_at.isoformat() == "2027-03-02T14:00:00+00:00"


def test_check_price_button_shows_the_quote_without_booking(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, start="14:00", end="16:00")
    before = _count(hub)
    response = _post(
        hub,
        "/desk/bookings/new",
        _form(building, organisation_id=building.nhs, start="15:00", end="18:00", action="quote"),
    )
    assert response.status_code == 200
    # Statutory rate: 3 hours at £25.00/hour; Hall A is busy until 16:00.
    assert "£75.00" in response.text
    assert "Hall A is busy Tue 02 Mar 14:00–16:00" in response.text
    assert _count(hub) == before


def test_a_clash_rerenders_the_form_with_the_busy_time_and_writes_nothing(
    hub: Hub, building: Building
) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, start="14:00", end="16:00")
    before = _count(hub)
    response = _post(
        hub,
        "/desk/bookings/new",
        _form(building, room_id=building.main_hall, title="Big event", start="15:00"),
    )
    assert response.status_code == 409
    assert "Hall A is busy Tue 02 Mar 14:00–16:00" in response.text
    assert 'value="Big event"' in response.text  # what was typed is kept
    assert _count(hub) == before


def test_bad_input_shows_each_error_beside_its_field(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    before = _count(hub)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"start": "16:00", "end": "14:00"}, "end", "must be after the start"),
        ({"room_id": "999999"}, "room_id", "no room has id 999999"),
        ({"room_id": building.consulting, "expected_attendance": "9"}, "expected_attendance", "more than"),
        (
            {"date": CLOCK_CHANGE.isoformat(), "start": "01:30", "end": "03:00"},
            "start",
            "does not exist in Europe/London",
        ),
        ({"title": ""}, "title", ""),
        ({"start": "2pm"}, "start", "enter a time of day"),
    ]
    for overrides, field, reason in cases:
        response = _post(hub, "/desk/bookings/new", _form(building, **overrides))
        assert 400 <= response.status_code < 500, (overrides, response.status_code)
        assert reason in _field_error(response.text, field), (overrides, response.text[:400])
        assert 'aria-invalid="true"' in response.text
        assert 'id="error-summary"' in response.text
    assert _count(hub) == before


def test_several_wrong_fields_are_reported_together(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = _post(
        hub, "/desk/bookings/new", _form(building, title="", contact_email="not-an-email", end="late")
    )
    assert response.status_code == 422
    for field in ("title", "contact_email", "end"):
        _field_error(response.text, field)


def test_edit_moves_a_booking_to_another_day_and_time(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    booking_id = _book(hub, building)
    page = hub.client.get(f"/desk/bookings/{booking_id}").text
    assert "Change which occurrences?" not in page  # a one-off has no scope to choose
    moved = {
        "room_id": building.hall_b,
        "title": "Youth drama",
        "category": "youth",
        "date": (DAY + timedelta(days=1)).isoformat(),
        "start": "1800",
        "end": "19.30",
        "expected_attendance": "20",
        "action": "save",
    }
    response = _post(hub, f"/desk/bookings/{booking_id}", moved)
    assert response.status_code == 303, response.text
    booking = _booking(hub, booking_id)
    assert booking.room_id == building.hall_b
    assert booking.start_at.isoformat() == "2027-03-03T18:00:00+00:00"
    assert booking.end_at.isoformat() == "2027-03-03T19:30:00+00:00"


def test_cancel_with_a_reason(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    booking_id = _book(hub, building)
    missing = _post(hub, f"/desk/bookings/{booking_id}/cancel", {"reason": ""})
    assert missing.status_code == 422 and "say why" in _field_error(missing.text, "reason")
    done = _post(hub, f"/desk/bookings/{booking_id}/cancel", {"reason": "Group folded"})
    assert done.status_code == 303
    booking = _booking(hub, booking_id)
    assert booking.status == "cancelled" and booking.cancel_reason == "Group folded"
    page = hub.client.get(f"/desk/bookings/{booking_id}").text
    assert "Group folded" in page and "The booking was cancelled." in page


def test_check_in_records_attendance_from_the_day_view(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    today = _today(hub)
    booking_id = _book(
        hub,
        building,
        date=today.isoformat(),
        start="10:00",
        end="11:00",
        override_opening_hours="yes",
        override_reason="Test on any day of the week",
    )
    desk = hub.client.get("/desk").text
    assert f'action="/desk/bookings/{booking_id}/check-in"' in desk
    bad = _post(hub, f"/desk/bookings/{booking_id}/check-in", {"attendance": "lots"})
    assert bad.status_code == 422 and "as a number" in _field_error(bad.text, "attendance")
    response = _post(hub, f"/desk/bookings/{booking_id}/check-in", {"attendance": "17", "next": "/desk"})
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    booking = _booking(hub, booking_id)
    assert booking.attendance == 17 and booking.checked_in_at is not None
    assert "Checked in: 17 people" in hub.client.get("/desk").text


def test_confirm_a_provisional_hold_and_no_show(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    booking_id = _book(hub, building, status="provisional")
    page = hub.client.get(f"/desk/bookings/{booking_id}").text
    assert "Hold expires" in page and "Confirm booking" in page
    assert _post(hub, f"/desk/bookings/{booking_id}/confirm", {}).status_code == 303
    assert _booking(hub, booking_id).status == "confirmed"
    again = _post(hub, f"/desk/bookings/{booking_id}/confirm", {})
    assert again.status_code == 409
    early = _post(hub, f"/desk/bookings/{booking_id}/no-show", {})
    assert early.status_code == 422 and "on its day" in early.text


def _series_form(building: Building, **overrides: Any) -> dict[str, Any]:
    data = {
        "room_id": building.hall_a,
        "organisation_id": building.charity,
        "title": "Tuesday yoga",
        "category": "class",
        "first_date": DAY.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "freq": "weekly",
        "interval": "1",
        "weekday-1": "yes",
        "ends": "count",
        "count": "4",
        "monthly_by": "date",
        "status": "confirmed",
        "action": "book",
    }
    data.update(overrides)
    return data


def _make_series(hub: Hub, building: Building, **overrides: Any) -> list[int]:
    response = _post(hub, "/desk/series/new", _series_form(building, **overrides))
    assert response.status_code == 303, response.text
    page = hub.client.get(response.headers["location"]).text
    return [int(i) for i in re.findall(r'href="/desk/bookings/(\d+)"', page)]


def test_edit_with_scope_this_changes_only_that_occurrence(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    ids = _make_series(hub, building)
    assert len(ids) == 4
    second = ids[1]
    page = hub.client.get(f"/desk/bookings/{second}").text
    assert "Change which occurrences?" in page and "Occurrence 2 of 4" in page
    base = {
        "room_id": building.hall_a,
        "title": "Tuesday yoga (in the garden)",
        "category": "class",
        "date": (DAY + timedelta(days=7)).isoformat(),
        "start": "10:00",
        "end": "11:00",
        "action": "save",
    }
    no_scope = _post(hub, f"/desk/bookings/{second}", base)
    assert no_scope.status_code == 422 and "choose which" in _field_error(no_scope.text, "scope")
    done = _post(hub, f"/desk/bookings/{second}", {**base, "scope": "this"})
    assert done.status_code == 303, done.text
    titles = [_booking(hub, i).title for i in ids]
    assert titles == ["Tuesday yoga", "Tuesday yoga (in the garden)", "Tuesday yoga", "Tuesday yoga"]
    assert [_booking(hub, i).is_exception for i in ids] == [False, True, False, False]


def test_series_form_lists_clashes_and_books_the_free_ones_when_told(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    clash_day = DAY + timedelta(days=14)
    _book(hub, building, date=clash_day.isoformat(), start="10:30", end="12:00", title="Jumble sale")
    before = _count(hub)
    checked = _post(hub, "/desk/series/new", _series_form(building, action="check"))
    assert checked.status_code == 200
    assert "1 occurrence cannot be booked" in checked.text
    assert "Tue 16 Mar 2027 10:00" in checked.text and "Hall A is busy Tue 16 Mar 10:30–12:00" in checked.text
    assert "Book the 3 free occurrences and skip these" in checked.text
    refused = _post(hub, "/desk/series/new", _series_form(building))
    assert refused.status_code == 409 and "Hall A is busy Tue 16 Mar 10:30–12:00" in refused.text
    assert _count(hub) == before
    response = _post(hub, "/desk/series/new", _series_form(building, action="book_skip"))
    assert response.status_code == 303
    summary = hub.client.get(response.headers["location"]).text
    assert "Booked 3 occurrences of Tuesday yoga; skipped 1." in summary
    assert "Skipped occurrences (1)" in summary and "Tue 16 Mar 2027" in summary
    assert _count(hub) == before + 3


def test_series_form_errors_sit_beside_their_fields(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = _post(hub, "/desk/series/new", _series_form(building, title="", count="", end_time="09:00"))
    assert response.status_code in (400, 422)
    _field_error(response.text, "title")
    _field_error(response.text, "count")
    wrong_day = _post(
        hub, "/desk/series/new", _series_form(building, **{"weekday-1": "", "weekday-3": "yes"})
    )
    assert "must fall on one of the chosen weekdays" in _field_error(wrong_day.text, "first_date")


def test_week_view_shows_a_rooms_week(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, title="Youth drama")
    _book(hub, building, room_id=building.hall_b, title="Choir", start="18:00", end="19:00")
    html = hub.client.get(f"/desk/rooms/{building.hall_a}?week={DAY.isoformat()}").text
    assert "week of 01 March 2027" in html and "Youth drama" in html
    assert '"bk-title">Choir' not in html
    assert "Book Hall A on Wednesday 03 March at 14:00" in html
    assert hub.client.get(f"/desk/rooms/{building.hall_a}?week=nonsense").status_code == 200
    assert hub.client.get("/desk/rooms/999999").status_code == 404


def test_desk_pages_are_for_staff_only(hub: Hub, building: Building) -> None:
    hub.login_as(Role.TRUSTEE)
    for path in ("/desk", "/desk/bookings/new", "/desk/series/new", f"/desk/rooms/{building.hall_a}"):
        assert hub.client.get(path, follow_redirects=False).status_code == 403, path
    assert hub.client.get("/calendar").status_code == 200
