"""The receptionist's day (issue 12) in a real browser: staff land on the desk; the demo's twelve
rooms fit a 1280 px screen with the room names and times in view while scrolling; the arrow keys
move across the grid; the booking forms fit a 768 px tablet; "Change which occurrences?" starts on
this occurrence; each role's account page; the favicon. axe-core checks each page; screenshots are
saved at 1280 and 768 for people to look at."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from hub.demo import DEMO_LOGINS
from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

RECEPTION = ("reception@hub.test", "reception-demo-pass")
ADMIN = ("admin@hub.test", "admin-demo-pass")
DEMO_ROOMS = 12  # rooms/demo.py: the demo building's bookable rooms

ONE_PER_ROLE = {login.role: login for login in DEMO_LOGINS}.values()
# Issue 12 item 5: API tokens live on "Your account"; café staff (DESIGN §6: the till and their own
# account) have no calendars to follow. "Your account" is in an admin's menu; everyone reaches it
# from their name in the header.
ACCOUNT_ITEMS = {
    "admin": ["My calendars", "API tokens"],
    "receptionist": ["My calendars", "API tokens"],
    "trustee": ["My calendars", "API tokens"],
    "tenant": ["My calendars", "API tokens"],
    "cafe": ["API tokens"],
    "cafe_supervisor": ["API tokens"],
}


def _page_scrolls_sideways(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


def _sized(page: Any, width: int, height: int = 800) -> None:
    page.set_viewport_size({"width": width, "height": height})


@pytest.mark.parametrize("who", [RECEPTION, ADMIN], ids=["receptionist", "admin"])
def test_staff_land_on_the_desk(page: Any, live_server: str, who: tuple[str, str]) -> None:
    sign_in(page, live_server, *who)
    assert page.url == f"{live_server}/desk"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Desk")
    # Home keeps the overview (organisations; an admin's accounts and latest changes).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello, ")


def test_the_day_grid_fits_1280_and_keeps_room_names_and_times_in_view(page: Any, live_server: str) -> None:
    _sized(page, 1280, 800)
    sign_in(page, live_server, *RECEPTION)
    heads = page.locator(".desk-col-head h2")
    assert heads.count() == DEMO_ROOMS
    assert not _page_scrolls_sideways(page)
    region = page.get_by_role("region", name=page.locator(".desk-scroll").get_attribute("aria-label") or "")
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth")  # every room column is in view
    # The last room's column ends inside the screen.
    last = page.locator(".desk-col").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= 1280
    screenshot(page, "day-1280")
    assert accessibility_violations(page) == []

    # Scroll the grid down to the evening: the room names stay at the top of the box, the times
    # stay on the left.
    region.evaluate("r => { r.scrollTop = r.scrollHeight; }")
    page.wait_for_timeout(100)
    box = region.bounding_box()
    head = page.locator(".desk-col-head").nth(1).bounding_box()
    assert box is not None and head is not None
    assert abs(head["y"] - (box["y"] + 1)) <= 1  # inside the box's 1 px border
    assert page.locator(".desk-col-head h2").last.is_visible()
    assert region.evaluate("r => r.scrollTop") > 0
    page.screenshot(path="screenshots/day-1280-scrolled.png")

    # At 768 the grid scrolls sideways inside its box (not the page), and the times stay put.
    _sized(page, 768, 1000)
    page.reload()
    assert not _page_scrolls_sideways(page)
    region = page.locator(".desk-scroll")
    region.evaluate("r => { r.scrollLeft = r.scrollWidth; r.scrollTop = 200; }")
    page.wait_for_timeout(100)
    box = region.bounding_box()
    times = page.locator(".desk-times").bounding_box()
    assert box is not None and times is not None
    assert abs(times["x"] - (box["x"] + 1)) <= 1
    screenshot(page, "day-768")
    assert accessibility_violations(page) == []


def test_the_arrow_keys_move_across_the_grid(page: Any, live_server: str) -> None:
    _sized(page, 1280, 800)
    sign_in(page, live_server, *RECEPTION)
    rooms = page.locator(".desk-col-head h2").all_inner_texts()

    def where() -> tuple[str, int, int]:
        """The focused cell's room and the grid rows it spans (from, to)."""
        room, start, end = page.evaluate(
            """() => {
              const a = document.activeElement;
              const start = parseInt(getComputedStyle(a).gridRowStart, 10);
              const end = parseInt(getComputedStyle(a).gridRowEnd, 10);
              return [a.closest('.desk-col').querySelector('h2').innerText, start,
                      isNaN(end) ? start + 1 : end];
            }"""
        )
        return room, start, end

    # Start on an empty quarter hour in the first room.
    page.locator(".desk-col").first.locator("a.slot").nth(4).focus()
    room, row, _ = where()
    assert room == rooms[0]

    page.keyboard.press("ArrowRight")  # the next room, at the same time (or its booking then)
    right_room, start, end = where()
    assert right_room == rooms[1]
    assert start <= row < end or abs(start - row) <= 4
    page.keyboard.press("ArrowLeft")
    assert where()[:2] == (room, row)

    page.keyboard.press("ArrowDown")  # later in the same room
    down_room, down_row, _ = where()
    assert down_room == room and down_row > row
    page.keyboard.press("ArrowUp")
    assert where()[:2] == (room, row)

    page.keyboard.press("Tab")  # Tab still goes through the cells in order
    tab_room, tab_row, _ = where()
    assert tab_room == room and tab_row > row

    # Right from the last room stays put.
    page.locator(".desk-col").last.locator(".desk-col-body > a").first.focus()
    last = where()
    page.keyboard.press("ArrowRight")
    assert where() == last


