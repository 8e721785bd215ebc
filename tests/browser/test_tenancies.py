"""The tenancies pages in a real browser, as the hub manager uses them on the demo hub: she adds
an office (a mistake first, shown beside its field), writes a licence for it, activates it and
ends it with a date and a reason. A receptionist then reads the agreement with no form to change
it. axe-core checks every page; screenshots (1366 and 768 px wide) are saved for people to look at."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

ADMIN = ("admin@hub.test", "admin-demo-pass")
RECEPTION = ("reception@hub.test", "reception-demo-pass")
TENANT_ORGANISATION = "Harbour Art Group"
UNIT = "Studio 9"


def _check(page: Any, name: str) -> None:
    """No WCAG 2.1 AA violations, no sideways scroll, and a screenshot."""
    assert accessibility_violations(page) == [], name
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
    screenshot(page, name)


def _flash(page: Any) -> str:
    return str(page.locator(".flash").inner_text())


def test_admin_adds_a_unit_writes_an_agreement_activates_and_ends_it(page: Any, live_server: str) -> None:
    base = live_server
    sign_in(page, base, *ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenancies").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Tenancies"
    _check(page, "tenancies-list-admin")

    # A unit: a mistake first, shown beside its field, then put right.
    page.get_by_role("navigation", name="Tenancies").get_by_role("link", name="Units").click()
    page.wait_for_load_state()
    _check(page, "tenancies-units-admin")
    page.get_by_role("link", name="Add a unit").click()
    page.get_by_label("Name").fill(UNIT)
    page.get_by_label("Kind").select_option("office")
    page.get_by_label("Floor", exact=True).fill("1st")
    page.get_by_label("Floor area (m²)").fill("lots")
    page.get_by_label("Features").fill("window, sink, lockable")
    page.get_by_role("button", name="Add unit").click()
    page.wait_for_load_state()
    assert "as a number" in page.locator("#floor_area-error").inner_text()
    assert page.get_by_label("Name").input_value() == UNIT  # what was typed is kept
    _check(page, "tenancies-unit-error")
    page.get_by_label("Floor area (m²)").fill("14.5")
    page.get_by_role("button", name="Add unit").click()
    page.wait_for_load_state()
    assert f"{UNIT} was added." in _flash(page)
    assert "14.5 m²" in page.locator("dl.summary").inner_text()
    _check(page, "tenancies-unit-added")

    # The agreement: a licence for a year from the 1st of this month, quarterly, with a discount.
    today = date.today()
    start = today.replace(day=1)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    page.goto(f"{base}/tenancies")
    page.get_by_role("link", name="New agreement", exact=True).click()
    page.wait_for_load_state()
    page.get_by_label("Tenant organisation").select_option(label=TENANT_ORGANISATION)
    page.get_by_label("Kind of agreement").select_option("licence")
    page.get_by_label(re.compile(rf"^{UNIT} ·")).check()
    page.get_by_label("Permitted use").fill("Art studio and classes for the group's members")
    page.get_by_label("Start date").fill(start.isoformat())
    page.get_by_label("End date").fill(end.isoformat())
    page.get_by_label("Rent a year").fill("6,000")
    page.get_by_label("Service charge a year").fill("600")
    page.get_by_label("Billed").select_option("quarterly")
    page.get_by_label("Charity or community discount (%)").fill("20")
    page.get_by_label("Reason for the discount").fill("Community group rate")
    page.get_by_label("Deposit").fill("500")
    page.get_by_label("Meeting-room hours included each month").fill("2")
    _check(page, "tenancies-agreement-new")
    # An end before the start comes back beside the end date, with everything typed kept.
    page.get_by_label("End date").fill((start - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_load_state()
    assert page.locator("#end_date-error").is_visible()
    assert page.get_by_label(re.compile(rf"^{UNIT} ·")).is_checked()
    assert page.get_by_label("Rent a year").input_value() == "6,000"
    page.set_viewport_size({"width": 768, "height": 900})
    _check(page, "tenancies-agreement-new-error-768")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_label("End date").fill(end.isoformat())
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_load_state()
    assert "saved as a draft" in _flash(page)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert re.fullmatch(rf"AGR-\d+ · {TENANT_ORGANISATION}", heading), heading
    agreement_url = page.url
    terms = page.locator("dl.summary").first.inner_text()
    assert "£6,000.00" in terms and "20%: Community group rate" in terms and UNIT in terms
    _check(page, "tenancies-agreement-draft")

    page.get_by_role("button", name="Activate agreement").click()
    page.wait_for_load_state()
    assert "is active" in _flash(page)
    assert page.locator(".page-head .tag").inner_text() == "Active"
    page.set_viewport_size({"width": 768, "height": 900})
    _check(page, "tenancies-agreement-active-768")
    page.set_viewport_size({"width": 1366, "height": 900})

    # Ending: the date and the reason are both needed; a missing reason is shown beside it.
    ending = page.locator("#end")
    ending.locator("summary").click()
    ending.get_by_label("Last day of the agreement").fill(today.isoformat())
    ending.get_by_role("button", name="End agreement").click()
    page.wait_for_load_state()
    assert page.locator("#end_reason-error").is_visible()
    assert page.locator(".page-head .tag").inner_text() == "Active"
    _check(page, "tenancies-agreement-end-error")
    ending = page.locator("#end")
    ending.get_by_label("Why is it ending?").fill("The group has moved to the library")
    ending.get_by_role("button", name="End agreement").click()
    page.wait_for_load_state()
    assert "has ended" in _flash(page)
    assert page.locator(".page-head .tag").inner_text() == "Ended"
    assert "The group has moved to the library" in page.locator("dl.summary").first.inner_text()
    history = page.locator("table", has=page.locator("caption", has_text="Change history")).inner_text()
    assert "Ended AGR-" in history and "Activated AGR-" in history
    _check(page, "tenancies-agreement-ended")

    # The lists: the ended licence among all agreements, its unit let only to its last day.
    page.goto(f"{base}/tenancies?status=")
    assert page.get_by_role("link", name=heading.split(" · ")[0]).is_visible()
    _check(page, "tenancies-list-all")
    page.goto(f"{base}/tenancies/units")
    assert UNIT in page.locator("table").inner_text()
    _check(page, "tenancies-units-after")
    page.goto(f"{base}/tenancies/alerts")
    _check(page, "tenancies-alerts")

    # A receptionist reads the same agreement with nothing to change.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in(page, base, *RECEPTION)
    page.goto(agreement_url)
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.locator('form[action^="/tenancies"]').count() == 0
    _check(page, "tenancies-agreement-reception")
