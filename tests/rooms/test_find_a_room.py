"""Find a room (issue 12): "is anything free Tuesday 2–4 for eight people, step-free?" answered on
one page, through the real app: the rooms free for all of it, a regular slot's clashing weeks,
the organisation's rate, "Book this" filling in the booking form, errors beside fields, staff only."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from typing import Any

import pytest

from hub.models import Role
from tests.conftest import Hub
from tests.rooms.conftest import Building, make_room

TUESDAY = date(2027, 3, 2)  # a Tuesday; the building is open 08:00–22:00
SEARCH = {
    "date": TUESDAY.isoformat(),
    "start": "14:00",
    "end": "16:00",
    "capacity": "8",
    "features": "step_free",
}


def _book(hub: Hub, building: Building, room: int, day: date, start: str, end: str) -> None:
    token = hub.csrf("/desk")
    response = hub.client.post(
        "/desk/bookings/new",
        data={
            "_csrf": token,
            "room_id": room,
            "organisation_id": building.charity,
            "title": "Already here",
            "category": "other",
            "date": day.isoformat(),
            "start": start,
            "end": end,
            "status": "confirmed",
            "action": "book",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _found(page: str) -> list[str]:
    """Room names of the result cards, in order."""
    return [
        html_lib.unescape(n)
        for n in re.findall(r'<h3 id="room-\d+-h"><span class="room-name">([^<]+)</span>', page)
    ]


def _card(page: str, name: str) -> str:
    start = page.index(f">{name}</span>")
    end = page.find('<li class="panel found-room">', start)
    return page[start : end if end != -1 else len(page)]


def _field_error(page: str, field: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{field}-error"><span class="visually-hidden">Error:</span> ([^<]+)</p>',
        page,
    )
    assert match, f"no error beside {field}"
    return html_lib.unescape(match.group(1))


@pytest.fixture
def more_rooms(hub: Hub, building: Building) -> dict[str, int]:
    """Besides the building's rooms: one step-free but too small, one big enough without step-free."""
    return {
        "small": make_room(hub, "Quiet Room", 6, features=["step_free"]),
        "art": make_room(hub, "Art Room", 20, features=["sink"]),
    }


def test_free_rooms_for_tuesday_two_to_four_for_eight_step_free(
    hub: Hub, building: Building, more_rooms: dict[str, int]
) -> None:
    hub.login_as(Role.RECEPTIONIST)
    _book(hub, building, building.hall_a, TUESDAY, "13:00", "15:00")  # Hall A taken, so Main Hall too
    response = hub.client.get("/desk/find", params=SEARCH)
    assert response.status_code == 200, response.text
    # Consulting Room 1 (4, no step-free), Quiet Room (6), Art Room (no step-free), Hall A (booked)
    # and Main Hall (made of Hall A) are left out; the smallest room that fits comes first.
    assert _found(response.text) == ["Meeting Room", "Hall B"]
    meeting = _card(response.text, "Meeting Room")
    assert "Up to <strong>12</strong> people" in meeting
    assert "Step-free access" in meeting and "Hearing loop" in meeting and "Projector" in meeting
    assert 'aria-hidden="true">♿</span> Step-free access' in meeting  # the icon beside the words
    link = html_lib.unescape(re.search(r'<a class="button primary" href="([^"]+)"', meeting).group(1))  # type: ignore[union-attr]
    assert link == (
        f"/desk/bookings/new?room_id={building.meeting}&date=2027-03-02&start=14%3A00&end=16%3A00"
        "&expected_attendance=8"
    )