def _a_future_series_occurrence(page: Any, base: str) -> int:
    today = date.today()
    bookings = page.request.get(
        f"{base}/api/v1/bookings",
        params={"from": str(today + timedelta(days=1)), "to": str(today + timedelta(days=14))},
    ).json()["items"]
    for booking in bookings:
        if booking.get("series_id") and booking["status"] == "confirmed":
            return int(booking["id"])
    raise AssertionError("the demo has no series occurrence in the next fortnight")


def test_booking_forms_fit_768_and_the_scope_starts_on_this_occurrence(page: Any, live_server: str) -> None:
    _sized(page, 768, 1000)
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/desk/bookings/new")
    assert page.get_by_role("heading", level=1).inner_text() == "New booking"
    assert not _page_scrolls_sideways(page)
    screenshot(page, "booking-new-768")
    assert accessibility_violations(page) == []

    booking_id = _a_future_series_occurrence(page, live_server)
    page.goto(f"{live_server}/desk/bookings/{booking_id}")
    page.get_by_text("Change this booking").click()
    group = page.get_by_role("group", name="Change which occurrences?")
    assert group.get_by_role("radio", name="This occurrence only").is_checked()
    assert not group.get_by_role("radio", name="This and following occurrences").is_checked()
    assert not group.get_by_role("radio", name="The whole series").is_checked()
    assert not _page_scrolls_sideways(page)
    screenshot(page, "booking-edit-scope-768")
    # "Check price and clashes" and Save need no extra choice: an unchanged save keeps this one.
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert not page.locator("#scope-error").count()
    screenshot(page, "booking-edit-768")
    assert accessibility_violations(page) == []


@pytest.mark.parametrize("width", [768, 1280])
def test_money_tables_fit_and_say_when_they_scroll(page: Any, live_server: str, width: int) -> None:
    _sized(page, width, 900)
    sign_in(page, live_server, *RECEPTION)
    for path, name in (("/invoices", "invoices"), ("/debt", "debt")):
        page.goto(f"{live_server}{path}")
        assert not _page_scrolls_sideways(page), path
        region = page.locator(".table-scroll").first
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("aria-labelledby")
        wide = region.evaluate("r => r.scrollWidth > r.clientWidth + 1")
        caption = region.locator("caption")
        if wide:
            assert caption.is_visible()
            assert "(scroll sideways for more columns)" in caption.inner_text()
            hint = caption.locator(".scroll-hint").bounding_box()
            assert hint is not None and hint["x"] + hint["width"] <= width  # readable, not cut off
        else:
            assert "scroll sideways" not in caption.inner_text()
        screenshot(page, f"{name}-{width}")
        assert accessibility_violations(page) == []


@pytest.mark.parametrize("login", ONE_PER_ROLE, ids=lambda login: login.role.value)
def test_each_roles_account_page(page: Any, live_server: str, login: Any) -> None:
    sign_in(page, live_server, login.email, login.password)
    menu = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert "API tokens" not in menu
    assert ("Your account" in menu) == (login.role.value == "admin")
    assert ("My calendars" in menu) == (login.role.value not in ("cafe", "cafe_supervisor"))
    page.get_by_role("link", name=f"{login.name} (your account)").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    items = page.locator("main ul.link-list > li > a").all_inner_texts()
    assert items == ACCOUNT_ITEMS[login.role.value]
    assert accessibility_violations(page) == []
    if login.role.value == "cafe":
        screenshot(page, "account-cafe")


def test_the_favicon(page: Any, live_server: str) -> None:
    icon = page.request.get(f"{live_server}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    page.goto(live_server)
    assert page.locator('link[rel="icon"][href="/favicon.ico"]').count() == 1
    svg = page.request.get(f"{live_server}/static/favicon.svg")
    assert svg.status == 200


def test_every_list_and_form_fits_768(page: Any, live_server: str) -> None:
    _sized(page, 768, 900)
    sign_in(page, live_server, *ADMIN)
    for path in (
        "/",
        "/desk",
        "/desk/bookings/new",
        "/desk/series/new",
        "/organisations",
        "/organisations/new",
        "/invoices",
        "/invoices/new",
        "/charges",
        "/debt",
        "/account",
        "/account/tokens",
        "/account/calendars",
        "/admin/users",
        "/admin/audit",
        "/whats-on",
    ):
        page.goto(f"{live_server}{path}")
        assert not _page_scrolls_sideways(page), path
