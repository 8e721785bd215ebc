"""Data protection in a real browser, on the demo hub: the admin finds a contact by email, sees what
is held, and erases them with a reason and the address typed again. axe-core checks each page; the
Content-Security-Policy is on (any violation fails the test); screenshots go to var/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

ADMIN = ("admin@hub.test", "admin-demo-pass")
CONTACT = "camhs@lancscoast-nhs.test"  # Tom Whitehead, the CAMHS team's contact in the demo


def _check(page: Any, name: str) -> None:
    assert accessibility_violations(page) == [], name
    screenshot(page, name)


def test_admin_finds_a_contact_and_erases_them(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data protection").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Data protection"
    page.get_by_label("Email address").fill(CONTACT.upper())
    page.get_by_role("button", name="Find what is held").click()
    page.wait_for_load_state()
    held = page.locator("#held")
    assert held.get_by_role("row", name=re.compile(r"Contact on organisations\s+1")).count() == 1
    _check(page, "privacy-held")

    page.get_by_role("button", name="Erase").click()  # no reason: refused, said beside the field
    page.wait_for_load_state()
    assert "Error:" in page.locator("#reason-error").inner_text()
    page.get_by_role("textbox", name="Why").fill("Asked by email on 3 December 2026")
    page.get_by_label("Type the email address again to confirm").fill(CONTACT)
    page.get_by_role("button", name="Erase").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Person erased"
    assert re.search(r"They are now Erased person [0-9a-f]{10}", page.locator("main").inner_text())
    assert "six years" in page.locator("#kept").inner_text()
    _check(page, "privacy-erased")
