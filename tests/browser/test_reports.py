"""The trustees' reports in a real browser, on the demo hub: a trustee opens Reports, reads the
dashboard and each report (charts then tables), picks another period, and writes commentary on
the board pack, which prints on one page and downloads as a PDF. axe-core checks every page;
screenshots are saved under var/screenshots/ for people to look at."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

TRUSTEE = ("trustee@hub.test", "trustee-demo-pass")


def _check(page: Any, name: str) -> None:
    assert accessibility_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth"), name
    screenshot(page, name)


def test_trustee_reads_the_dashboard_and_each_report(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *TRUSTEE)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Reports")
    # Every chart is an image with a name, followed by a table with a caption.
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 3
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.evaluate(
            "el => document.getElementById(el.getAttribute('aria-labelledby').split(' ')[0]).textContent"
        )
        following = chart.evaluate("el => el.closest('section').querySelector('table caption') !== null")
        assert following
    assert "Income (net of VAT)" in page.locator("main").inner_text()
    _check(page, "reports-dashboard-trustee")
    page.set_viewport_size({"width": 768, "height": 1000})
    _check(page, "reports-dashboard-768")
    page.set_viewport_size({"width": 1366, "height": 900})

    for name in ("Income by stream", "Aged debtors", "Room utilisation", "Community impact", "Café trading"):
        page.get_by_role("navigation", name="Reports").get_by_role(
            "link", name=name
        ).click() if page.get_by_role("navigation", name="Reports").count() else page.get_by_role(
            "link", name=name
        ).first.click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text().startswith(name)
        _check(page, "reports-" + re.sub(r"[^a-z]+", "-", name.lower()).strip("-"))

    # Another period: a month, by the picker.
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Income by stream").click()
    options = page.locator("#period option").all_inner_texts()
    month = next(text for text in options if re.fullmatch(r"[A-Z][a-z]+ \d{4}", text))
    page.get_by_label("Period", exact=True).select_option(label=month)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert month in page.get_by_role("heading", level=1).inner_text()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download “Income by stream")).click()
    body = download_info.value.path().read_bytes()
    assert body.startswith(b"\xef\xbb\xbfStream,")


def test_board_pack_commentary_prints_on_one_page_and_downloads_as_pdf(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *TRUSTEE)
    page.goto(f"{live_server}/reports")
    page.get_by_role("link", name="Board pack for this period").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Board pack")
    page.get_by_label("Summary for the board").fill("Room hire is up on last year; two debts need chasing.")
    page.get_by_label("Income", exact=True).fill("Café takings steady.")
    _check(page, "reports-board-pack")
    page.emulate_media(media="print")
    assert (
        page.locator("#mirror_summary").inner_text()
        == "Room hire is up on last year; two debts need chasing."
    )
    screenshot(page, "reports-board-pack-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)) == 1, "the print view takes more than one page"
    page.emulate_media(media="screen")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("board-pack-") and download.suggested_filename.endswith(
        ".pdf"
    )
    assert download.path().read_bytes().startswith(b"%PDF-")
