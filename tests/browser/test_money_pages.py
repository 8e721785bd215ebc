"""The money pages in a real browser, on the demo hub's invoices: a receptionist finds overdue
invoices, records a payment with the keyboard alone, credits an invoice, reads a statement and
the aged debt; a tenant sees only its own invoices and no staff actions. axe-core checks every
page; screenshots at 1280 and 1024 pixels wide are saved for people to look at."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in

pytestmark = pytest.mark.browser

RECEPTION = ("reception@hub.test", "reception-demo-pass")
TENANT = ("tenant@hub.test", "tenant-demo-pass")
TENANT_ORGANISATION = "Coastal Youth Trust"
STAFF_ACTIONS = ("/payments", "/credit-notes", "/refunds", "/issue", "/void")


def _pounds(text: str) -> int:
    """ "£1,234.50" → 123450."""
    match = re.search(r"(-?)£([\d,]+)\.(\d\d)", text)
    assert match, text
    pence = int(match.group(2).replace(",", "")) * 100 + int(match.group(3))
    return -pence if match.group(1) else pence


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _check(page: Any, name: str) -> None:
    """Every money page: no WCAG 2.1 AA violations, no sideways scroll, a screenshot."""
    assert accessibility_violations(page) == [], name
    _no_sideways_scroll(page)
    screenshot(page, name)


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has focus (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"never reached {selector} with Tab")


def _rows(page: Any) -> list[Any]:
    return page.locator("table.money-list tbody tr").all()


def test_receptionist_filters_overdue_and_records_a_payment_by_keyboard(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Invoices"
    _check(page, "money-invoices-reception")

    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    rows = _rows(page)
    assert rows, "the demo has overdue invoices"
    assert all("Overdue" in row.inner_text() for row in rows)
    _check(page, "money-invoices-overdue")

    issued = next(row for row in rows if "Part paid" not in row.inner_text())
    number = issued.locator("a").first.inner_text()
    issued.locator("a").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Invoice {number}")
    outstanding = _pounds(page.locator("#outstanding").inner_text())
    _check(page, "money-invoice-reception")

    # A wrong amount first: the error is shown beside the field and nothing is recorded.
    page.get_by_label("Amount received").fill("12.345")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_load_state()
    assert "no more than two digits after the point" in page.locator("#amount-error").inner_text()
    assert page.get_by_label("Amount received").get_attribute("aria-invalid") == "true"
    assert _pounds(page.locator("#outstanding").inner_text()) == outstanding
    _check(page, "money-invoice-payment-error")

    # Then by keyboard alone: Tab to the amount, type it, choose cash, Tab to the button, Enter.
    page.locator("#main").focus()
    _tab_to(page, "#amount")
    page.keyboard.press("Control+A")
    page.keyboard.type("10.00")
    _tab_to(page, "#method")
    page.keyboard.type("Cash")
    _tab_to(page, "#reference")
    page.keyboard.type("Receipt 5521")
    _tab_to(page, "#payment button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    flash = page.locator(".flash").inner_text()
    assert flash.startswith(f"Payment of £10.00 recorded against {number}.")
    assert _pounds(page.locator("#outstanding").inner_text()) == outstanding - 1_000
    assert "Part paid" in page.locator(".money-head-status").inner_text()
    payments = page.locator("table.money-payments").inner_text()
    assert "Cash" in payments and "Receipt 5521" in payments
    _check(page, "money-invoice-after-payment")


def test_receptionist_credits_part_of_an_invoice(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/invoices?status=issued&kind=invoice")
    row = _rows(page)[-1]
    number = row.locator("a").first.inner_text()
    row.locator("a").first.click()
    page.wait_for_load_state()
    page.locator("#credit > summary").click()
    _check(page, "money-invoice-credit-form")
    page.get_by_label("Why is it credited?").fill("One session was cancelled by the hub")
    page.locator("#line-1").fill("5")
    assert page.get_by_label("Part of some lines: enter the net amounts below").is_checked()
    page.get_by_role("button", name="Issue credit note").click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Credit note CN-")
    assert f"against {number}" in page.locator(".flash").inner_text()
    assert page.get_by_role("link", name=number).first.is_visible()
    _check(page, "money-credit-note")


def test_receptionist_reads_aged_debt_and_a_statement(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Aged debt").click()
    table = page.locator("table.money-debt")
    assert table.locator("caption").inner_text().startswith("Aged debt at ")
    rows = table.locator("tbody tr").all()
    balance_total = sum(_pounds(r.locator("td").last.inner_text()) for r in rows)
    assert _pounds(table.locator("tfoot td").last.inner_text()) == balance_total
    assert table.locator("td.num").first.evaluate("el => getComputedStyle(el).textAlign") == "right"
    _check(page, "money-aged-debt")

    rows[0].locator("a").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Statement")
    entries = page.locator("table.money-statement tbody tr").all()
    balance = _pounds(entries[0].locator("td").last.inner_text())  # the opening balance
    for entry in entries[1:]:
        cells = entry.locator("td").all_inner_texts()
        debit = _pounds(cells[4]) if cells[4].strip() else 0
        credit = _pounds(cells[5]) if cells[5].strip() else 0
        balance += debit - credit
        assert _pounds(cells[6]) == balance  # the running balance adds up, line by line
    assert _pounds(page.locator("#closing-balance").inner_text()) == balance
    _check(page, "money-statement-reception")


def test_charges_and_new_invoice_pages(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Charges").click()
    _check(page, "money-charges")
    page.locator("#add > summary").click()
    page.get_by_label("Amount before VAT").fill("-5")
    page.get_by_role("button", name="Add charge").click()
    page.wait_for_load_state()
    assert page.locator("#amount-error").is_visible()
    assert page.locator("#organisation-error").is_visible()
    _check(page, "money-charges-errors")

    page.goto(f"{live_server}/invoices/new")
    page.get_by_label("Organisation", exact=True).select_option(label="Active Coast Fitness Ltd")
    page.get_by_role("button", name="Show open charges").click()
    page.wait_for_load_state()
    _check(page, "money-new-invoice")


def test_tenant_sees_only_its_own_invoices_and_no_staff_actions(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *TENANT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    rows = _rows(page)
    assert rows
    assert all(row.locator("td").first.inner_text() == TENANT_ORGANISATION for row in rows)
    assert page.locator("#organisation_id").count() == 0
    assert page.get_by_role("link", name="New invoice").count() == 0
    _check(page, "money-invoices-tenant")

    rows[0].locator("a").first.click()
    page.wait_for_load_state()
    for action in STAFF_ACTIONS:
        assert page.locator(f'form[action$="{action}"]').count() == 0
    assert page.get_by_role("heading", name="Record a payment").count() == 0
    _check(page, "money-invoice-tenant")

    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    pdf = page.request.get(f"{live_server}{href}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.get_by_role("link", name=f"Statement for {TENANT_ORGANISATION}").click()
    page.wait_for_load_state()
    _check(page, "money-statement-tenant")
    assert page.request.get(f"{live_server}/debt").status == 403


@pytest.mark.parametrize("width", [1280, 1024])
@pytest.mark.parametrize("who", ["reception", "tenant"])
def test_money_pages_fit_the_screen(browser: Any, live_server: str, who: str, width: int) -> None:
    """Every money page a role can open, at desktop and tablet width: no sideways scroll, axe clean."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, *(RECEPTION if who == "reception" else TENANT))
        page.goto(f"{live_server}/invoices")
        first = _rows(page)[0].locator("a").first.get_attribute("href")
        paths = {"invoices": "/invoices", "invoice": first, "print": f"{first}/print"}
        page.goto(f"{live_server}{first}")
        paths["statement"] = page.get_by_role("link", name=re.compile("^Statement for")).get_attribute("href")
        if who == "reception":
            paths |= {"charges": "/charges", "debt": "/debt", "new": "/invoices/new"}
        for name, path in paths.items():
            page.goto(f"{live_server}{path}")
            _check(page, f"money-{name}-{who}-{width}")
    finally:
        context.close()


