"""Find a room in a real browser (issue 12): the demo receptionist asks "free next Tuesday
14:00–16:00 for 8, step-free?", books the first room offered from the filled-in form, and the
booking exists. Also keyboard only, axe on each page, screenshots at 1280×800 and 768×1024."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

RECEPTION = ("reception@hub.test", "reception-demo-pass")


def _next_tuesday(page: Any) -> date:
    """The first Tuesday on or after the date the find page starts from (the building's today)."""
    today = date.fromisoformat(page.get_by_label("Date (or the first week)").input_value())
    return today + timedelta(days=(1 - today.weekday()) % 7)


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_find_a_free_room_and_book_it(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/desk")
    page.get_by_role("link", name="Find a room").click()  # click 1
    page.wait_for_url(re.compile(r"/desk/find"))
    assert accessibility_violations(page) == []
    tuesday = _next_tuesday(page)
    page.get_by_label("Day of the week").select_option(label="Tuesday")  # clicks 2–3
    page.get_by_label("Start time").fill("1400")  # click 4, 4 keys (quick to type)
    page.get_by_label("End time").fill("1600")  # click 5, 4 keys
    page.get_by_label("How many people").fill("8")  # click 6, 1 key
    page.get_by_label("Step-free access").check()  # click 7
    page.get_by_role("button", name="Find free rooms").click()  # click 8
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=2).filter(has_text="Free on")
    assert heading.inner_text() == f"Free on {tuesday:%A %d %B %Y}, 14:00–16:00"
    cards = page.locator("li.found-room")
    assert cards.count() >= 1
    # Every room offered holds 8 and is step-free, in words.
    for i in range(cards.count()):
        card = cards.nth(i)
        capacity = int(card.locator("p strong").first.inner_text())
        assert capacity >= 8
        assert "Step-free access" in card.locator("ul.features").inner_text()
    room_name = cards.first.locator("h3 .room-name").inner_text()
    screenshot(page, "find-a-room-1280")
    assert accessibility_violations(page) == []
    _no_sideways_scroll(page)
    page.set_viewport_size({"width": 768, "height": 1024})
    screenshot(page, "find-a-room-768")
    _no_sideways_scroll(page)
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})

    cards.first.get_by_role("link", name=re.compile(r"^Book this")).click()  # click 9
    page.wait_for_url(re.compile(r"/desk/bookings/new"))
    query = parse_qs(urlparse(page.url).query)
    assert page.locator("#room_id").input_value() == query["room_id"][0]
    assert page.locator("#date").input_value() == tuesday.isoformat()
    assert page.get_by_label("Start time").input_value() == "14:00"
    assert page.get_by_label("End time").input_value() == "16:00"
    assert page.get_by_label("Expected attendance").input_value() == "8"
    page.get_by_text("What each room has").click()  # the features, in words, beside the form
    assert "Step-free access" in page.locator("details.room-features").inner_text()
    screenshot(page, "find-a-room-booking-form")
    assert accessibility_violations(page) == []
    page.set_viewport_size({"width": 768, "height": 1024})
    screenshot(page, "find-a-room-booking-form-768")
    page.set_viewport_size({"width": 1280, "height": 800})

    organisation = page.locator("#organisation_id")
    organisation.select_option(index=1)  # clicks 10–11
    page.locator("#title").fill("Carers' coffee")  # click 12, 14 keys
    page.get_by_role("button", name="Book", exact=True).click()  # click 13
    page.wait_for_url(re.compile(r"/desk/bookings/\d+$"))
    assert page.get_by_role("status").inner_text() == (
        f"Booked Carers' coffee in {room_name}, {tuesday:%a %d %b} 14:00."
    )
    booking_id = int(page.url.rsplit("/", 1)[1])
    api = page.request.get(f"{live_server}/api/v1/bookings/{booking_id}")
    assert api.ok, api.text()
    booking = api.json()
    assert booking["room_id"] == int(query["room_id"][0])
    assert booking["expected_attendance"] == 8
    assert booking["title"] == "Carers' coffee"

    # Searched again, the room is no longer offered for that time.
    page.goto(
        f"{live_server}/desk/find?date={tuesday.isoformat()}&start=14:00&end=16:00&capacity=8&features=step_free"
    )
    names = page.locator("li.found-room h3 .room-name").all_inner_texts()
    assert room_name not in names


def test_find_a_room_by_keyboard_only(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/desk/find")
    tuesday = _next_tuesday(page)
    page.get_by_label("Date (or the first week)").focus()
    keys = 0

    def press(*names: str) -> None:
        nonlocal keys
        for name in names:
            page.keyboard.press(name)
            keys += 1

    def type_(text: str) -> None:
        nonlocal keys
        page.keyboard.type(text)
        keys += len(text)

    while page.evaluate("document.activeElement.id") != "weekday":  # past the date's parts
        press("Tab")
        assert keys <= 4
    type_("tu")  # choose Tuesday by typing
    assert page.get_by_label("Day of the week").input_value() == "1"
    press("Tab", "Tab")  # past the weeks (1) to the start
    type_("1400")
    press("Tab")
    type_("1600")
    press("Tab")
    type_("8")
    press("Tab", "Space")  # the first feature is step-free access
    assert page.get_by_label("Step-free access").is_checked()
    press("Shift+Tab", "Enter")  # back to the head-count; Enter searches
    page.wait_for_url(re.compile(r"start=14"))
    heading = page.get_by_role("heading", level=2).filter(has_text="Free on")
    assert heading.inner_text() == f"Free on {tuesday:%A %d %B %Y}, 14:00–16:00"
    assert page.locator("li.found-room").count() >= 1
    # Book this is reachable by Tab from the search button.
    page.get_by_role("button", name="Find free rooms").focus()
    for _ in range(3):
        press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        if focused.startswith("Book this"):
            break
    assert focused.startswith("Book this")
    press("Enter")
    page.wait_for_url(re.compile(r"/desk/bookings/new"))
    assert page.get_by_label("Start time").input_value() == "14:00"
    assert page.get_by_label("End time").input_value() == "16:00"
    print(f"keyboard-only search and open Book this: {keys} keystrokes")
    assert keys <= 26  # measured: 25 (3 of them Tabs through the date's parts)