def test_the_rate_for_the_chosen_organisation(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get("/desk/find", params={**SEARCH, "organisation_id": building.nhs})
    assert response.status_code == 200, response.text
    # The NHS trust pays the statutory rate, £25 an hour, VAT exempt: two hours are £50.00.
    assert "For Lancashire Coast NHS Trust: <strong>£50.00</strong>" in _card(response.text, "Meeting Room")
    link = re.search(r'<a class="button primary" href="([^"]+)"', _card(response.text, "Meeting Room"))
    assert link and f"organisation_id={building.nhs}" in html_lib.unescape(link.group(1))


def test_book_this_opens_the_booking_form_filled_in(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get(
        "/desk/bookings/new",
        params={
            "room_id": building.meeting,
            "date": "2027-03-02",
            "start": "14:00",
            "end": "16:00",
            "expected_attendance": "8",
            "organisation_id": building.nhs,
        },
    )
    assert response.status_code == 200
    page = response.text
    assert f'<option value="{building.meeting}" selected>' in page
    assert f'<option value="{building.nhs}" selected>' in page
    assert 'name="date" type="date" value="2027-03-02"' in page
    assert 'name="start" type="text" value="14:00"' in page
    assert 'name="end" type="text" value="16:00"' in page
    assert 'name="expected_attendance" type="number" value="8"' in page
    # The form says what each room has, in words.
    assert "What each room has" in page and "Clinical couch" in page


def test_a_regular_slot_says_which_weeks_clash(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    week2, week3 = TUESDAY + timedelta(weeks=1), TUESDAY + timedelta(weeks=2)
    _book(hub, building, building.hall_a, TUESDAY, "15:30", "17:00")
    _book(hub, building, building.hall_b, week2, "14:30", "15:00")
    monday = TUESDAY - timedelta(days=1)  # the weekday picks the first Tuesday on or after it
    params = {**SEARCH, "date": monday.isoformat(), "weekday": "1", "weeks": "3"}
    response = hub.client.get("/desk/find", params=params)
    assert response.status_code == 200, response.text
    page = response.text
    # Free every week first; then free in some weeks, fewest clashes first.
    assert _found(page) == ["Meeting Room", "Hall A", "Hall B", "Main Hall"]
    assert "1 room free every week; 3 free in some weeks." in page
    assert "Free 2 of 3 weeks." in _card(page, "Hall A")
    assert "<li>Tue 02 Mar 2027</li>" in _card(page, "Hall A")
    assert "<li>Tue 09 Mar 2027</li>" in _card(page, "Hall B")
    main = _card(page, "Main Hall")
    assert "Free 1 of 3 weeks." in main
    assert "<li>Tue 02 Mar 2027</li><li>Tue 09 Mar 2027</li>" in main
    assert "Taken on" not in _card(page, "Meeting Room")
    # Book this opens the first free week of the room.
    link = re.search(r'<a class="button primary" href="([^"]+)"', _card(page, "Hall B"))
    assert link and f"date={week3.isoformat()}" not in link.group(1)
    assert "date=2027-03-02" in link.group(1)


def test_nothing_free_says_so(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get("/desk/find", params={**SEARCH, "capacity": "500"})
    assert response.status_code == 200
    assert _found(response.text) == []
    assert "No room is free for all of that." in response.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2pm"}, "start", "enter a time of day such as 14:00"),
        ({"end": "13:00"}, "end", "enter an end time after the start"),
        ({"date": "next tuesday"}, "date", "enter the date, e.g. 2026-03-31"),
        ({"capacity": "eight"}, "capacity", "enter how many people, as a number such as 8"),
        ({"weeks": "60"}, "weeks", "enter a number of weeks from 1 to 52"),
        ({"weekday": "9"}, "weekday", "choose a day of the week"),
        ({"features": "jacuzzi"}, "features", "choose features from the list"),
        ({"organisation_id": "abc"}, "organisation_id", "choose an organisation from the list"),
    ],
)
def test_bad_input_is_shown_beside_its_field(
    hub: Hub, building: Building, params: dict[str, str], field: str, message: str
) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get("/desk/find", params={**SEARCH, **params})
    assert response.status_code == 422
    assert _field_error(response.text, field) == message
    assert 'id="error-summary"' in response.text
    # What was typed is kept.
    typed = html_lib.escape(next(iter(params.values())))
    if field not in ("features", "weekday", "organisation_id"):
        assert f'value="{typed}"' in response.text


def test_an_unknown_organisation_is_an_error_not_a_crash(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get("/desk/find", params={**SEARCH, "organisation_id": "987654"})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text
    assert 'id="organisation_id-error"' in response.text


def test_the_blank_form_and_the_desk_link(hub: Hub, building: Building) -> None:
    hub.login_as(Role.RECEPTIONIST)
    response = hub.client.get("/desk/find", params={"date": "2027-03-02"})
    assert response.status_code == 200
    assert 'name="date" type="date" value="2027-03-02"' in response.text
    assert "error-summary" not in response.text
    for label in ("Step-free access", "Hearing loop", "Sink", "Sprung floor"):
        assert label in response.text
    desk = hub.client.get("/desk", params={"date": "2027-03-02"})
    assert 'href="/desk/find?date=2027-03-02">Find a room</a>' in desk.text


@pytest.mark.parametrize("role", [Role.TENANT, Role.CAFE, Role.CAFE_SUPERVISOR, Role.TRUSTEE])
def test_only_staff_find_rooms(hub: Hub, building: Building, role: Role) -> None:
    hub.login_as(role)
    response: Any = hub.client.get("/desk/find", params=SEARCH)
    assert response.status_code == 403


def test_admin_finds_rooms(hub: Hub, building: Building) -> None:
    hub.login_as(Role.ADMIN)
    assert hub.client.get("/desk/find", params=SEARCH).status_code == 200


def test_a_rooms_page_lists_its_features_in_words(hub: Hub, building: Building) -> None:
    """Issue 12: room pages show each room's features in words (the picture only beside them)."""
    room = make_room(hub, "Quiet Room", 6, features=["hearing_loop", "step_free"])
    response = hub.client.get(f"/desk/rooms/{room}", headers=building.staff)
    assert response.status_code == 200, response.text
    listed = re.findall(
        r'<li class="tag">(?:<span aria-hidden="true">[^<]*</span> )?([^<]+)</li>', response.text
    )
    # In the fixed list's order, whatever order they were given in.
    assert listed == ["Step-free access", "Hearing loop"]
    bare = make_room(hub, "Store Room", 2)
    assert "No listed features" in hub.client.get(f"/desk/rooms/{bare}", headers=building.staff).text