def test_receptionist_invoices_a_booking_from_the_desk(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/charges")
    row = page.locator("table.money-charges tbody tr", has=page.get_by_role("link", name="booking")).first
    gross = row.locator("td.num").nth(2).inner_text()
    row.get_by_role("link", name="booking").click()
    page.wait_for_load_state()
    booking_url = page.url
    charges = page.locator("#invoice table")
    assert "Waiting to be invoiced" in charges.inner_text()
    assert gross in charges.inner_text()
    page.get_by_role("button", name="Invoice this booking").click()
    page.wait_for_load_state()
    flash = page.locator(".flash").inner_text()
    issued = rf"Invoice INV-\d{{6}} for {re.escape(gross)} was issued for this room booking\."
    assert re.fullmatch(issued, flash)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Invoice INV-")
    _check(page, "money-invoice-from-booking")
    # Back on the booking, the desk sees where its charge went, and nothing is left to invoice.
    page.goto(booking_url)
    number = heading.split()[1]
    assert page.locator("#invoice table").get_by_role("link", name=number).is_visible()
    assert page.get_by_role("button", name="Invoice this booking").count() == 0
    _check(page, "desk-booking-invoiced")


def test_receptionist_opens_the_billing_run(page: Any, live_server: str) -> None:
    sign_in(page, live_server, *RECEPTION)
    page.goto(f"{live_server}/invoices")
    page.get_by_role("link", name="Monthly billing run").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Monthly billing run"
    _check(page, "money-billing-run")
    # A month the demo has already run (tenants' rent and service charges posted and invoiced three
    # months ago): the run finds nothing to post or invoice (and changes nothing other tests rely on).
    today = datetime.now(ZoneInfo("Europe/London")).date()
    month = date(today.year, today.month, 1)
    for _ in range(3):
        month = (month - timedelta(days=1)).replace(day=1)
    page.get_by_label("Month").fill(f"{month:%Y-%m}")
    page.get_by_role("button", name="Invoice the month").click()
    page.wait_for_load_state()
    assert "Nothing to invoice" in page.get_by_role("status").inner_text()
    _check(page, "money-billing-run-nothing")
