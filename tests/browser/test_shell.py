"""The web shell in a real browser: every role signs in, sees its own areas, and the pages pass
axe-core's WCAG 2.1 AA checks. Screenshots are saved for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

from hub.demo import DEMO_LOGINS
from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

ONE_PER_ROLE = {login.role: login for login in DEMO_LOGINS}.values()
# Who sees which menu item comes from DESIGN §6 and the issues: tenancies for staff and trustees
# (issue 13), the till for café staff and admins and the menu for supervisors (issue 14), reports for
# trustees and admins (issue 15), backups, mail and data protection for admins (issue 18).
EXPECTED_NAV = {
    "admin": [
        "Home",
        "Desk",
        "What's on",
        "Organisations",
        "Tenancies",
        "Till",
        "Café menu",
        "Invoices",
        "Charges",
        "Aged debt",
        "Reports",
        "Accounts",
        "Audit log",
        # Running a hub safely (issue 18): admins only.
        "Backups",
        "Mail",
        "Data protection",
        "My calendars",
        "Your account",
    ],
    "receptionist": [
        "Home",
        "Desk",
        "What's on",
        "Organisations",
        "Tenancies",
        "Invoices",
        "Charges",
        "Aged debt",
        "My calendars",
    ],
    "trustee": [
        "Home",
        "Bookings",
        "What's on",
        "Organisations",
        "Tenancies",
        "Invoices",
        "Aged debt",
        "Reports",
        "My calendars",
    ],
    # Issue 13 item 6: the tenant portal's pages; the building's day is its calendar, not "Bookings".
    "tenant": [
        "Home",
        "My bookings",
        "Book a room",
        "Building calendar",
        "What's on",
        "Agreement",
        "Invoices",
        "Statement",
        "My calendars",
    ],
    # Café staff see only what they can use (DESIGN §6): the till; a supervisor also keeps the menu.
    "cafe": ["Home", "Till"],
    "cafe_supervisor": ["Home", "Till", "Café menu"],
}


@pytest.mark.parametrize("login", ONE_PER_ROLE, ids=lambda login: login.role.value)
def test_each_role_signs_in_and_sees_its_home(page: Any, live_server: str, login: Any) -> None:
    sign_in(page, live_server, login.email, login.password)
    if login.role.value in ("admin", "receptionist"):  # issue 12: staff land on the desk
        assert page.url == f"{live_server}/desk"
        page.goto(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {login.name}"
    nav = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert nav == EXPECTED_NAV[login.role.value]
    screenshot(page, f"home-{login.role.value}")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out." in page.content()


def test_login_page_is_accessible_and_works_by_keyboard_alone(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    assert accessibility_violations(page) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("reception@hub.test")
    page.keyboard.press("Tab")
    page.keyboard.type("reception-demo-pass")
    # Wait for the sign-in's own navigation: the login page is already "loaded" when Enter is
    # pressed, so waiting for a load state alone can read the old page.
    with page.expect_navigation(url=f"{live_server}/desk**"):
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Desk")  # issue 12


def test_failed_sign_in_shows_the_reason_beside_the_field(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "trustee@hub.test", "not-my-password")
    error = page.locator("#password-error")
    assert "do not match an active account" in error.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Email address").input_value() == "trustee@hub.test"
    screenshot(page, "login-error")
    assert accessibility_violations(page) == []


def test_receptionist_adds_an_organisation_and_sees_errors_beside_fields(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "reception@hub.test", "reception-demo-pass")
    page.get_by_role("link", name="Organisations").first.click()
    assert accessibility_violations(page) == []
    screenshot(page, "organisations-list")
    page.get_by_role("link", name="Add an organisation").click()
    page.get_by_label("Organisation name").fill("Fleetwood Men's Shed")
    page.get_by_label("Kind").select_option("community_group")
    page.get_by_label("Postcode").fill("not a postcode")
    page.get_by_label("Email for invoices").fill("shed@example")
    page.get_by_role("button", name="Add organisation").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert "is not a UK postcode (e.g. FY7 6HP)" in page.locator("#postcode-error").inner_text()
    assert page.get_by_label("Organisation name").input_value() == "Fleetwood Men's Shed"
    screenshot(page, "organisation-form-errors")
    assert accessibility_violations(page) == []
    page.get_by_label("Postcode").fill("FY7 8AB")
    page.get_by_label("Email for invoices").fill("shed@example.org")
    page.get_by_role("button", name="Add organisation").click()
    page.wait_for_load_state()
    assert "Fleetwood Men's Shed was added." in page.get_by_role("status").first.inner_text()
    screenshot(page, "organisation-detail")
    assert accessibility_violations(page) == []


def test_admin_pages_are_accessible(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "admin@hub.test", "admin-demo-pass")
    for path, name in [
        ("/admin/users", "admin-users"),
        ("/admin/users/1", "admin-user"),
        ("/admin/audit", "admin-audit"),
        ("/account/tokens", "api-tokens"),
    ]:
        page.goto(f"{live_server}{path}")
        screenshot(page, name)
        assert accessibility_violations(page) == [], path


def test_tablet_layout(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en-GB", has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "reception@hub.test", "reception-demo-pass")
    page.goto(f"{live_server}/organisations")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"page scrolls sideways on a tablet ({width}px)"
    screenshot(page, "tablet-organisations")
    context.close()


def test_not_found_and_forbidden_pages(page: Any, live_server: str) -> None:
    sign_in(page, live_server, "tenant@hub.test", "tenant-demo-pass")
    page.goto(f"{live_server}/admin/users")
    assert page.get_by_role("heading", level=1).inner_text() == "You can't do that here"
    screenshot(page, "forbidden")
    page.goto(f"{live_server}/nowhere")
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert accessibility_violations(page) == []
