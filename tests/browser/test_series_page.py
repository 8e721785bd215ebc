"""A demo series in a real browser, as a receptionist manages it: the page shows the
organisation, the times as a range, the price of each occurrence and the total, and every
occurrence's state; the receptionist ends the series after a date and sees the later ones
cancelled. axe-core checks each page; screenshots at 1280 and 768 px for people to look at."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

RECEPTION = ("reception@hub.test", "reception-demo-pass")


def _a_series_with_a_future(page: Any, base: str) -> int:
    """The first demo series with at least three occurrences still to come."""
    for series_id in range(1, 30):
        response = page.goto(f"{base}/desk/series/{series_id}")
        if response is None or response.status != 200:
            continue
        today = date.today().isoformat()
        upcoming = page.locator('#occurrences tr[data-state="booked"]').evaluate_all(
            "rows => rows.map(r => r.dataset.date)"
        )
        if len([d for d in upcoming if d > today]) >= 3:
            return series_id
    raise AssertionError("no demo series has three occurrences to come")


def test_receptionist_reads_a_series_and_ends_it_after_a_date(page: Any, live_server: str) -> None:
    base = live_server
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, base, *RECEPTION)
    series_id = _a_series_with_a_future(page, base)

    summary = page.locator("dl.summary")
    assert summary.get_by_text("Organisation").is_visible()
    assert (
        page.locator("dl.summary dt", has_text="Organisation")
        .locator("xpath=..")
        .locator("dd a")
        .inner_text()
    )
    time_range = page.locator("[data-time-range]").inner_text()
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", time_range), time_range
    assert "minutes" not in summary.inner_text()
    assert re.fullmatch(r"£[\d,]+\.\d\d( to £[\d,]+\.\d\d)?", page.locator("[data-price-each]").inner_text())
    total = page.locator("[data-total]").inner_text()
    assert re.match(r"£[\d,]+\.\d\d for \d+ booked occurrences?", total), total
    states = page.locator("#occurrences tbody tr td:nth-child(4) strong").all_inner_texts()
    assert states and set(states) <= {"Booked", "Provisional hold", "Moved", "Cancelled", "Skipped"}
    # Each row's time is a range too.
    for cell in page.locator("#occurrences tbody tr td:nth-child(2)").all_inner_texts():
        assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", cell), cell
    assert accessibility_violations(page) == []
    screenshot(page, "series-page-1280")
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(page, "series-page-768")
    page.set_viewport_size({"width": 1280, "height": 800})

    # End it after the first occurrence still to come: the later booked ones are cancelled.
    today = date.today().isoformat()
    booked = page.locator('#occurrences tr[data-state="booked"]').evaluate_all(
        "rows => rows.map(r => r.dataset.date)"
    )
    future = sorted(d for d in booked if d > today)
    keep_until = future[0]
    later = [d for d in future if d > keep_until]
    page.get_by_text("End the series after a date").click()
    page.get_by_label("Last date to keep").fill(keep_until)
    page.get_by_label("Why does it end?").fill("The group has finished for the year")
    waive = page.locator("#waive_fee-end")
    if waive.count():
        waive.check()
    screenshot(page, "series-end-form-1280")
    page.get_by_role("button", name="End the series").click()
    page.wait_for_load_state()

    assert page.url.split("#")[0].endswith(f"/desk/series/{series_id}")
    flash = page.locator(".flash").inner_text()
    assert f"Cancelled {len(later)} occurrence" in flash, flash
    cancelled = page.locator('#occurrences tr[data-state="cancelled"]').evaluate_all(
        "rows => rows.map(r => r.dataset.date)"
    )
    assert set(later) <= set(cancelled)
    still = page.locator('#occurrences tr[data-state="booked"]').evaluate_all(
        "rows => rows.map(r => r.dataset.date)"
    )
    assert keep_until in still and not [d for d in still if d > keep_until]
    assert "The group has finished for the year" in page.locator("#occurrences").inner_text()
    assert accessibility_violations(page) == []
    screenshot(page, "series-ended-1280")
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(page, "series-ended-768")


def test_series_form_shows_only_the_chosen_frequencys_options(page: Any, live_server: str) -> None:
    base = live_server
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, base, *RECEPTION)
    page.goto(f"{base}/desk/series/new")
    weekly, monthly = page.locator("#weekly-options"), page.locator("#monthly-options")
    assert weekly.is_visible() and not monthly.is_visible()
    assert page.get_by_label("Every how many weeks?").is_visible()
    page.get_by_label("Monthly", exact=True).check()
    assert monthly.is_visible() and not weekly.is_visible()
    assert page.get_by_label("The same weekday (e.g. the 2nd Tuesday)").is_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "series-form-monthly-1280")
    page.set_viewport_size({"width": 768, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(page, "series-form-monthly-768")
    # Without JavaScript both show, each labelled with its frequency.
    context = page.context.browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 800}
    )
    plain = context.new_page()
    sign_in(plain, base, *RECEPTION)
    plain.goto(f"{base}/desk/series/new")
    assert plain.locator("#weekly-options").is_visible() and plain.locator("#monthly-options").is_visible()
    assert plain.get_by_text("If weekly").is_visible() and plain.get_by_text("If monthly").is_visible()
    context.close()
