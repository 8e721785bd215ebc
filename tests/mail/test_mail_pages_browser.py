"""The forgot-password pages and the admin's Mail page in a real browser (the demo hub, which has
no mail server): someone asks for a link, the admin sees the message waiting; every page passes
axe-core's WCAG 2.1 AA checks under the Content-Security-Policy. Screenshots for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

from hub.demo import DEMO_LOGINS
from hub.models import Role
from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
RECEPTION = next(login for login in DEMO_LOGINS if login.role == Role.RECEPTIONIST)


def test_a_forgotten_password_link_is_asked_for_and_waits_in_the_outbox(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Forgot your password?"
    assert accessibility_violations(page) == []
    screenshot(page, "mail-forgot-password")
    page.get_by_label("Email address").fill(RECEPTION.email)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your email").wait_for()
    assert accessibility_violations(page) == []

    sign_in(page, live_server, ADMIN.email, ADMIN.password)
    page.get_by_role("link", name="Mail", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("No mail server is set (HUB_SMTP_URL): messages wait here.").is_visible()
    row = page.get_by_role("row").filter(has_text=RECEPTION.email)
    assert row.get_by_text("Waiting").is_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "mail-outbox")
    row.get_by_role("link", name="Reset your password for").click()
    page.wait_for_load_state()
    assert page.get_by_text("Not shown: this message holds a single-use link").is_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "mail-message")
