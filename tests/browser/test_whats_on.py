"""What's on and My calendars in a real browser: a visitor who is not signed in reads the week and
filters it; a tenant makes a calendar address, copies it and replaces it. axe-core checks each
page; screenshots are saved for people to look at."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

TENANT = ("tenant@hub.test", "tenant-demo-pass")


def test_visitor_reads_the_week_and_filters_by_activity(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/whats-on")
    assert page.get_by_role("heading", level=1).inner_text().startswith("What's on")
    assert page.get_by_role("heading", name=re.compile(r"^This week")).is_visible()
    days = page.locator("section.week h3").all_inner_texts()
    assert len(days) == 7 and days[0].startswith("Monday") and days[-1].startswith("Sunday")
    assert page.locator("section.week li.event").count() > 0, "the demo week has bookings"
    assert (
        page.get_by_role("link", name="Subscribe to The whole building")
        .get_attribute("href")
        .startswith("webcal://")
    )
    assert accessibility_violations(page) == []
    screenshot(page, "whats-on")

    page.get_by_label("Kind of activity").select_option(label="Class")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "category=class" in page.url
    assert page.get_by_label("Kind of activity").input_value() == "class"
    metas = page.locator("section.week li.event .event-meta").all_inner_texts()
    assert metas, "the demo week has classes"
    assert all(meta.endswith("Class") for meta in metas), metas
    assert page.locator("section.week li.event.is-private").count() == 0
    assert "Showing only Class" in page.locator(".filter-summary").inner_text()
    subscribe = page.get_by_role("link", name="Subscribe to Class in your calendar app")
    assert subscribe.get_attribute("href").endswith("/feeds/categories/class.ics")
    assert accessibility_violations(page) == []
    screenshot(page, "whats-on-classes")

    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert not page.locator("section.subscribe").is_visible()
    assert not page.get_by_role("navigation", name="Weeks").is_visible()
    assert page.locator("section.week li.event").first.is_visible()
    screenshot(page, "whats-on-print")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Next week").click()
    page.wait_for_load_state()
    assert "category=class" in page.url and "week=" in page.url
    assert page.get_by_role("heading", name=re.compile(r"^Week of")).is_visible()


def test_visitor_sees_a_bad_week_beside_the_filter(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/whats-on?week=31-12-2026")
    assert "Enter a date as YYYY-MM-DD" in page.locator("#week-error").inner_text()
    assert page.locator("#error-summary").is_visible()
    assert accessibility_violations(page) == []


def test_tenant_makes_copies_and_replaces_a_calendar_address(page: Any, live_server: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    sign_in(page, live_server, *TENANT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My calendars").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "My calendars"
    organisation = page.locator("#feed-organisation")
    assert "Coastal Youth Trust" in organisation.get_by_role("heading").inner_text()
    organisation.get_by_role("button", name="Make a calendar address").click()
    page.wait_for_load_state()
    assert "calendar address is ready" in page.locator(".flash").inner_text()

    first = page.locator("#feed-organisation-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/feeds/private/[A-Za-z0-9_-]{{43}}\.ics", first), first
    assert page.request.get(first).headers["content-type"].startswith("text/calendar")
    webcal = organisation.get_by_role("link", name="Subscribe in my calendar app").get_attribute("href")
    assert webcal == first.replace("http://", "webcal://", 1)

    organisation.get_by_role("button", name="Copy the address").click()
    # The clipboard answers asynchronously: wait for the status rather than read it at once.
    expect(organisation.get_by_role("status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first
    assert accessibility_violations(page) == []
    screenshot(page, "my-calendars")

    organisation.get_by_role("button", name="Make a new address").click()
    page.wait_for_load_state()
    assert "The old one has stopped working" in page.locator(".flash").inner_text()
    second = page.locator("#feed-organisation-url").input_value()
    assert second != first
    assert page.request.get(first).status == 404
    assert page.request.get(second).status == 200
    assert accessibility_violations(page) == []
    screenshot(page, "my-calendars-rotated")
