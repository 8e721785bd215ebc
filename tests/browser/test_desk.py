"""The reception desk in a real browser, as a receptionist uses it: pick an empty slot on today's
grid, fill the form by its labels, watch the live price appear, book, see it on the grid, check
it in. axe-core checks each page; screenshots are saved for people to look at."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

RECEPTION = ("reception@hub.test", "reception-demo-pass")
ADMIN = ("admin@hub.test", "admin-demo-pass")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _ensure_rooms(page: Any, base: str) -> None:
    """The demo seeds rooms; if an older demo has none, an admin adds two through the API."""
    rooms = page.request.get(f"{base}/api/v1/rooms").json()
    if rooms:
        return
    sign_in(page, base, *ADMIN)
    page.goto(f"{base}/account/tokens")
    token = page.locator('input[name="_csrf"]').first.get_attribute("value")
    headers = {"x-csrf-token": token}
    for name in ("Hall A", "Meeting Room"):
        room = page.request.post(f"{base}/api/v1/rooms", data={"name": name, "capacity": 40}, headers=headers)
        assert room.ok, room.text()
        for band in ("community", "statutory", "commercial", "tenant"):
            rate = page.request.put(
                f"{base}/api/v1/rates",
                data={"room_id": room.json()["id"], "band": band, "hourly_pence": 1_500},
                headers=headers,
            )
            assert rate.ok, rate.text()
    page.get_by_role("button", name="Sign out").click()


def _free_slot(page: Any) -> tuple[str, str, str]:
    """A (room_id, date, start) with an hour and a quarter free on each side of it, preferring
    the middle of the day, from the links on the day view."""
    free: dict[str, set[int]] = {}
    day = ""
    for href in page.locator("a.slot").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        query = parse_qs(urlparse(href).query)
        day = query["date"][0]
        free.setdefault(query["room_id"][0], set()).add(_minutes(query["start"][0]))
    choices = []
    for room_id, starts in free.items():
        for start in starts:
            if all(start + offset in starts for offset in range(-30, 90, 15)):
                choices.append((abs(start - 13 * 60), room_id, start))
    assert choices, "no free hour on the desk today"
    _, room_id, start = min(choices)
    return room_id, day, _clock(start)


def test_receptionist_books_a_free_slot_and_checks_it_in(page: Any, live_server: str) -> None:
    _ensure_rooms(page, live_server)
    sign_in(page, live_server, *RECEPTION)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Desk").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Desk")
    screenshot(page, "desk-day")
    assert accessibility_violations(page) == []

    room_id, day, start = _free_slot(page)
    room_name = page.locator(f"#room-{room_id}-h").inner_text()
    slot = page.get_by_role("link", name=f"Book {room_name} at {start}", exact=True)
    slot.focus()
    page.keyboard.press("Enter")  # keyboard, as a receptionist would
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "New booking"
    assert page.get_by_label("Room").input_value() == room_id
    assert page.get_by_label("Start time").input_value() == start

    # Submitted without a title or organisation: errors beside the fields, nothing booked.
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#title-error").is_visible()
    assert page.get_by_label("Start time").input_value() == start
    screenshot(page, "desk-booking-form")
    assert accessibility_violations(page) == []

    title = f"Browser test {start}"
    page.get_by_label("Organisation").select_option(index=1)
    page.get_by_role("textbox", name="Title", exact=True).fill(title)
    page.get_by_label("Category").select_option("meeting")
    page.get_by_label("Expected attendance").fill("12")
    page.get_by_label("Contact name").fill("Sam Taylor")
    page.get_by_label("End time").fill(_clock(_minutes(start) + 60))
    quote = page.locator("#quote .quote")
    quote.wait_for()
    assert re.search(r"£\d", quote.inner_text()), quote.inner_text()
    assert "No clashes" in quote.inner_text()
    if "Outside opening hours" in quote.inner_text() or "closed" in quote.inner_text():
        page.get_by_label("Book outside opening hours anyway").check()
        page.get_by_label("Reason for the override").fill("Browser test on a closed day")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert f"Booked {title} in {room_name}" in page.get_by_role("status").first.inner_text()
    screenshot(page, "desk-booking")
    assert accessibility_violations(page) == []

    page.get_by_role("link", name=re.compile(r"^Back to ")).click()
    page.wait_for_load_state()
    column = page.locator(f'section[aria-labelledby="room-{room_id}-h"]')
    assert title in column.inner_text()
    page.get_by_label(f"Attendance for {title}").fill("11")
    page.get_by_role("button", name=f"Check in {title}").click()
    page.wait_for_load_state()
    assert "Checked in: 11 people" in page.locator(".arrivals").inner_text()
    assert accessibility_violations(page) == []

    # A weekly series at the same time clashes with today's booking: the clash step says so.
    page.goto(f"{live_server}/desk/series/new?first_date={day}&room_id={room_id}")
    page.get_by_label("Organisation").select_option(index=1)
    page.get_by_role("textbox", name="Title", exact=True).fill("Clashing weekly group")
    page.get_by_label("Start time").fill(start)
    page.get_by_label("End time").fill(_clock(_minutes(start) + 60))
    page.get_by_label("Number of times", exact=True).fill("4")
    page.get_by_role("button", name="Check for clashes").click()
    page.wait_for_load_state()
    check = page.locator("#series-check")
    assert "cannot be booked" in check.inner_text()
    assert f"{room_name} is busy" in check.inner_text()
    screenshot(page, "desk-series-clashes")
    assert accessibility_violations(page) == []
    book_free = page.get_by_role("button", name=re.compile(r"^Book the \d+ free occurrences? and skip"))
    if not book_free.inner_text().startswith("Book the 0 "):  # on a Sunday every date is shut
        book_free.click()
        page.wait_for_load_state()
        assert "skipped" in page.get_by_role("status").first.inner_text()
        assert "Skipped occurrences" in page.locator("main").inner_text()
        assert accessibility_violations(page) == []

    page.goto(f"{live_server}/desk/rooms/{room_id}")
    assert title in page.locator("main").inner_text()
    screenshot(page, "desk-week")
    assert accessibility_violations(page) == []


def test_tenant_sees_the_building_read_only(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "tenant@hub.test", "tenant-demo-pass")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Building calendar").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Bookings")
    assert page.locator("a.slot").count() == 0  # nothing to book or open from here
    assert accessibility_violations(page) == []
